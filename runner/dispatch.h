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

struct slots;

/* Render H's command for a delivery (BODY of LEN bytes, NUL-terminated at
 * LEN; CLAIMS may be NULL). -EINVAL with a message for the sender in ERR
 * (answered 422: bad JSON, a missing or invalid parameter), -ENOMEM. */
int dispatch_prepare(const struct cfg_hook *h, const char *body, size_t len, const cJSON *claims,
    const struct hdr_src *hs, char **command, char *err, size_t errlen);

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
