/*
 * jobjson.c — one job as JSON (contract in jobjson.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "jobjson.h"

/* The object being built, and whether every member made it in. */
struct obj {
	cJSON *o;
	int nulls;
	int failed;
};

static void put(struct obj *b, const char *name, cJSON *v)
{
	if (!v || !cJSON_AddItemToObject(b->o, name, v)) {
		cJSON_Delete(v);
		b->failed = 1;
	}
}

static void put_num(struct obj *b, const char *name, double v)
{
	put(b, name, cJSON_CreateNumber(v));
}

static void put_str(struct obj *b, const char *name, const char *v)
{
	put(b, name, cJSON_CreateString(v));
}

/* NAME with V when HAVE; otherwise null or nothing, as the caller asked. */
static void opt_num(struct obj *b, const char *name, double v, int have)
{
	if (have)
		put_num(b, name, v);
	else if (b->nulls)
		put(b, name, cJSON_CreateNull());
}

static void opt_str(struct obj *b, const char *name, const char *v)
{
	if (v && *v)
		put_str(b, name, v);
	else if (b->nulls)
		put(b, name, cJSON_CreateNull());
}

/* The run's length from the row; -1 when it cannot be told. */
static int64_t row_duration(const struct store_job *j)
{
	return j->started_ms > 0 && j->finished_ms >= j->started_ms ? j->finished_ms - j->started_ms : -1;
}

int jobjson_build(const struct store_job *j, unsigned flags, const struct jobjson_outcome *oc,
    cJSON **out)
{
	struct obj b = { cJSON_CreateObject(), !!(flags & JOBJSON_NULLS), 0 };
	int always_exit = !!(flags & (JOBJSON_EXIT | JOBJSON_NULLS));
	int64_t d;
	cJSON *resp;

	if (!b.o)
		return -ENOMEM;
	put_num(&b, "job_id", (double)j->id);
	put_str(&b, "hook", j->hook);
	if (flags & JOBJSON_KEY)
		put_str(&b, "key", j->key);
	put_num(&b, "attempt", j->attempt);
	put_str(&b, "status", jobstate_name(j->state));
	if (j->exit_code >= 0 && (j->finished_ms || always_exit))
		put_num(&b, "exit_code", j->exit_code);
	else if (always_exit)
		put(&b, "exit_code", cJSON_CreateNull());
	opt_str(&b, "signal", j->signal);
	opt_str(&b, "error", j->error);
	if (oc && oc->message)
		put_str(&b, "message", oc->message);
	if (flags & JOBJSON_RECORD) {
		opt_num(&b, "http_status", j->http_status, j->http_status > 0);
		put_num(&b, "created_ms", (double)j->created_ms);
		opt_num(&b, "started_ms", (double)j->started_ms, j->started_ms > 0);
		opt_num(&b, "finished_ms", (double)j->finished_ms, j->finished_ms > 0);
	}
	if (oc && oc->has_duration) {
		put_num(&b, "duration_ms", (double)oc->duration_ms);
	} else if (flags & JOBJSON_DURATION) {
		d = row_duration(j);
		opt_num(&b, "duration_ms", (double)d, d >= 0);
	}
	if (flags & JOBJSON_RESPONSE) {
		/* the answer as the sender got it: JSON when it is JSON */
		if (j->response && (resp = cJSON_Parse(j->response)))
			put(&b, "response", resp);
		else
			opt_str(&b, "response", j->response);
	}
	if (flags & JOBJSON_TAIL) {
		if (j->output_tail)
			put_str(&b, "output_tail", j->output_tail);
		else if (b.nulls)
			put(&b, "output_tail", cJSON_CreateNull());
	}
	if (oc && oc->request_id)
		put_str(&b, "request_id", oc->request_id);
	if (b.failed) {
		cJSON_Delete(b.o);
		return -ENOMEM;
	}
	*out = b.o;
	return 0;
}

int jobjson_print(const struct store_job *j, unsigned flags, const struct jobjson_outcome *oc,
    char **out)
{
	cJSON *o = NULL;
	char *s;
	int rc;

	if ((rc = jobjson_build(j, flags, oc, &o)) != 0)
		return rc;
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

int jobjson_add_approval(cJSON *o, const struct store_approval *a, int nulls)
{
	struct obj b = { cJSON_CreateObject(), nulls, 0 };
	cJSON *votes;
	size_t i;

	if (!b.o)
		return -ENOMEM;
	put_str(&b, "approval_id", a->id);
	put_str(&b, "state", store_approval_state_name(a->state));
	put_num(&b, "required", a->required);
	put_num(&b, "approvals", a->approvals);
	opt_str(&b, "requester", a->requester);
	put_num(&b, "created_ms", (double)a->created_ms);
	put_num(&b, "expires_ms", (double)a->expires_ms);
	opt_str(&b, "decided_by", a->decided_by);
	opt_num(&b, "decided_ms", (double)a->decided_ms, a->decided_ms > 0);
	opt_str(&b, "reason", a->reason);
	if ((votes = cJSON_CreateArray()) != NULL) {
		for (i = 0; i < a->nvotes; i++) {
			struct obj v = { cJSON_CreateObject(), nulls, 0 };
			if (!v.o) {
				b.failed = 1;
				break;
			}
			put_str(&v, "voter", a->votes[i].voter);
			put_str(&v, "source", store_vote_source_name(a->votes[i].source));
			put_str(&v, "decision", store_vote_decision_name(a->votes[i].decision));
			opt_str(&v, "reason", a->votes[i].reason);
			put_num(&v, "at_ms", (double)a->votes[i].at_ms);
			if (v.failed || !cJSON_AddItemToArray(votes, v.o)) {
				cJSON_Delete(v.o);
				b.failed = 1;
				break;
			}
		}
	}
	put(&b, "votes", votes);
	if (b.failed || !cJSON_AddItemToObject(o, "approval", b.o)) {
		cJSON_Delete(b.o);
		return -ENOMEM;
	}
	return 0;
}
