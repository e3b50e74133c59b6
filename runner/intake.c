/*
 * intake.c — the webhook request pipeline (contract in intake.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/sha.h>

#include "approval.h"
#include "bearer.h"
#include "dispatch.h"
#include "intake.h"
#include "log.h"
#include "metrics.h"
#include "query.h"
#include "verify_hmac.h"
#include "verify_jwt.h"
#include "queue.h"
#include "slots.h"

/* One request on its way through the pipeline. */
struct run {
	const struct intake_env *env;
	const struct config *cfg; /* the generation this request runs under */
	const struct intake_req *rq;
	struct intake_answer *a;
};

const char *intake_header(const struct intake_req *rq, const char *name)
{
	int i;

	for (i = 0; i < rq->nheaders; i++)
		if (!strcasecmp(rq->headers[i].name, name))
			return rq->headers[i].value;
	return NULL;
}

static const char *req_header(void *ctx, const char *name)
{
	return intake_header(ctx, name);
}

struct hdr_src intake_hdr_src(const struct intake_req *rq)
{
	struct hdr_src hs = { req_header, (void *)rq };

	return hs;
}

static int header_count(const struct intake_req *rq, const char *name)
{
	int i, n = 0;

	for (i = 0; i < rq->nheaders; i++)
		if (!strcasecmp(rq->headers[i].name, name))
			n++;
	return n;
}

void intake_answer_init(struct intake_answer *a)
{
	memset(a, 0, sizeof *a);
}

void intake_answer_set(struct intake_answer *a, int status, const char *extra, const char *body)
{
	a->status = status;
	snprintf(a->extra, sizeof a->extra, "%s", extra ? extra : "");
	free(a->body);
	a->body = strdup(body);
	a->len = a->body ? strlen(a->body) : 0;
}

/* S as the body of a JSON string into OUT (when not NULL), escaped as
 * cJSON escapes it; returns the length. */
static size_t json_escape(const char *s, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *c;
	size_t n = 0;

	for (c = (const unsigned char *)s; *c; c++) {
		const char *e = *c == '"' ? "\\\"" : *c == '\\' ? "\\\\" : *c == '\b' ? "\\b" :
		    *c == '\f' ? "\\f" : *c == '\n' ? "\\n" : *c == '\r' ? "\\r" : *c == '\t' ? "\\t" : NULL;
		if (e) {
			if (out)
				memcpy(out + n, e, 2);
			n += 2;
		} else if (*c < 0x20) {
			if (out) {
				memcpy(out + n, "\\u00", 4);
				out[n + 4] = hex[*c >> 4];
				out[n + 5] = hex[*c & 15];
			}
			n += 6;
		} else {
			if (out)
				out[n] = (char)*c;
			n++;
		}
	}
	return n;
}

/* {"error":MSG,"request_id":ID}, the bytes cJSON_PrintUnformatted gives,
 * built in one pass: every refusal answers this, and a cJSON tree for two
 * strings was 6% of the reject path's instructions. */
void intake_answer_fail(struct intake_answer *a, const struct intake_req *rq, int status,
    const char *extra, const char *msg)
{
	static const char k1[] = "{\"error\":\"", k2[] = "\",\"request_id\":\"", k3[] = "\"}";
	const char *m = msg ? msg : "", *id = rq->id ? rq->id : "";
	size_t lm = json_escape(m, NULL), li = json_escape(id, NULL), n = 0;
	char *body = malloc(sizeof k1 + lm + sizeof k2 + li + sizeof k3);
	size_t le = extra ? strnlen(extra, sizeof a->extra - 1) : 0;

	if (!body) {
		intake_answer_set(a, status, extra, "{\"error\":\"out of memory\"}");
		return;
	}
	a->status = status;
	memcpy(a->extra, extra ? extra : "", le);
	a->extra[le] = '\0';
	memcpy(body, k1, sizeof k1 - 1);
	n = sizeof k1 - 1;
	n += json_escape(m, body + n);
	memcpy(body + n, k2, sizeof k2 - 1);
	n += sizeof k2 - 1;
	n += json_escape(id, body + n);
	memcpy(body + n, k3, sizeof k3); /* with its NUL */
	free(a->body);
	a->body = body;
	a->len = n + sizeof k3 - 1;
}

