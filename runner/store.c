/*
 * store.c — the backend-neutral front of the store (contract in store.h):
 * picks the backend a struct store_config names, checks every argument
 * before a backend sees it, and calls through the backend's vtable
 * (store_backend.h). What a backend must do, and may assume, is there.
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

#define HOOK_CAP sizeof ((struct store_job *)0)->hook
#define KEY_CAP sizeof ((struct store_job *)0)->key

/* ---- the part every backend's handle starts with --------------------- */

int store_base_init(struct store *s, const struct store_ops *ops)
{
	memset(s, 0, sizeof *s);
	s->ops = ops;
	if (pthread_mutex_init(&s->mu, NULL))
		return -ENOMEM;
	s->mu_ok = 1;
	return 0;
}

void store_base_fini(struct store *s)
{
	if (s->mu_ok)
		pthread_mutex_destroy(&s->mu);
	s->mu_ok = 0;
}

/* MSG as S's last failure, taking S's lock for it. */
static void refuse(struct store *s, const char *msg)
{
	pthread_mutex_lock(&s->mu);
	store_backend_msg(s, msg);
	pthread_mutex_unlock(&s->mu);
}

/* A backend that does not keep approvals yet (its vtable entry is NULL):
 * -ENOSYS, so the caller fails safely instead of calling through NULL. */
#define NEED_OP(s, op) do { if (!(s)->ops->op) { refuse((s), "this store backend keeps no approvals"); \
	return -ENOSYS; } } while (0)

/* ---- arguments -------------------------------------------------------- */

static int is_sha256_hex(const char *h)
{
	size_t i;

	if (!h)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return h[64] == 0;
}

static int valid_name(const char *p, size_t cap)
{
	return p && *p && strnlen(p, cap) < cap;
}


static int is_hex_id(const char *h)
{
	size_t i;

	if (!h)
		return 0;
	for (i = 0; i < STORE_APPROVAL_ID_LEN; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return 0;
	return h[STORE_APPROVAL_ID_LEN] == 0;
}

/* An approval request goes with, and only with, a pending_approval claim. */
static int valid_approval(const struct store_claim_req *rq)
{
	const struct store_approval_req *a = rq->approval;

	if (rq->initial_state != JOBSTATE_PENDING_APPROVAL)
		return !a;
	return a && is_hex_id(a->id) && (!a->requester || valid_name(a->requester, STORE_VOTER_MAX + 1)) &&
	    a->required >= 1 && a->required <= 1000 && a->expires_ms > rq->now_ms &&
	    (!a->channel || valid_name(a->channel, STORE_SLACK_REF_MAX + 1));
}

static int valid_req(const struct store_claim_req *rq)
{
	return rq && valid_name(rq->hook, HOOK_CAP) && valid_name(rq->key, KEY_CAP) &&
	    is_sha256_hex(rq->body_sha256) && (rq->body || !rq->len) &&
	    jobstate_is_initial(rq->initial_state) && rq->max_queued >= 0 &&
	    (!rq->jti || valid_name(rq->jti, STORE_JTI_MAX + 1)) && valid_approval(rq);
}

/* An outcome of a run: never one only an approval gives (denied, expired). */
static int valid_outcome(const struct store_outcome *o)
{
	return o && jobstate_is_final(o->state) && !jobstate_is_refused(o->state) &&
	    (!o->signal || strlen(o->signal) < sizeof ((struct store_job *)0)->signal) &&
	    (!o->error || strlen(o->error) < sizeof ((struct store_job *)0)->error);
}

/* ---- open, close ------------------------------------------------------ */

int store_open(const struct store_config *sc, struct store **out, int mark_interrupted,
    int *n_interrupted, enum store_why *why)
{
	enum store_why w = STORE_WHY_NONE;
	int rc;

	if (n_interrupted)
		*n_interrupted = 0;
	if (why)
		*why = STORE_WHY_NONE;
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!sc || !sc->sqlite_path)
		return -EINVAL;
	if (!*sc->sqlite_path) {
		if (!sc->must_exist)
			return -EINVAL;
		if (why) /* nothing can be there */
			*why = STORE_WHY_ABSENT;
		return -ENOENT;
	}
	rc = store_sqlite_ops.open(sc, mark_interrupted, n_interrupted, out, &w);
	if (rc && why)
		*why = w;
	return rc;
}

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

