/*
 * jobjson.c — a job as JSON, in the one vocabulary the HTTP answers, GET
 * /jobs/<id> and `webhook-runner jobs list|show --json` share. Owns the
 * names of the fields and their order:
 *
 *   job_id, hook, key, attempt, status, exit_code, signal, error, message,
 *   http_status, created_ms, started_ms, finished_ms, duration_ms,
 *   response, output_tail, request_id
 *
 * and, for a job of a hook with an approval, "approval": { approval_id,
 * state, required, approvals, requester, created_ms, expires_ms,
 * decided_by, decided_ms, reason, votes: [{ voter, source, decision,
 * reason, at_ms }] } (jobjson_add_approval).
 *
 * Each caller says which of them it shows (flags; job_id, hook, attempt and
 * status are always there) and whether a field without a value is left out
 * (the HTTP answers) or null (the CLI: every row has every column).
 */
#ifndef JOBJSON_H
#define JOBJSON_H
#include <stdint.h>

#include <cjson/cJSON.h>

#include "store.h"

enum jobjson_flags {
	JOBJSON_KEY      = 1 << 0, /* "key", the idempotency key */
	JOBJSON_RECORD   = 1 << 1, /* "http_status", "created_ms", "started_ms", "finished_ms" */
	JOBJSON_DURATION = 1 << 2, /* "duration_ms" from started_ms and finished_ms */
	JOBJSON_RESPONSE = 1 << 3, /* "response", the stored answer: as JSON when it is JSON */
	JOBJSON_TAIL     = 1 << 4, /* "output_tail" */
	JOBJSON_EXIT     = 1 << 5, /* "exit_code" always: null without one. Otherwise only a
				    * finished job's exit code is shown */
	JOBJSON_NULLS    = 1 << 6, /* every field shown is there, null without a value
				    * (implies JOBJSON_EXIT) */
};

/* What the answer of an attempt just run adds to its row. */
struct jobjson_outcome {
	const char *message;    /* "message" after "error"; NULL: none */
	int has_duration;       /* "duration_ms" is DURATION_MS, as measured */
	int64_t duration_ms;
	const char *request_id; /* "request_id", last; NULL: none */
};

/* Job J as a JSON object with the fields FLAGS (enum jobjson_flags) asks
 * for, plus OUTCOME's (may be NULL). J's strings are read as they are:
 * exit_code < 0, started_ms, finished_ms or http_status <= 0, an empty
 * signal or error, a NULL response or output_tail: no value. 0 with *OUT
 * the caller's (cJSON_Delete), or -ENOMEM. */
int jobjson_build(const struct store_job *j, unsigned flags, const struct jobjson_outcome *outcome,
    cJSON **out);
/* The same, printed without spaces: *OUT is malloc'ed. 0 or -ENOMEM. */
int jobjson_print(const struct store_job *j, unsigned flags, const struct jobjson_outcome *outcome,
    char **out);

/* Add A as "approval" to the job object O (as above; NULLS: fields
 * without a value are null rather than left out). 0 or -ENOMEM (O is then
 * as it was). */
int jobjson_add_approval(cJSON *o, const struct store_approval *a, int nulls);
#endif
