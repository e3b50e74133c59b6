/*
 * status.c — the executor's machine-readable outcome. Owns the record filled
 * in as the run advances (phase reached, error kind, exit code or signal,
 * byte counts, per-phase timings, host key) and its one-line JSON form,
 * written once to the descriptor named by --status-fd.
 *
 * Line format (one JSON object, newline-terminated, keys always present):
 *  {"v":1,"phase":"done","error":null,"message":null,"exit":0,"signal":null,
 *   "bytes_out":12,"bytes_err":0,"truncated":false,"user":"u","host":"h",
 *   "port":22,"hostkey_type":"ssh-ed25519","hostkey":"SHA256:…",
 *   "ms":{"connect":1,"handshake":4,"auth":9,"exec":20,"total":35}}
 * phase: the furthest phase entered: connect, handshake, hostkey, auth, exec,
 *        done ("done" only when the remote command finished and its status
 *        was read).
 * error: null, or one of the STATUS_E* names below.
 * exit:  remote exit status, or null (no status: local failure or signal).
 * signal: remote signal name without "SIG" ("KILL"), or null.
 */
#ifndef STATUS_H
#define STATUS_H
#include <stddef.h>
#include <stdint.h>

enum status_phase { PH_START, PH_CONNECT, PH_HANDSHAKE, PH_HOSTKEY, PH_AUTH, PH_EXEC, PH_DONE };

enum status_error {
	STATUS_OK = 0,
	STATUS_ERESOLVE,          /* "resolve": host name does not resolve */
	STATUS_ECONNREFUSED,      /* "connect_refused" */
	STATUS_ECONNTIMEOUT,      /* "connect_timeout" */
	STATUS_ECONNECT,          /* "connect": other connect errors (unreachable…) */
	STATUS_EHANDSHAKE,        /* "handshake": SSH protocol/kex failure */
	STATUS_EHANDSHAKETIMEOUT, /* "handshake_timeout": peer silent or slow */
	STATUS_EHOSTUNKNOWN,      /* "hostkey_unknown": no key of this type known */
	STATUS_EHOSTCHANGED,      /* "hostkey_changed": known key differs */
	STATUS_EHOSTREVOKED,      /* "hostkey_revoked": key marked @revoked */
	STATUS_EKNOWNHOSTS,       /* "known_hosts": file unreadable */
	STATUS_EIDENTITY,         /* "identity": key unreadable, bad passphrase */
	STATUS_EAUTH,             /* "auth": server refused every key */
	STATUS_EEXEC,             /* "exec": channel or exec request refused */
	STATUS_ETIMEOUT,          /* "timeout": overall --timeout expired */
	STATUS_EKEEPALIVE,        /* "keepalive": peer stopped answering */
	STATUS_EIO,               /* "io": connection lost mid-run */
	STATUS_ETERMINATED,       /* "terminated": SIGTERM/SIGINT/SIGHUP received */
	STATUS_EINTERNAL,         /* "internal": out of memory, library misuse */
};

struct status {
	enum status_phase phase;
	enum status_error error;
	char message[256];
	int has_exit;
	int exit_code;
	char signal[32];
	uint64_t bytes_out, bytes_err;
	int truncated;
	const char *user, *host;
	int port;
	char hostkey_type[32];
	char hostkey[64];
	int64_t t_start, t_phase[PH_DONE + 1]; /* ms timestamps when each phase began */
	int64_t t_end;
};

/* Milliseconds on the monotonic clock. */
int64_t status_now_ms(void);
void status_init(struct status *st, const char *user, const char *host, int port);
/* Enter PHASE (records its start time). */
void status_phase(struct status *st, enum status_phase ph);
/* Record the failure (first one wins) with a printf-style message. */
void status_fail(struct status *st, enum status_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *status_error_name(enum status_error e);
const char *status_phase_name(enum status_phase ph);
/* Render the record as one JSON line into BUF; returns its length or -ENOSPC. */
int status_format(const struct status *st, char *buf, size_t len);
/* Write the line to FD (retrying short writes); 0 or -errno. */
int status_write(const struct status *st, int fd);
#endif
