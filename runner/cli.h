/*
 * cli.c — the operator's subcommands on the job history:
 *
 *   webhook-runner jobs list (--config FILE | --store PATH) [--failed]
 *                            [--hook H] [--limit N] [--json]
 *   webhook-runner jobs show ID (--config FILE | --store PATH) [--json]
 *   webhook-runner jobs follow ID --token REF [--url URL]   (cli_follow.h)
 *   webhook-runner replay ID --config FILE
 *
 * `jobs list` prints the newest jobs (default 50, at most 10000) as a table
 * (id, hook, key, attempt, state, exit, http status, started, duration) or,
 * with --json, one JSON object per line, in the vocabulary of GET /jobs/<id>
 * (jobjson.h: job_id, hook, key, attempt, status, …; null where a value is
 * missing). --failed keeps failed, timeout and
 * interrupted attempts. `jobs show` prints one job: state, timings,
 * exit/signal/error, http status, every attempt of its (hook, key), its
 * stored answer and output tail. Both only read, and work against a running
 * daemon's store (WAL: readers never block the daemon) or a stopped one's;
 * they need read-write access to the file as SQLite's WAL mode does, and
 * never create a store that is not there. --config takes the store path from
 * the config, which is loaded in full (its secret references must resolve:
 * run as the service would, or use --store).
 *
 * `replay` is the dead-letter workflow: fix the config (or the target), then
 * re-run a job's stored delivery as a new attempt, through the same job path
 * as a request (dispatch.h) and under the hook's CURRENT definition in FILE.
 * Order: the job, its hook in FILE (gone: error), its stored delivery and
 * metadata, dispatch_prepare — all BEFORE anything is written, so a delivery
 * the current template refuses (the 422 of a request) records nothing —
 * then store_claim_again(…, "running") (BUSY while an attempt of the same
 * key is queued or running: nothing runs) and dispatch_run, which records
 * the outcome. It replays whatever the last outcome was, success included:
 * it is an explicit operator action. The answer JSON (as a request would
 * get it) goes to stdout; dispatch's log lines go to stderr in the config's
 * log format. The job runs in this process, outside the daemon's
 * concurrency caps; SIGINT/SIGTERM/SIGHUP are held while it runs (it is
 * bounded by the hook's timeout) so its attempt is always recorded, never
 * left "running".
 *
 * Exit status: 0 done (replay: the job answered 200); 1 a failure (unknown
 * job, store or config error, BUSY, hook gone, replay answered non-200);
 * 2 bad arguments, with a one-line message on stderr.
 */
#ifndef CLI_H
#define CLI_H
#include <stddef.h>
#include <stdint.h>

struct config;
struct store;

/* Entry points; ARGV[0] is "jobs" / "replay". Return the exit status. */
int cli_jobs_main(int argc, char **argv);
int cli_replay_main(int argc, char **argv);

/* For the subcommands on the store (here and cli_approvals.c):
 * "webhook-runner CMD: MSG" on stderr, returning CODE. */
int cli_say(int code, const char *cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Load CONFIG (when non-NULL) and open the store it or STORE names (exactly
 * one of them; NEED_CONFIG: CONFIG it must be), never creating a store and
 * never marking jobs interrupted (a daemon may be running on it). 0 with
 * *CFG (NULL without CONFIG) and *ST, or the exit status after a message. */
int cli_open_store(const char *cmd, const char *config, const char *store, int need_config,
    struct config **cfg, struct store **st);
/* Stored text made safe for a terminal: control bytes become '?' (KEEP_NL:
 * newlines and tabs stay). Writes at most CAP-1 bytes of S (NULL: ""). */
void cli_safe(const char *s, char *dst, size_t cap, int keep_nl);
/* MS (Unix ms) as local "YYYY-MM-DD HH:MM:SS", "-" when <= 0. */
void cli_fmt_time(int64_t ms, char *buf, size_t len);
#endif
