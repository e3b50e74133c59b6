/*
 * exec.c — running one hook's job through remote-executor. Owns: the spawn
 * (posix_spawn with an argv, never a shell; its own process group; an
 * environment of PATH and HOME only; stdin /dev/null; only the descriptors
 * below passed), the hard deadline (SIGTERM then SIGKILL to the whole
 * group), capture of the output tail, reading the executor's JSON status
 * line, and what an outcome means for HTTP (200/500/502/503/504).
 *
 * The executor gets: 0 /dev/null; 1 and 2 a pipe each (the output tail,
 * and the live output with its stream, runner/liveout.h); 3
 * the status line's pipe; 4 a memfd holding the command (--command-fd 4);
 * 5, only when a passphrase is configured, a memfd holding it
 * (--passphrase-fd 5; the executor reads it, wipes it and closes it before
 * connecting). Neither the command nor the passphrase is ever in its argv
 * or environment, so /proc/PID/cmdline and environ show neither. It runs
 * with --posix-sh: /bin/sh on the target parses the command, whatever the
 * account's login shell. The runner never reads the SSH key: it passes the
 * identity's path.
 *
 * Deadlines: the executor ends the run at the job's timeout itself (and
 * exits within milliseconds); the runner's own deadline is a backstop a
 * quarter second later (SIGTERM, then SIGKILL half a second after that).
 */
#ifndef EXEC_H
#define EXEC_H
#include <stddef.h>
#include <stdint.h>

struct slots;
struct liveout_job;

struct exec_spec {
	struct slots *owner;       /* whose slots_interrupt_all stops it; may be NULL */
	const char *executor;      /* path of remote-executor */
	const char *destination;   /* user@host:port */
	const char *identity, *known_hosts;
	const char *passphrase;    /* or NULL; handed over in a memfd, never copied */
	const char *command;       /* rendered, quoted for POSIX sh */
	int64_t timeout_ms, connect_timeout_ms, handshake_timeout_ms;
	size_t max_output_bytes, tail_bytes;
	struct liveout_job *live;  /* where each chunk of output also goes; may be NULL */
};

struct exec_result {
	int has_status;            /* the executor wrote its status line */
	char phase[16], error[32], message[256], signal[32], hostkey[64];
	int has_exit, exit_code;
	uint64_t bytes_out, bytes_err;
	int truncated;
	int killed;                /* the runner's hard deadline had to kill it */
	int interrupted;           /* stopped by slots_interrupt_all (shutdown) */
	int unavailable;           /* the executor service could not be reached, or
				    * closed before taking the whole request: the
				    * job did not start (runner/xclient.c) */
	int wait_status;
	int64_t started_ms, finished_ms; /* unix ms */
	char *tail;                /* last tail_bytes of stdout+stderr, NUL-terminated */
	size_t tail_len;
};

/* Run SPEC to completion (blocking). 0 with RES filled, or -errno when the
 * executor could not be started at all (nor the memfds made for it). */
int exec_run(const struct exec_spec *spec, struct exec_result *res);
/* Free what RES holds (its tail) and zero it. */
void exec_result_clear(struct exec_result *res);

/* What a result means: HTTP status, the stored state ("succeeded", "failed",
 * "timeout", "interrupted": 503, the next delivery runs it again) and a
 * Retry-After in seconds (0: none). An unavailable executor service is 503
 * "failed" with a Retry-After: nothing ran. */
void exec_outcome(const struct exec_result *r, int *http_status, const char **state, int *retry_after);

/* The last CAP bytes of a job's output, stdout and stderr as they came
 * (exec_run reads them from two pipes; the service client from its frames). */
struct exec_tail {
	char *b;
	size_t cap, pos, total;
};
/* An empty tail keeping CAP bytes (0: none). 0 or -ENOMEM. */
int exec_tail_init(struct exec_tail *t, size_t cap);
/* Add N bytes at P (the oldest fall out past CAP). */
void exec_tail_put(struct exec_tail *t, const char *p, size_t n);
/* The kept bytes in order, NUL-terminated, malloc'ed (*LEN without the
 * NUL); NULL when out of memory. T keeps its bytes. */
char *exec_tail_take(struct exec_tail *t, size_t *len);
/* Free what T holds and zero it. */
void exec_tail_free(struct exec_tail *t);
/* Fill R's status fields (has_status, phase, error, message, signal,
 * hostkey, exit, byte counts, truncated) from LINE, the executor's JSON
 * status line (common/exstatus.h); LINE that is no JSON object leaves
 * has_status 0. */
void exec_parse_status(const char *line, struct exec_result *r);
#endif
