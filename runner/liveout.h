/*
 * liveout.c — the live output of the jobs this daemon runs, for
 * GET /jobs/<id>/output. Owns: the registry of running (and just finished)
 * jobs' output buffers, keyed by job id; one job's buffer (the bytes of
 * stdout and stderr in the order they came, each chunk tagged with its
 * stream and its byte offset from the start of the job's output); the
 * per-daemon follower cap; the wait a follower does for more bytes; and the
 * parse of a Last-Event-ID (an offset), the one untrusted input here.
 *
 * Both executor modes feed it the same way: exec.c (a spawned
 * remote-executor, one pipe per stream) and xclient.c (the service's `O` and
 * `E` frames) call liveout_put for each chunk they read, besides the tail.
 *
 * Followers pull: each one reads from the job's buffer at its own offset,
 * under the buffer's lock, and writes to its connection without it. The job
 * never waits for a follower: a put copies the bytes and wakes the waiters,
 * nothing more. A follower that falls behind by more than the buffer keeps
 * is told the range it missed (LIVEOUT_GAP) and goes on from the oldest
 * byte kept; it may also reconnect with the offset it has.
 *
 * Bounds: a job's buffer keeps at most KEEP bytes (the newest) in at most
 * LIVEOUT_CHUNKS_MAX chunks, and takes no byte past CAP (the hook's
 * max_output_bytes, what the executor relays at most). A finished job's
 * buffer stays for LIVEOUT_LINGER_MS (at most LIVEOUT_LINGER_MAX of them) so
 * a follower that reconnects just after the end resumes without repeats.
 *
 * Thread-safe. Errors are 0 or a negative errno.
 */
#ifndef LIVEOUT_H
#define LIVEOUT_H
#include <stddef.h>
#include <stdint.h>

#define LIVEOUT_KEEP_MAX   (1u << 20) /* bytes a job's buffer keeps at most */
#define LIVEOUT_CHUNKS_MAX 4096       /* chunks a job's buffer keeps at most */
#define LIVEOUT_LINGER_MS  10000      /* a finished job's buffer stays this long */
#define LIVEOUT_LINGER_MAX 64         /* finished buffers kept at most */
#define LIVEOUT_ID_MAX     20         /* digits of a Last-Event-ID (an offset) */

enum liveout_stream { LIVEOUT_STDOUT = 0, LIVEOUT_STDERR = 1 };

struct liveout;     /* the registry */
struct liveout_job; /* one job's buffer */

/* A registry admitting at most MAX_FOLLOWERS followers at a time (0: none).
 * 0 or -ENOMEM. */
int liveout_new(int max_followers, struct liveout **out);
/* Free LO and the buffers it holds (no job may still be feeding one, nor a
 * follower reading one). NULL is allowed. */
void liveout_free(struct liveout *lo);

/* A job starts: register a buffer for JOB_ID keeping KEEP bytes (0 or more
 * than LIVEOUT_KEEP_MAX: LIVEOUT_KEEP_MAX) and taking at most CAP bytes
 * (0: no cap). A buffer left from an earlier attempt of the same id is
 * replaced. LO may be NULL: *OUT is then NULL and 0 is returned (no live
 * output). -ENOMEM. */
int liveout_begin(struct liveout *lo, int64_t job_id, size_t keep, size_t cap,
    struct liveout_job **out);
/* N bytes at P of STREAM, in the order they came. Bytes past the cap are
 * counted as dropped, not kept. J may be NULL (nothing done). Out of memory
 * drops the chunk (counted). */
void liveout_put(struct liveout_job *j, enum liveout_stream stream, const char *p, size_t n);
/* The job has ended and its outcome is recorded: followers see the end
 * once they have read every byte. The registry keeps the buffer for the
 * linger; the caller's reference is gone. J may be NULL. */
void liveout_end(struct liveout *lo, struct liveout_job *j);

/* A follower arrives: 0, or -EBUSY at the cap. Pair with liveout_leave. */
int liveout_join(struct liveout *lo);
void liveout_leave(struct liveout *lo);
/* Followers now (for tests and /metrics). */
int liveout_followers(struct liveout *lo);

/* JOB_ID's buffer with a reference (liveout_unref), or NULL when this
 * daemon has none (not running here, or finished past the linger). */
struct liveout_job *liveout_find(struct liveout *lo, int64_t job_id);
void liveout_unref(struct liveout *lo, struct liveout_job *j);

enum liveout_got {
	LIVEOUT_DATA, /* bytes [off, off + len) of one stream are in BUF */
	LIVEOUT_GAP,  /* [off, next) is no longer kept: go on at next */
	LIVEOUT_IDLE, /* nothing new within the wait */
	LIVEOUT_END,  /* the job ended and every byte before off was read */
};
struct liveout_chunk {
	enum liveout_got got;
	enum liveout_stream stream;
	uint64_t off, next;   /* next: where the following read starts */
	size_t len;
};
/* What J holds at offset OFF, at most CAP bytes into BUF; waits up to
 * WAIT_MS (0: not at all) when there is nothing yet. 0 with C filled, or
 * -ERANGE when OFF is past every byte the job has written. */
int liveout_next(struct liveout_job *j, uint64_t off, int wait_ms, char *buf, size_t cap,
    struct liveout_chunk *c);
/* Totals of J: bytes written (kept or not, within the cap), bytes dropped
 * past the cap, and whether it ended. */
void liveout_totals(struct liveout_job *j, uint64_t *written, uint64_t *dropped, int *ended);

/* Parse a Last-Event-ID: 1 to LIVEOUT_ID_MAX ASCII digits, no sign, no
 * space, at most INT64_MAX. 0 with *OFF, or -EINVAL. S may be NULL
 * (-EINVAL). */
int liveout_parse_offset(const char *s, uint64_t *off);
#endif