const char *store_errmsg(struct store *s)
{
	return s ? s->err : "no store";
}

/* ---- claim, outcome ----------------------------------------------------- */

int store_claim(struct store *s, const char *hook, const char *key, const char *body_sha256_hex,
    const unsigned char *body, size_t len, const char *headers_json, int64_t now_ms,
    struct store_claim_res *out)
{
	return store_claim_state(s, hook, key, body_sha256_hex, body, len, headers_json, now_ms,
	    JOBSTATE_RUNNING, out);
}

int store_claim_state(struct store *s, const char *hook, const char *key, const char *body_sha256_hex,
    const unsigned char *body, size_t len, const char *headers_json, int64_t now_ms,
    enum jobstate initial_state, struct store_claim_res *out)
{
	struct store_claim_req rq = {
		.hook = hook, .key = key, .body_sha256 = body_sha256_hex, .body = body, .len = len,
		.headers_json = headers_json, .now_ms = now_ms, .initial_state = initial_state,
	};

	return store_claim_req(s, &rq, out);
}

int store_claim_req(struct store *s, const struct store_claim_req *rq, struct store_claim_res *out)
{
	if (out)
		memset(out, 0, sizeof *out);
	if (!s || !out || !valid_req(rq)) {
		if (s)
			refuse(s, "store_claim: invalid argument");
		return -EINVAL;
	}
	if (rq->approval)
		NEED_OP(s, approval_get); /* the claim would drop the approval record */
	return s->ops->claim(s, rq, out);
}

int store_unclaim(struct store *s, int64_t job_id)
{
	if (!s)
		return -EINVAL;
	return s->ops->unclaim(s, job_id);
}

void store_claim_res_clear(struct store_claim_res *r)
{
	if (!r)
		return;
	free(r->response);
	r->response = NULL;
}

int store_finish(struct store *s, int64_t job_id, const struct store_outcome *o)
{
	if (!s)
		return -EINVAL;
	if (!valid_outcome(o)) {
		refuse(s, "store_finish: invalid argument");
		return -EINVAL;
	}
	return s->ops->finish(s, job_id, o);
}

int store_claim_again(struct store *s, int64_t job_id, enum jobstate initial_state, int64_t now_ms,
    struct store_claim_res *out)
{
	if (out)
		memset(out, 0, sizeof *out);
	if (!s || !out || !jobstate_is_initial(initial_state) ||
	    initial_state == JOBSTATE_PENDING_APPROVAL) { /* no approval record comes with it */
		if (s)
			refuse(s, "store_claim_again: invalid argument");
		return -EINVAL;
	}
	return s->ops->claim_again(s, job_id, initial_state, now_ms, out);
}

/* ---- jobs, deliveries, the queue -------------------------------------- */

int store_job_get(struct store *s, int64_t id, struct store_job *out)
{
	if (out)
		memset(out, 0, sizeof *out);
	if (!s || !out)
		return -EINVAL;
	return s->ops->job_get(s, id, out);
}

void store_job_clear(struct store_job *j)
{
	if (!j)
		return;
	free(j->response);
	free(j->output_tail);
	j->response = j->output_tail = NULL;
}

int store_take_queued(struct store *s, int64_t now_ms, struct store_job *job, char **body,
    size_t *len, char **meta)
{
	if (job)
		memset(job, 0, sizeof *job);
	if (body)
		*body = NULL;
	if (len)
		*len = 0;
	if (meta)
		*meta = NULL;
	if (!s || !job || !body || !len || !meta)
		return -EINVAL;
	return s->ops->take_queued(s, now_ms, job, body, len, meta);
}

int store_requeue(struct store *s, int64_t job_id)
{
	if (!s)
		return -EINVAL;
	return s->ops->requeue(s, job_id);
}

int store_count_queued(struct store *s, int *n)
{
	if (n)
		*n = 0;
	if (!s || !n)
		return -EINVAL;
	return s->ops->count_queued(s, n);
}

int store_delivery_get(struct store *s, const char *hook, const char *key, char **body,
    size_t *len, char **meta)
{
	if (body)
		*body = NULL;
	if (len)
		*len = 0;
	if (meta)
		*meta = NULL;
	if (!s || !body || !len || !meta || !valid_name(hook, HOOK_CAP) || !valid_name(key, KEY_CAP)) {
		if (s)
			refuse(s, "store_delivery_get: invalid argument");
		return -EINVAL;
	}
	return s->ops->delivery_get(s, hook, key, body, len, meta);
}

