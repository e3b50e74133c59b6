/*
 * intake.c — the webhook request pipeline, free of any HTTP library: caps,
 * signature, JWT, idempotency key, parameters and template, claim, then run
 * (sync hooks), queue (async hooks) or ask for approval (a hook with an
 * approval: claimed "pending_approval" and answered 202 as an async job;
 * a copy of its delivery while it waits gets the same 202). Every step rejects early: nothing
 * untrusted reaches a later step unverified, and nothing is recorded for a
 * request that fails verification. Sync hooks hold their thread for the job;
 * the job runs to the end even when the client goes away (the outcome is
 * stored for the replay).
 *
 * Also owns the two structs every route speaks: the request as the HTTP
 * adapter frames it (struct intake_req) and the answer a route fills (struct
 * intake_answer), which the adapter writes and logs.
 */
#ifndef INTAKE_H
#define INTAKE_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cfggen.h"
#include "config.h"
#include "hdr.h"
#include "store.h"

#define INTAKE_KEY_MAX 200 /* longest idempotency key taken */

struct queue;
struct slots;
struct slackob;
struct liveout;

/* What every request runs against; the adapter owns it. */
struct intake_env {
	struct cfggen *gens;     /* the config in force, one reference per request */
	struct store *store;
	struct slots *slots;     /* the concurrency caps, and whether draining */
	struct queue *queue;     /* where async hooks' jobs go */
	int64_t started_ms;      /* monotonic ms at start, for the uptime */
	time_t tls_not_after;    /* the served certificate's expiry; 0 without TLS */
	struct slackob *slack;   /* the Slack poster (slack_outbox.h), or NULL without Slack */
	struct liveout *live;    /* jobs' live output (liveout.h), or NULL: none */
};

struct intake_header {
	const char *name, *value;
};

/* Reads up to LEN body bytes into BUF: how many (> 0), 0 at the end, < 0 on
 * a read error. */
typedef int (*intake_read_fn)(void *io, char *buf, size_t len);
/* Tells a client that waits for it ("Expect: 100-continue") to send the body. */
typedef void (*intake_continue_fn)(void *io);
/* Writes LEN bytes of BUF to the client (a streamed answer): 0, or -1 when
 * the client is gone or did not read within the request timeout. */
typedef int (*intake_write_fn)(void *io, const char *buf, size_t len);

/* One request, as framed by the adapter. Every string stays valid for the
 * whole request. */
struct intake_req {
	const char *method;
	const char *path;          /* the decoded path, without the query string */
	const char *query;         /* the raw query string, or NULL */
	const struct intake_header *headers; /* as received, in order */
	int nheaders;
	long long content_length;  /* -1 when the request does not say */
	intake_read_fn read;       /* the body, read once, only when needed */
	intake_continue_fn go_ahead;
	intake_write_fn write;     /* for a route that streams its answer itself */
	void *io;                  /* for READ, GO_AHEAD and WRITE */
	const char *remote_addr;
	const char *id;            /* the request id: 16 hex digits */
	int draining;              /* the server is shutting down */
};

/* What a route answers, and what the request's log line says about it. */
struct intake_answer {
	int status;
	char extra[160];          /* more header lines ("Name: value\r\n"…), or "" */
	char *body;               /* malloc'ed; NULL when out of memory */
	size_t len;               /* BODY's length */
	const char *content_type; /* NULL: application/json */
	int close;                /* close the connection after the answer */
	int body_read;            /* the request body was read to its end */
	int unlogged;             /* counted but no log line, connection left as is */
	int streamed;             /* the route wrote status, headers and body itself
				   * (through the request's WRITE); the adapter only
				   * logs it and closes the connection */
	char hook[65];            /* the hook for the log and /metrics; "" none */
	int uncounted_hook;       /* the hook goes to the log, never into /metrics labels */
	const char *verify;       /* "ok", or the failed step and its reason */
	const char *decision;     /* idempotency: new, retry, busy, replay, mismatch, refused */
	char same_body_as[256];  /* the key of the delivery this body repeats, or "" */
	char key[INTAKE_KEY_MAX + 1]; /* the idempotency key, or "" */
	int64_t job_id;
};

/* Run the pipeline for request RQ to hook H of CFG (H found and
 * the server not draining: the route saw to both) and fill A (initialized by
 * the caller). The body is read through RQ->read only once the headers
 * cannot refuse the request. Always fills A. */
void intake_hook(const struct intake_env *env, const struct config *cfg, const struct cfg_hook *h,
    const struct intake_req *rq, struct intake_answer *a);

/* The value of header NAME in RQ (case-insensitive, the first one wins), or
 * NULL. */
const char *intake_header(const struct intake_req *rq, const char *name);
/* A header source over RQ's headers, as intake_header reads them. */
struct hdr_src intake_hdr_src(const struct intake_req *rq);

/* An empty answer (status 0, nothing to log). */
void intake_answer_init(struct intake_answer *a);
/* Answer STATUS with a copy of BODY (JSON unless a->content_type says) and
 * EXTRA header lines (or NULL). */
void intake_answer_set(struct intake_answer *a, int status, const char *extra, const char *body);
/* Answer STATUS with the JSON error body {"error": MSG, "request_id": …}. */
void intake_answer_fail(struct intake_answer *a, const struct intake_req *rq, int status,
    const char *extra, const char *msg);
/* Record the hook the answer belongs to (NULL: none). */
void intake_answer_hook(struct intake_answer *a, const char *hook);
/* Free what the answer holds. */
void intake_answer_clear(struct intake_answer *a);
#endif
