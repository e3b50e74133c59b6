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


static int valid_req(const struct store_claim_req *rq)
{
	return rq && valid_name(rq->hook, HOOK_CAP) && valid_name(rq->key, KEY_CAP) &&
	    is_sha256_hex(rq->body_sha256) && (rq->body || !rq->len) &&
	    jobstate_is_initial(rq->initial_state) && rq->max_queued >= 0 &&
	    (!rq->jti || valid_name(rq->jti, STORE_JTI_MAX + 1));
}

static int valid_outcome(const struct store_outcome *o)
{
	return o && jobstate_is_final(o->state) &&
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
	if (sc && sc->pg_url) {
		rc = store_pg_ops.open(sc, mark_interrupted, n_interrupted, out, &w);
		if (rc && why)
			*why = w;
		return rc;
	}
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

void store_on_queued(struct store *s, void (*fn)(void *), void *arg)
{
	if (s && s->ops->on_queued)
		s->ops->on_queued(s, fn, arg);
}

void store_on_interrupted(struct store *s, void (*fn)(int n, void *arg), void *arg)
{
	if (s && s->ops->on_interrupted)
		s->ops->on_interrupted(s, fn, arg);
}

/* URL with the password of its userinfo (user:PASSWORD@) and of a
 * password=... parameter replaced by "***". */
static void redact_url(const char *url, char *buf, size_t len)
{
	const char *p = url, *scheme = strstr(url, "://"), *at, *colon, *q, *end;
	size_t n = 0;

#define PUT(s, k) do { size_t k_ = (k); if (n + k_ < len) { memcpy(buf + n, (s), k_); n += k_; } } while (0)
	if (scheme) {
		scheme += 3;
		end = scheme + strcspn(scheme, "/?");
		at = memchr(scheme, '@', (size_t)(end - scheme));
		/* the last '@' of the authority ends the userinfo */
		for (q = at; q && q < end; q = memchr(q + 1, '@', (size_t)(end - q - 1)))
			at = q;
		colon = at ? memchr(scheme, ':', (size_t)(at - scheme)) : NULL;
		if (colon) {
			PUT(url, (size_t)(colon - url) + 1);
			PUT("***", 3);
			p = at;
		}
	}
	while (*p) {
		if ((p == url || p[-1] == '?' || p[-1] == '&' || p[-1] == ' ') &&
		    !strncmp(p, "password=", 9)) {
			PUT(p, 9);
			PUT("***", 3);
			p += 9;
			p += strcspn(p, "& ");
			continue;
		}
		PUT(p, 1);
		p++;
	}
#undef PUT
	if (len)
		buf[n < len ? n : len - 1] = 0;
}

void store_where(const struct store_config *sc, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	if (!sc)
		snprintf(buf, len, "(none)");
	else if (sc->pg_url)
		redact_url(sc->pg_url, buf, len);
	else
		snprintf(buf, len, "%s", sc->sqlite_path ? sc->sqlite_path : "(none)");
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
	if (!s || !out || !jobstate_is_initial(initial_state)) {
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
