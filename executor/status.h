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
 * error: null, or the name of one of common/exstatus.h's error kinds.
 * exit:  remote exit status, or null (no status: local failure or signal).
 * signal: remote signal name without "SIG" ("KILL"), or null.
 */
#ifndef STATUS_H
#define STATUS_H
#include <stddef.h>
#include <stdint.h>

#include "../common/exstatus.h"

struct status {
	enum exstatus_phase phase;
	enum exstatus_error error;
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
	int64_t t_start, t_phase[EXSTATUS_PH_DONE + 1]; /* ms timestamps when each phase began */
	int64_t t_end;
};

/* Start the record of a run as USER at HOST:PORT, its total clock at now. */
void status_init(struct status *st, const char *user, const char *host, int port);
/* Enter PHASE (records its start time). */
void status_phase(struct status *st, enum exstatus_phase ph);
/* Record the failure (first one wins) with a printf-style message. */
void status_fail(struct status *st, enum exstatus_error e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Render the record as one JSON line into BUF; returns its length or -ENOSPC. */
int status_format(const struct status *st, char *buf, size_t len);
/* Write the line to FD (retrying short writes); 0 or -errno. */
int status_write(const struct status *st, int fd);
#endif