int store_list(struct store *s, const char *hook, int failed_only, int limit,
    struct store_job **out, size_t *n)
{
	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!s || !out || !n || limit < 1 || limit > 10000 || (hook && !valid_name(hook, HOOK_CAP))) {
		if (s)
			refuse(s, "store_list: invalid argument");
		return -EINVAL;
	}
	return s->ops->list(s, hook, failed_only, limit, out, n);
}

int store_attempts(struct store *s, const char *hook, const char *key, struct store_job **out,
    size_t *n)
{
	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	if (!s || !out || !n || !valid_name(hook, HOOK_CAP) || !valid_name(key, KEY_CAP)) {
		if (s)
			refuse(s, "store_attempts: invalid argument");
		return -EINVAL;
	}
	return s->ops->attempts(s, hook, key, out, n);
}

/* ---- prune, health ---------------------------------------------------- */

int store_prune(struct store *s, int64_t cutoff_ms, int *n)
{
	if (n)
		*n = 0;
	if (!s)
		return -EINVAL;
	return s->ops->prune(s, cutoff_ms, n);
}

int store_health(struct store *s, enum store_why *why)
{
	enum store_why w = STORE_WHY_NONE;
	int rc;

	if (why)
		*why = STORE_WHY_NONE;
	if (!s)
		return -EINVAL;
	rc = s->ops->health(s, &w);
	if (rc && why)
		*why = w;
	return rc;
}

/* ---- approvals -------------------------------------------------------- */

static const char *const approval_states[] = {
	[STORE_APPROVAL_PENDING] = "pending", [STORE_APPROVAL_APPROVED] = "approved",
	[STORE_APPROVAL_DENIED] = "denied", [STORE_APPROVAL_EXPIRED] = "expired",
};
#define NAPPROVAL_STATES ((int)(sizeof approval_states / sizeof approval_states[0]))

const char *store_approval_state_name(enum store_approval_state st)
{
	return (int)st > 0 && (int)st < NAPPROVAL_STATES ? approval_states[st] : "unknown";
}

enum store_approval_state store_approval_state_from_name(const char *name)
{
	int i;

	for (i = 1; name && i < NAPPROVAL_STATES; i++)
		if (!strcmp(name, approval_states[i]))
			return (enum store_approval_state)i;
	return STORE_APPROVAL_NONE;
}

const char *store_vote_source_name(enum store_vote_source src)
{
	return src == STORE_VOTE_SLACK ? "slack" : src == STORE_VOTE_CLI ? "cli" : "unknown";
}

const char *store_vote_decision_name(enum store_vote_decision d)
{
	return d == STORE_VOTE_APPROVE ? "approve" : d == STORE_VOTE_DENY ? "deny" : "unknown";
}

void store_approval_clear(struct store_approval *a)
{
	if (!a)
		return;
	free(a->votes);
	a->votes = NULL;
	a->nvotes = 0;
}

void store_approvals_free(struct store_approval *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		store_approval_clear(&v[i]);
	free(v);
}

/* Reset a listing's outputs; 1 when the arguments are usable. */
static int list_args(struct store *s, struct store_approval **out, size_t *n, int limit, int max)
{
	if (out)
		*out = NULL;
	if (n)
		*n = 0;
	return s && out && n && limit >= 1 && limit <= max;
}

int store_approval_get(struct store *s, const char *id, struct store_approval *out)
{
	if (out)
		memset(out, 0, sizeof *out);
	if (!s || !out || !is_hex_id(id)) {
		if (s)
			refuse(s, "store_approval_get: invalid argument");
		return s && out ? -ENOENT : -EINVAL; /* a malformed id names no approval */
	}
	NEED_OP(s, approval_get);
	return s->ops->approval_get(s, id, 0, out);
}

int store_approval_by_job(struct store *s, int64_t job_id, struct store_approval *out)
{
	if (out)
		memset(out, 0, sizeof *out);
	if (!s || !out)
		return -EINVAL;
	NEED_OP(s, approval_get);
	return s->ops->approval_get(s, NULL, job_id, out);
}