void intake_answer_hook(struct intake_answer *a, const char *hook)
{
	snprintf(a->hook, sizeof a->hook, "%s", hook ? hook : "");
}

void intake_answer_clear(struct intake_answer *a)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
}

static void fail(struct run *r, int status, const char *extra, const char *msg)
{
	intake_answer_fail(r->a, r->rq, status, extra, msg);
}

/* "signature:<reason>" or "jwt:<reason>" for the log, as constants. */
static const char *verify_tag(unsigned why, int jwt)
{
	static const char *const sig[VHMAC_NREASONS] = { [VHMAC_OK] = "signature:ok",
		[VHMAC_MISSING] = "signature:missing", [VHMAC_MALFORMED] = "signature:malformed",
		[VHMAC_MISMATCH] = "signature:mismatch", [VHMAC_STALE] = "signature:stale",
		[VHMAC_ERROR] = "signature:error" };
	static const char *const tok[VJWT_NREASONS] = { [VJWT_OK] = "jwt:ok",
		[VJWT_MALFORMED] = "jwt:malformed", [VJWT_ALG] = "jwt:alg",
		[VJWT_SIGNATURE] = "jwt:signature", [VJWT_EXPIRED] = "jwt:expired",
		[VJWT_NO_EXP] = "jwt:no_exp", [VJWT_NOT_YET] = "jwt:not_yet_valid",
		[VJWT_ISS] = "jwt:iss", [VJWT_AUD] = "jwt:aud", [VJWT_SUB] = "jwt:sub",
		[VJWT_CLAIM] = "jwt:claim", [VJWT_NO_JTI] = "jwt:no_jti", [VJWT_ERROR] = "jwt:error" };

	if (jwt)
		return why < VJWT_NREASONS ? tok[why] : "jwt:error";
	return why < VHMAC_NREASONS ? sig[why] : "signature:error";
}

