/*
 * svcjob.c — one client connection of the executor service: read its
 * request (common/xproto.h, bounded in size and time), check it against
 * the config (the identity exists and may reach the destination: else
 * "refused", before any network work), run it on a warm or a new
 * connection (pool.c, conn.c, chan.c) with its output streamed back as
 * frames, write the status line as the final frame, and log one line.
 * Owns the retry rule: a run on a warm connection that broke before its
 * exec request went out is run once more on a new connection; once the
 * exec request was issued, never.
 */
#ifndef SVCJOB_H
#define SVCJOB_H
#include <stdint.h>
#include <sys/types.h>

#include "../common/exstatus.h"
#include "pool.h"
#include "svccfg.h"

#define SVCJOB_REQUEST_MS 10000 /* a client has this long to send its whole request */

/* Counters, updated atomically by every job thread. */
struct svcjob_counters {
	uint64_t jobs;          /* run requests read and checked */
	uint64_t done;          /* runs whose command ended and reported (phase done) */
	uint64_t failed;        /* runs that ended with an error kind */
	uint64_t refused;       /* identity unknown or destination not allowed */
	uint64_t refused_peers; /* clients whose uid is not in allowed_uids */
	uint64_t busy;          /* answered busy (max_jobs, draining) */
	uint64_t bad_requests;  /* requests that could not be read */
	uint64_t retries;       /* warm connection broke before exec: run again on a new one */
	uint64_t stats;         /* stats requests */
	uint64_t running;       /* jobs in progress now */
};

struct svcjob_env {
	const struct svccfg *cfg;
	struct pool *pool;
	struct svcjob_counters *n;
};

/* Serve the client on FD (non-blocking; its uid UID already allowed) to
 * the end, then close FD. */
void svcjob_serve(const struct svcjob_env *env, int fd, uid_t uid);

/* Answer the client on FD at once, without reading its request: the
 * header and a status frame with error E and MSG, within a short deadline;
 * then close FD. */
void svcjob_answer(int fd, enum exstatus_error e, const char *msg);
#endif
