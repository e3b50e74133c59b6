/*
 * dispatch.c — the one job path, shared by the HTTP pipeline, the async
 * workers and `webhook-runner replay`: prepare (parse the payload the
 * template needs, render the command) and run (spawn through exec.c, map the
 * outcome, record it in the store, count it, log the job's lifecycle). The
 * caller owns the concurrency slot and the claim; dispatch never answers HTTP.
 */
#ifndef DISPATCH_H
#define DISPATCH_H
#include <stdint.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "hdr.h"
#include "store.h"
#include "template.h"

struct slots;

/* Render H's command for a delivery (BODY of LEN bytes, NUL-terminated at
 * LEN; CLAIMS may be NULL). -EINVAL with a message for the sender in ERR
 * (answered 422: bad JSON, a missing or invalid parameter), -ENOMEM. */
int dispatch_prepare(const struct cfg_hook *h, const char *body, size_t len, const cJSON *claims,
    const struct hdr_src *hs, char **command, char *err, size_t errlen);

/* As dispatch_prepare, and also every parameter's name and value as the
 * command gets them (*PARAMS, *NPARAMS; tmpl_values_free): what an
 * approver is shown. */
int dispatch_preview(const struct cfg_hook *h, const char *body, size_t len, const cJSON *claims,
    const struct hdr_src *hs, char **command, struct tmpl_value **params, size_t *nparams,
    char *err, size_t errlen);

struct dispatch_answer {
	int http;
	int retry_after; /* seconds, 0: none */
	char *body;      /* the JSON answer, as stored for replays; malloc'ed */
};

/* Run attempt JOB_ID (number ATTEMPT) of H with COMMAND; record, count and
 * log it. SLOTS (may be NULL) is whose shutdown interrupts it. REQUEST_ID
 * ties the log lines to the request (or "replay"…).
 * 0 with ANS filled (the caller frees ans->body), or -ENOMEM. */
int dispatch_run(const struct config *cfg, struct store *st, struct slots *slots,
    const struct cfg_hook *h, int64_t job_id, int attempt, const char *command, const char *request_id,
    struct dispatch_answer *ans);

/* A job of a hook with an approval that has just finished (recorded), for
 * the listener below. Valid during the call only. */
struct dispatch_finished {
	const char *hook;
	int64_t job_id;
	const char *state;    /* the job state's name */
	int exit_code;        /* -1 when none */
	int64_t duration_ms;
	const char *tail;     /* the output's last bytes, or NULL */
	size_t tail_len;
};
typedef void (*dispatch_finished_fn)(void *ctx, const struct dispatch_finished *f);
/* The one listener told of every finished job of a hook with an approval,
 * on the job's thread, after its outcome is recorded (the Slack side posts
 * the outcome in the approval message's thread). It must not block. Set
 * once at start-up before any job runs; NULL: none. */
void dispatch_on_finish(dispatch_finished_fn fn, void *ctx);

struct liveout;
/* Where jobs' live output goes (runner/liveout.h, GET /jobs/<id>/output):
 * each job of a hook with response_output gets a buffer there while it
 * runs, ended after its outcome is recorded. Set once at start-up before
 * any job runs; NULL (the default, and `replay`): none. */
void dispatch_use_liveout(struct liveout *lo);

/* A stored delivery's metadata ({"headers":{…},"claims":{…}}) as a header
 * source (case-insensitive) and claims, for re-running it. */
struct dispatch_meta {
	cJSON *root;
	const cJSON *claims;
	struct hdr_src headers;
};
int dispatch_meta_parse(const char *json, struct dispatch_meta *m);
/* A copy of verified CLAIMS to store in that metadata, its numbers written so
 * they read back exactly (cJSON prints 15 digits when they are merely close,
 * and an infinity as null), so that a replay or an async worker renders the
 * command the request was validated with. 0 or -ENOMEM. */
int dispatch_meta_claims(const cJSON *claims, cJSON **out);
void dispatch_meta_clear(struct dispatch_meta *m);
#endif