int store_approvals_pending(struct store *s, const char *hook, int limit, struct store_approval **out,
    size_t *n)
{
	if (!list_args(s, out, n, limit, 10000) || (hook && !valid_name(hook, HOOK_CAP))) {
		if (s)
			refuse(s, "store_approvals_pending: invalid argument");
		return -EINVAL;
	}
	NEED_OP(s, approvals_pending);
	return s->ops->approvals_pending(s, hook, limit, out, n);
}

int store_approvals_count_pending(struct store *s, int *n)
{
	if (n)
		*n = 0;
	if (!s || !n)
		return -EINVAL;
	NEED_OP(s, approvals_count_pending);
	return s->ops->approvals_count_pending(s, n);
}

int store_approval_vote(struct store *s, const struct store_vote_req *v, enum store_vote_kind *kind,
    struct store_approval *out)
{
	if (out)
		memset(out, 0, sizeof *out);
	if (kind)
		*kind = 0;
	if (!s || !v || !kind || !out || !valid_name(v->voter, STORE_VOTER_MAX + 1) ||
	    (v->source != STORE_VOTE_SLACK && v->source != STORE_VOTE_CLI) ||
	    (v->decision != STORE_VOTE_APPROVE && v->decision != STORE_VOTE_DENY) ||
	    (v->reason && strnlen(v->reason, STORE_REASON_MAX + 1) > STORE_REASON_MAX)) {
		if (s)
			refuse(s, "store_approval_vote: invalid argument");
		return -EINVAL;
	}
	if (!is_hex_id(v->approval_id)) {
		refuse(s, "no such approval");
		return -ENOENT;
	}
	NEED_OP(s, approval_vote);
	return s->ops->approval_vote(s, v, kind, out);
}

int store_approvals_expire(struct store *s, int64_t now_ms, int max, struct store_approval **out,
    size_t *n)
{
	if (!list_args(s, out, n, max, 1000)) {
		if (s)
			refuse(s, "store_approvals_expire: invalid argument");
		return -EINVAL;
	}
	NEED_OP(s, approvals_expire);
	return s->ops->approvals_expire(s, now_ms, max, out, n);
}

int store_approval_set_message(struct store *s, const char *id, const char *channel, const char *ts)
{
	if (!s || !valid_name(channel, STORE_SLACK_REF_MAX + 1) || !valid_name(ts, STORE_SLACK_REF_MAX + 1)) {
		if (s)
			refuse(s, "store_approval_set_message: invalid argument");
		return -EINVAL;
	}
	if (!is_hex_id(id)) {
		refuse(s, "no such approval");
		return -ENOENT;
	}
	NEED_OP(s, approval_set_message);
	return s->ops->approval_set_message(s, id, channel, ts);
}

int store_approvals_changed(struct store *s, int64_t since_seq, int limit, struct store_approval **out,
    size_t *n)
{
	if (!list_args(s, out, n, limit, 1000)) {
		if (s)
			refuse(s, "store_approvals_changed: invalid argument");
		return -EINVAL;
	}
	NEED_OP(s, approvals_changed);
	return s->ops->approvals_changed(s, since_seq, limit, out, n);
}

int store_approvals_max_seq(struct store *s, int64_t *seq)
{
	if (seq)
		*seq = 0;
	if (!s || !seq)
		return -EINVAL;
	NEED_OP(s, approvals_max_seq);
	return s->ops->approvals_max_seq(s, seq);
}

int store_approvals_unsynced(struct store *s, int limit, struct store_approval **out, size_t *n)
{
	if (!list_args(s, out, n, limit, 1000)) {
		if (s)
			refuse(s, "store_approvals_unsynced: invalid argument");
		return -EINVAL;
	}
	NEED_OP(s, approvals_unsynced);
	return s->ops->approvals_unsynced(s, limit, out, n);
}

int store_approval_claim_sync(struct store *s, const char *id, int64_t seq, int *won)
{
	if (won)
		*won = 0;
	if (!s || !won || seq < 1) {
		if (s)
			refuse(s, "store_approval_claim_sync: invalid argument");
		return -EINVAL;
	}
	if (!is_hex_id(id)) {
		refuse(s, "no such approval");
		return -ENOENT;
	}
	NEED_OP(s, approval_claim_sync);
	return s->ops->approval_claim_sync(s, id, seq, won);
}