/* Read the body, never past the cap. 0, -EFBIG (over the cap) or -EIO. */
static int read_body(struct run *r, size_t cap, char **out, size_t *len)
{
	long long cl = r->rq->content_length;
	size_t have = 0, size = cl >= 0 ? (size_t)cl : 16384;
	char *buf, *nb;

	if (cl > (long long)cap)
		return -EFBIG;
	if (size > cap)
		size = cap;
	if (!(buf = malloc(size + 1)))
		return -ENOMEM;
	for (;;) {
		int n;
		if (have == size) {
			if (cl >= 0 || size > cap)
				break;
			/* Chunked: grow up to cap + 1 bytes, to see if it is over. */
			size = size * 2 > cap + 1 ? cap + 1 : size * 2;
			if (size == have) {
				free(buf);
				return -EFBIG;
			}
			if (!(nb = realloc(buf, size + 1))) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = r->rq->read(r->rq->io, buf + have, size - have);
		if (n < 0) {
			free(buf);
			return -EIO;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have > cap || (cl >= 0 && have != (size_t)cl)) {
		free(buf);
		return have > cap ? -EFBIG : -EIO;
	}
	r->a->body_read = 1;
	buf[have] = '\0';
	*out = buf;
	*len = have;
	return 0;
}

/* The JWT as configured; NULL when absent. *dup set when the source
 * header is repeated. BUF holds a query parameter's decoded value. */
static const char *find_token(struct run *r, const struct cfg_hook *h, char *buf, size_t len, int *dup)
{
	const char *v;
	size_t n;

	*dup = 0;
	if (h->token_from == TOKEN_QUERY) {
		const char *q = r->rq->query;
		if (!q || query_param(q, strlen(q), h->token_name, buf, len, &n) < 0)
			return NULL;
		return buf;
	}
	if (h->token_from == TOKEN_HEADER) {
		*dup = header_count(r->rq, h->token_name) > 1;
		return intake_header(r->rq, h->token_name);
	}
	*dup = header_count(r->rq, "Authorization") > 1;
	v = bearer_token(intake_header(r->rq, "Authorization"));
	return v && *v ? v : NULL;
}

static void hex_sha256(const char *body, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	SHA256((const unsigned char *)body, len, md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Headers and claims kept with the delivery, for history and replay:
 * everything but credentials and signatures (a stored signature would be a
 * ready-made replay kit for whoever reads the store). */
static char *delivery_meta(struct run *r, const struct cfg_hook *h, const cJSON *claims)
{
	cJSON *o = cJSON_CreateObject(), *hd = cJSON_AddObjectToObject(o, "headers"), *c = NULL;
	char *s;
	int i;

	for (i = 0; hd && i < r->rq->nheaders; i++) {
		const char *n = r->rq->headers[i].name;
		if (!strcasecmp(n, "Authorization") || !strcasecmp(n, "Proxy-Authorization") ||
		    !strcasecmp(n, "Cookie") || vhmac_is_signature_header(n) ||
		    (h->token_from == TOKEN_HEADER && !strcasecmp(n, h->token_name)))
			continue;
		cJSON_AddStringToObject(hd, n, r->rq->headers[i].value);
	}
	if (claims && dispatch_meta_claims(claims, &c) == 0)
		cJSON_AddItemToObject(o, "claims", c);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* The idempotency decision as /metrics names it (the log says "busy" for
 * a conflict). */
static const char *claim_metric(enum store_claim_kind k)
{
	switch (k) {
	case STORE_NEW: return "new";
	case STORE_RETRY: return "retry";
	case STORE_BUSY: return "conflict";
	case STORE_REPLAY: return "replay";
	default: return "mismatch";
	}
}

/* Count an idempotency decision; a full queue and a reused token id are
 * refusals before any decision (counted as such elsewhere). */
static void count_claim(const struct cfg_hook *h, enum store_claim_kind k)
{
	if (k != STORE_FULL && k != STORE_JTI_REUSED)
		metrics_idempotency(h->id, claim_metric(k));
}

/* When a token that expires at EXP (unix s) stops being accepted at all,
 * in ms: exp + leeway + 1 s, held within int64 (a token may say any exp). */
static int64_t until_ms(double exp, int leeway_s)
{
	double until = exp + leeway_s + 1;

	if (!(until > 0))
		return 0;
	return until >= 9e15 ? INT64_MAX : (int64_t)(until * 1000);
}

/* The claim a verified delivery makes: its key, body, the headers kept for
 * replay, and what the hook says about repeats. 0 or -ENOMEM (RQ's strings
 * point into the request and *META, which the caller frees). */
static int claim_request(struct run *r, const struct cfg_hook *h, const char *key, const char *body,
    size_t len, const cJSON *claims, enum jobstate state, char sha[65], char **meta,
    struct store_claim_req *rq)
{
	const cJSON *exp;

	hex_sha256(body, len, sha);
	if (!(*meta = delivery_meta(r, h, claims)))
		return -ENOMEM;
	memset(rq, 0, sizeof *rq);
	rq->hook = h->id;
	rq->key = key;
	rq->body_sha256 = sha;
	rq->body = (const unsigned char *)body;
	rq->len = len;
	rq->headers_json = *meta;
	rq->now_ms = (int64_t)time(NULL) * 1000;
	rq->initial_state = state;
	rq->by_body = h->dedupe_body;
	if (h->has_jwt && h->jwt.single_use) {
		/* vjwt_verify made sure of both; a token is remembered until it
		 * would be refused as expired anyway. */
		rq->jti = vjwt_jti(claims);
		exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
		rq->jti_until_ms = until_ms(cJSON_IsNumber(exp) ? exp->valuedouble : 0, h->jwt.leeway_s);
	}
	return 0;
}

_Static_assert(sizeof ((struct store_claim_res *)0)->key == sizeof ((struct intake_answer *)0)->same_body_as,
    "a claim's key fits the answer's same_body_as");

/* What the claim says for the log: its job and the delivery this body repeats. */
static void note_claim(struct run *r, const struct store_claim_res *cl)
{
	r->a->job_id = cl->job_id;
	if (cl->by_body)
		memcpy(r->a->same_body_as, cl->key, sizeof r->a->same_body_as);
	else
		r->a->same_body_as[0] = '\0';
}

/* The answer to a delivery whose job an approval refused (denied or
 * expired): its stored status (403) and what became of it. */
static void refused_answer(struct run *r, const struct cfg_hook *h, const struct store_claim_res *cl)
{
	char body[512];

	snprintf(body, sizeof body, "{\"job_id\":%" PRId64 ",\"hook\":\"%s\",\"status\":\"%s\","
	    "\"error\":\"%s\",\"location\":\"/jobs/%" PRId64 "\",\"request_id\":\"%s\"}", cl->job_id, h->id,
	    jobstate_name(cl->state), cl->state == JOBSTATE_DENIED ? "an approver denied this delivery; "
	    "it will not run" : "this delivery was not approved in time; it will not run", cl->job_id,
	    r->rq->id);
	intake_answer_set(r->a, cl->http_status > 0 ? cl->http_status : 403,
	    "Idempotent-Replayed: true\r\n", body);
}

/* The 202 of a job waiting for approval: the first answer, and the answer
 * to every copy of its delivery while it waits. */
static void pending_answer(struct run *r, const struct cfg_hook *h, const struct store_claim_res *cl)
{
	char loc[96], body[320];

	snprintf(loc, sizeof loc, "Location: /jobs/%" PRId64 "\r\n", cl->job_id);
	snprintf(body, sizeof body, "{\"job_id\":%" PRId64 ",\"hook\":\"%s\",\"attempt\":%d,"
	    "\"status\":\"pending_approval\",\"location\":\"/jobs/%" PRId64 "\",\"request_id\":\"%s\"}",
	    cl->job_id, h->id, cl->attempt, cl->job_id, r->rq->id);
	intake_answer_set(r->a, 202, loc, body);
}

/* Whether CL was answered here: every claim kind but NEW and RETRY gets its
 * answer (1); those two go on to run or queue (0). */
static int claim_answered(struct run *r, const struct cfg_hook *h, const struct store_claim_res *cl)
{
	switch (cl->kind) {
	case STORE_NEW:
	case STORE_RETRY:
		return 0;
	case STORE_BUSY:
		r->a->decision = "busy";
		if (cl->state == JOBSTATE_PENDING_APPROVAL) {
			pending_answer(r, h, cl);
			return 1;
		}
		fail(r, 409, "Retry-After: 10\r\n", h->async ?
		    "a job with this idempotency key is queued or running" :
		    "a job with this idempotency key is still running");
		return 1;
	case STORE_REPLAY:
		r->a->decision = "replay";
		if (jobstate_is_refused(cl->state)) { /* a person's decision stands */
			refused_answer(r, h, cl);
			return 1;
		}
		intake_answer_set(r->a, cl->http_status, "Idempotent-Replayed: true\r\n",
		    cl->response ? cl->response : "{}");
		return 1;
	case STORE_FULL:
		r->a->decision = "busy";
		fail(r, 429, "Retry-After: 30\r\n", "the job queue is full; retry later");
		return 1;
	case STORE_JTI_REUSED:
		r->a->decision = "refused";
		r->a->verify = "jwt:replayed";
		metrics_verify_failure(h->id, r->a->verify);
		fail(r, 403, NULL, "token rejected: its jti was already used for another delivery");
		return 1;
	case STORE_MISMATCH:
	default:
		r->a->decision = "mismatch";
		fail(r, 422, NULL, "idempotency key reused with a different body");
		return 1;
	}
}

/* Async hooks: bounded durable queue, claim as "queued", answer 202. */
static void queue_job(struct run *r, const struct cfg_hook *h, const char *key,
    const char *body, size_t len, const cJSON *claims)
{
	struct store_claim_req rq;
	struct store_claim_res cl = { 0 };
	char sha[65], *meta = NULL, loc[96], resp[256];
	int rc;

	if (claim_request(r, h, key, body, len, claims, JOBSTATE_QUEUED, sha, &meta, &rq) != 0) {
		fail(r, 500, NULL, "out of memory");
		return;
	}
	rc = queue_put(r->env->queue, &rq, r->cfg->max_queued, r->rq->id, &cl);
	free(meta);
	if (rc != 0) {
		log_event(LOG_ERROR, "store_error", "request_id", r->rq->id, "error", strerror(-rc), NULL);
		fail(r, 503, "Retry-After: 10\r\n", "job store unavailable");
		return;
	}
	note_claim(r, &cl);
	count_claim(h, cl.kind);
	if (!claim_answered(r, h, &cl)) {
		r->a->decision = cl.kind == STORE_NEW ? "new" : "retry";
		snprintf(loc, sizeof loc, "Location: /jobs/%" PRId64 "\r\n", cl.job_id);
		snprintf(resp, sizeof resp, "{\"job_id\":%" PRId64 ",\"hook\":\"%s\",\"attempt\":%d,"
					    "\"status\":\"queued\",\"location\":\"/jobs/%" PRId64 "\","
					    "\"request_id\":\"%s\"}",
		    cl.job_id, h->id, cl.attempt, cl.job_id, r->rq->id);
		intake_answer_set(r->a, 202, loc, resp);
	}
	store_claim_res_clear(&cl);
}

/* Hooks with an approval: claim as "pending_approval" with its approval
 * record (one store transaction), answer 202. Nothing runs until people
 * approve it (approval.h); the workers then take it from the queue. */
static void ask_approval(struct run *r, const struct cfg_hook *h, const char *key, const char *body,
    size_t len, const cJSON *claims)
{
	struct store_claim_req rq;
	struct store_claim_res cl = { 0 };
	struct store_approval_req ar;
	char sha[65], *meta = NULL, id[STORE_APPROVAL_ID_LEN + 1], who[STORE_VOTER_MAX + 1];
	char err[200];
	int rc;

	rc = approval_request(&h->approval, claims, (int64_t)time(NULL) * 1000, id, who, &ar);
	if (rc != 0) {
		r->a->verify = "jwt:requester";
		metrics_verify_failure(h->id, r->a->verify);
		snprintf(err, sizeof err, "token rejected: claim \"%s\" must name the requester "
		    "(a Slack user id)", h->approval.requester_claim ? h->approval.requester_claim : "?");
		fail(r, 403, NULL, err);
		return;
	}
	if (claim_request(r, h, key, body, len, claims, JOBSTATE_PENDING_APPROVAL, sha, &meta, &rq) != 0) {
		fail(r, 500, NULL, "out of memory");
		return;
	}
	rq.approval = &ar;
	rq.max_queued = r->cfg->max_queued; /* each one is a message to people: bounded as well */
	rc = store_claim_req(r->env->store, &rq, &cl);
	free(meta);
	if (rc != 0) {
		log_event(LOG_ERROR, "store_error", "request_id", r->rq->id, "error", strerror(-rc), NULL);
		fail(r, 503, "Retry-After: 10\r\n", "job store unavailable");
		return;
	}
	note_claim(r, &cl);
	count_claim(h, cl.kind);
	if (!claim_answered(r, h, &cl)) {
		char jid[24];
		r->a->decision = cl.kind == STORE_NEW ? "new" : "retry";
		snprintf(jid, sizeof jid, "%" PRId64, cl.job_id);
		log_event(LOG_INFO, "approval_requested", "request_id", r->rq->id, "hook", h->id, "job", jid,
		    "approval", id, "requester", ar.requester, NULL);
		pending_answer(r, h, &cl);
	}
	store_claim_res_clear(&cl);
}

/* Claim done (NEW or RETRY) and slot held: run, record, answer. */
static void run_job(struct run *r, const struct cfg_hook *h, const struct store_claim_res *cl,
    const char *command)
{
	struct dispatch_answer ans;
	char extra[64] = "";
	int rc;

	rc = dispatch_run(r->cfg, r->env->store, r->env->slots, h, cl->job_id, cl->attempt, command,
	    r->rq->id, &ans);
	slots_release(r->env->slots, h->dest_key);
	if (rc != 0) {
		fail(r, 500, NULL, "out of memory");
		return;
	}
	if (ans.retry_after)
		snprintf(extra, sizeof extra, "Retry-After: %d\r\n", ans.retry_after);
	intake_answer_set(r->a, ans.http, extra[0] ? extra : NULL, ans.body);
	free(ans.body);
}

/* 1 when the request carries no signature header the hook could verify. */
static int no_signature(const struct hdr_src *hs, const struct cfg_hook *h)
{
	return !hdr_get(hs, vhmac_header_name(h->scheme)) &&
	    !(h->scheme == VHMAC_HOOKDECK && hdr_get(hs, "x-hookdeck-signature-2"));
}

/* 1 when the client waits for "100 Continue" and the body may still be
 * taken (not announced over the cap). */
static int wants_continue(const struct intake_req *rq, size_t cap)
{
	const char *e = intake_header(rq, "Expect");

	return rq->content_length <= (long long)cap && e && !strcasecmp(e, "100-continue");
}

/* Steps 2 and 3: the signature over the raw bytes, then the JWT. 0 when
 * both pass (*CLAIMS set for a JWT hook), -EACCES when refused (answered). */
static int verify(struct run *r, const struct cfg_hook *h, const struct hdr_src *hs, const char *body,
    size_t len, cJSON **claims)
{
	const char *tok, *sig_headers[2] = { vhmac_header_name(h->scheme), NULL };
	char qbuf[VJWT_MAX_TOKEN + 1], err[300];
	enum vhmac_reason hwhy;
	enum vjwt_reason jwhy;
	size_t i;
	int rc, dup;

	if (h->scheme == VHMAC_HOOKDECK)
		sig_headers[1] = "x-hookdeck-signature-2";
	for (i = 0; i < 2 && sig_headers[i]; i++)
		if (header_count(r->rq, sig_headers[i]) > 1) {
			r->a->verify = "signature:duplicate_header";
			metrics_verify_failure(h->id, r->a->verify);
			fail(r, 401, NULL, "signature header repeated");
			return -EACCES;
		}
	rc = vhmac_verify(h->scheme, h->secrets, h->nsecrets, (const unsigned char *)body, len, hs,
	    (int64_t)time(NULL), h->tolerance_s, &hwhy);
	if (rc != 0) {
		r->a->verify = verify_tag(hwhy, 0);
		metrics_verify_failure(h->id, r->a->verify);
		snprintf(err, sizeof err, "signature verification failed: %s", vhmac_reason_name(hwhy));
		fail(r, 401, NULL, err);
		return -EACCES;
	}
	if (h->has_jwt) {
		tok = find_token(r, h, qbuf, sizeof qbuf, &dup);
		if (dup || !tok) {
			r->a->verify = dup ? "jwt:duplicate_header" : "jwt:missing";
			metrics_verify_failure(h->id, r->a->verify);
			fail(r, 401, "WWW-Authenticate: Bearer\r\n",
			    dup ? "token header repeated" : "missing bearer token");
			return -EACCES;
		}
		rc = vjwt_verify(&h->jwt, tok, (int64_t)time(NULL), claims, &jwhy);
		if (rc != 0) {
			r->a->verify = verify_tag(jwhy, 1);
			metrics_verify_failure(h->id, r->a->verify);
			snprintf(err, sizeof err, "token rejected: %s", vjwt_reason_name(jwhy));
			fail(r, 403, NULL, err);
			return -EACCES;
		}
	}
	r->a->verify = "ok";
	return 0;
}

/* Step 4: the idempotency key, from the first of the hook's headers that
 * is there. The key, or NULL when refused (answered). */
static const char *idem_key(struct run *r, const struct cfg_hook *h)
{
	const char *key = NULL;
	char err[300];
	size_t i;

	for (i = 0; i < h->nidem && !key; i++) {
		if (header_count(r->rq, h->idem_headers[i]) > 1) {
			fail(r, 400, NULL, "idempotency header repeated");
			return NULL;
		}
		key = intake_header(r->rq, h->idem_headers[i]);
	}
	if (!key || !*key || strlen(key) > INTAKE_KEY_MAX) {
		snprintf(err, sizeof err, "%s idempotency key (header %s%s)", key ? "bad" : "missing",
		    h->idem_headers[0], h->nidem > 1 ? " or an event id" : "");
		fail(r, 400, NULL, err);
		return NULL;
	}
	for (i = 0; key[i]; i++)
		if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e) {
			fail(r, 400, NULL, "idempotency key must be printable ASCII without spaces");
			return NULL;
		}
	snprintf(r->a->key, sizeof r->a->key, "%s", key);
	return key;
}

/* Step 5b for sync hooks: the claim, then a slot: a copy of a delivery that
 * is running gets its 409 (or its replay) without ever holding a slot, so
 * 429 means the caps are really full. */
static void claim_and_run(struct run *r, const struct cfg_hook *h, const char *key, const char *body,
    size_t len, const cJSON *claims, const char *command)
{
	struct store_claim_req rq;
	struct store_claim_res cl = { 0 };
	char sha[65], *meta = NULL;
	int rc;

	if (claim_request(r, h, key, body, len, claims, JOBSTATE_RUNNING, sha, &meta, &rq) != 0) {
		fail(r, 500, NULL, "out of memory");
		goto out;
	}
	rc = store_claim_req(r->env->store, &rq, &cl);
	if (rc != 0) {
		log_event(LOG_ERROR, "store_error", "request_id", r->rq->id, "error", strerror(-rc), NULL);
		fail(r, 503, "Retry-After: 10\r\n", "job store unavailable");
		goto out;
	}
	note_claim(r, &cl);
	if (claim_answered(r, h, &cl)) {
		count_claim(h, cl.kind);
		goto out;
	}
	if (slots_acquire(r->env->slots, h->dest_key) != 0) {
		/* As if it had never come: the next delivery claims it afresh. */
		if ((rc = store_unclaim(r->env->store, cl.job_id)) != 0)
			log_event(LOG_ERROR, "store_error", "request_id", r->rq->id, "error", strerror(-rc),
			    "note", "a claim could not be taken back; it is recorded interrupted at the "
			    "next start, and its next delivery runs it", NULL);
		r->a->job_id = 0;
		r->a->decision = "busy";
		fail(r, 429, "Retry-After: 5\r\n", "too many jobs running; retry later");
		goto out;
	}
	count_claim(h, cl.kind);
	r->a->decision = cl.kind == STORE_NEW ? "new" : "retry";
	run_job(r, h, &cl, command);
out:
	store_claim_res_clear(&cl);
	free(meta);
}

void intake_hook(const struct intake_env *env, const struct config *cfg, const struct cfg_hook *h,
    const struct intake_req *rq, struct intake_answer *a)
{
	struct run r = { env, cfg, rq, a };
	struct hdr_src hs = intake_hdr_src(rq);
	const char *key;
	char *body = NULL, *command = NULL, err[300];
	cJSON *claims = NULL;
	size_t len = 0;
	int rc;

	if (strcmp(rq->method, "POST") != 0) {
		fail(&r, 405, "Allow: POST\r\n", "method not allowed: hooks take POST");
		return;
	}
	/* 2a. Without any signature header nothing can verify: refused before
	 * the body is read (and the connection closed, not drained). */
	if (no_signature(&hs, h)) {
		a->verify = "signature:missing";
		metrics_verify_failure(h->id, a->verify);
		fail(&r, 401, NULL, "signature verification failed: missing");
		return;
	}
	/* A client waiting for "100 Continue" before it sends the body gets it
	 * now that nothing in the headers refuses it (curl would otherwise wait
	 * a second). */
	if (wants_continue(rq, cfg->max_body_bytes) && rq->go_ahead)
		rq->go_ahead(rq->io);
	rc = read_body(&r, cfg->max_body_bytes, &body, &len);
	if (rc == -EFBIG) {
		snprintf(err, sizeof err, "body larger than %zu bytes", cfg->max_body_bytes);
		fail(&r, 413, NULL, err);
		goto out;
	}
	if (rc != 0) {
		fail(&r, 400, NULL, "could not read the request body");
		goto out;
	}
	if (verify(&r, h, &hs, body, len, &claims) != 0 || !(key = idem_key(&r, h)))
		goto out;

	/* 5a. The command, before anything is recorded: bad values run nothing. */
	rc = dispatch_prepare(h, body, len, claims, &hs, &command, err, sizeof err);
	if (rc != 0) {
		if (rc == -ENOMEM)
			fail(&r, 500, NULL, "out of memory");
		else
			fail(&r, 422, NULL, err);
		goto out;
	}
	if (h->approval.enabled)
		ask_approval(&r, h, key, body, len, claims);
	else if (h->async)
		queue_job(&r, h, key, body, len, claims);
	else
		claim_and_run(&r, h, key, body, len, claims, command);
out:
	cJSON_Delete(claims);
	free(command);
	free(body);
}
