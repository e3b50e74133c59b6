/*
 * server.c — routes and the webhook request pipeline (contract in server.h).
 */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <civetweb.h>
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "../common/clock.h"
#include "../common/randid.h"
#include "cfggen.h"
#include "dispatch.h"
#include "jobjson.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "server.h"
#include "slots.h"
#include "tls.h"
#include "version.h"

#define IDEM_KEY_MAX 200
#define OPS_THREADS 4 /* /healthz and /metrics on server.ops_listen */

struct server {
	struct cfggen *gens;    /* the config in force, one reference per request */
	const struct config *start_cfg; /* the config at start: listeners, TLS */
	time_t tls_not_after;   /* the served certificate's expiry; 0 without TLS */
	struct store *store;
	struct queue *queue;
	struct slots *slots;
	struct mg_context *mg;
	struct mg_context *ops;  /* server.ops_listen, or NULL */
	int64_t started_ms;
	char tls_err[400];      /* why the TLS setup refused, during mg_start */
};

/* What one request did, for its log line. */
struct req {
	struct mg_connection *conn;
	const struct config *cfg; /* the generation this request runs under */
	const struct mg_request_info *ri;
	char id[17];
	const char *hook;
	const char *verify;   /* "ok", or the failed step and its reason */
	const char *decision; /* idempotency: new, retry, busy, replay, mismatch, refused */
	const char *same_body_as; /* the key of the delivery this body repeats, or NULL */
	int uncounted_hook;   /* /jobs: the hook goes to the log, never into /metrics labels */
	int close;            /* close the connection after the answer */
	int body_read;        /* the request body was read to its end */
	char key[IDEM_KEY_MAX + 1];
	int64_t job_id;
	int64_t t0;
};

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

/* 1 when the request says a body follows. */
static int has_body(const struct req *r)
{
	return r->ri->content_length > 0 || mg_get_header(r->conn, "Transfer-Encoding");
}

/* Send the answer and the request's log line. EXTRA is more header lines
 * ("Name: value\r\n"…) or NULL. An answer given without reading the body
 * (or asked to, r->close) closes the connection: CivetWeb would otherwise
 * read the rest of the body first, for as long as the client cares to send
 * it slowly. Returns STATUS for CivetWeb. */
static int answer(struct req *r, int status, const char *extra, const char *body)
{
	char st[8], ms[24], jid[24];
	size_t len = strlen(body);
	int close = r->close || (!r->body_read && has_body(r));

	mg_printf(r->conn, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			   "Content-Length: %zu\r\nCache-Control: no-store\r\nX-Request-Id: %s\r\n%s%s\r\n",
	    status, reason_phrase(status), len, r->id, extra ? extra : "",
	    close ? "Connection: close\r\n" : "");
	mg_write(r->conn, body, len);
	if (close)
		mg_close_after_response(r->conn);
	/* A label per hook for /jobs would tell anyone who asks whether a job
	 * exists and which hook owns it. */
	metrics_request(r->uncounted_hook ? "-" : r->hook ? r->hook : METRICS_UNKNOWN_HOOK, status);
	snprintf(st, sizeof st, "%d", status);
	snprintf(ms, sizeof ms, "%" PRId64, clock_mono_ms() - r->t0);
	snprintf(jid, sizeof jid, "%" PRId64, r->job_id);
	log_event(status >= 500 ? LOG_WARN : LOG_INFO, "request", "request_id", r->id,
	    "method", r->ri->request_method, "hook", r->hook, "verify", r->verify,
	    "idempotency", r->decision, "key", r->key[0] ? r->key : NULL,
	    "same_body_as", r->same_body_as,
	    "job", r->job_id ? jid : NULL, "status", st, "duration_ms", ms, NULL);
	return status;
}

/* A JSON error body {"error": MSG, "request_id": …}. */
static int fail(struct req *r, int status, const char *extra, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	char *body;
	int rc;

	cJSON_AddStringToObject(o, "error", msg);
	cJSON_AddStringToObject(o, "request_id", r->id);
	body = cJSON_PrintUnformatted(o);
	rc = answer(r, status, extra, body ? body : "{\"error\":\"out of memory\"}");
	free(body);
	cJSON_Delete(o);
	return rc;
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

static const char *conn_header(void *ctx, const char *name)
{
	return mg_get_header((const struct mg_connection *)ctx, name);
}

static int header_count(const struct mg_request_info *ri, const char *name)
{
	int i, n = 0;

	for (i = 0; i < ri->num_headers; i++)
		if (!strcasecmp(ri->http_headers[i].name, name))
			n++;
	return n;
}

/* Read the body, never past the cap. 0, -EFBIG (over the cap) or -EIO. */
static int read_body(struct req *r, size_t cap, char **out, size_t *len)
{
	long long cl = r->ri->content_length;
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
		n = mg_read(r->conn, buf + have, size - have);
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
	r->body_read = 1;
	buf[have] = '\0';
	*out = buf;
	*len = have;
	return 0;
}

/* The JWT as configured; NULL when absent. *dup set when the source
 * header is repeated. BUF holds a query parameter's decoded value. */
static const char *find_token(struct req *r, const struct cfg_hook *h, char *buf, size_t len, int *dup)
{
	const char *v;

	*dup = 0;
	if (h->token_from == TOKEN_QUERY) {
		const char *q = r->ri->query_string;
		if (!q || mg_get_var(q, strlen(q), h->token_name, buf, len) < 0)
			return NULL;
		return buf;
	}
	if (h->token_from == TOKEN_HEADER) {
		*dup = header_count(r->ri, h->token_name) > 1;
		return mg_get_header(r->conn, h->token_name);
	}
	*dup = header_count(r->ri, "Authorization") > 1;
	v = mg_get_header(r->conn, "Authorization");
	if (!v || strncasecmp(v, "Bearer ", 7) != 0)
		return NULL;
	for (v += 7; *v == ' '; v++)
		;
	return *v ? v : NULL;
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
static char *delivery_meta(struct req *r, const struct cfg_hook *h, const cJSON *claims)
{
	cJSON *o = cJSON_CreateObject(), *hd = cJSON_AddObjectToObject(o, "headers"), *c = NULL;
	char *s;
	int i;

	for (i = 0; hd && i < r->ri->num_headers; i++) {
		const char *n = r->ri->http_headers[i].name;
		if (!strcasecmp(n, "Authorization") || !strcasecmp(n, "Proxy-Authorization") ||
		    !strcasecmp(n, "Cookie") || vhmac_is_signature_header(n) ||
		    (h->token_from == TOKEN_HEADER && !strcasecmp(n, h->token_name)))
			continue;
		cJSON_AddStringToObject(hd, n, r->ri->http_headers[i].value);
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
static int claim_request(struct req *r, const struct cfg_hook *h, const char *key, const char *body,
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

/* The answers every claim kind but NEW and RETRY gets; -1 for those two. */
static int claim_refusal(struct req *r, const struct cfg_hook *h, const struct store_claim_res *cl)
{
	switch (cl->kind) {
	case STORE_NEW:
	case STORE_RETRY:
		return -1;
	case STORE_BUSY:
		r->decision = "busy";
		return fail(r, 409, "Retry-After: 10\r\n", h->async ?
		    "a job with this idempotency key is queued or running" :
		    "a job with this idempotency key is still running");
	case STORE_REPLAY:
		r->decision = "replay";
		return answer(r, cl->http_status, "Idempotent-Replayed: true\r\n",
		    cl->response ? cl->response : "{}");
	case STORE_FULL:
		r->decision = "busy";
		return fail(r, 429, "Retry-After: 30\r\n", "the job queue is full; retry later");
	case STORE_JTI_REUSED:
		r->decision = "refused";
		r->verify = "jwt:replayed";
		metrics_verify_failure(h->id, r->verify);
		return fail(r, 403, NULL, "token rejected: its jti was already used for another delivery");
	case STORE_MISMATCH:
	default:
		r->decision = "mismatch";
		return fail(r, 422, NULL, "idempotency key reused with a different body");
	}
}

/* Async hooks: bounded durable queue, claim as "queued", answer 202. */
static int queue_job(struct server *srv, struct req *r, const struct cfg_hook *h, const char *key,
    const char *body, size_t len, const cJSON *claims)
{
	struct store_claim_req rq;
	struct store_claim_res cl = { 0 };
	char sha[65], *meta = NULL, loc[96], resp[256];
	int rc;

	if (claim_request(r, h, key, body, len, claims, JOBSTATE_QUEUED, sha, &meta, &rq) != 0)
		return fail(r, 500, NULL, "out of memory");
	rc = queue_put(srv->queue, &rq, r->cfg->max_queued, r->id, &cl);
	free(meta);
	if (rc != 0) {
		log_event(LOG_ERROR, "store_error", "request_id", r->id, "error", strerror(-rc), NULL);
		return fail(r, 503, "Retry-After: 10\r\n", "job store unavailable");
	}
	r->job_id = cl.job_id;
	r->same_body_as = cl.by_body ? cl.key : NULL;
	count_claim(h, cl.kind);
	if ((rc = claim_refusal(r, h, &cl)) < 0) {
		r->decision = cl.kind == STORE_NEW ? "new" : "retry";
		snprintf(loc, sizeof loc, "Location: /jobs/%" PRId64 "\r\n", cl.job_id);
		snprintf(resp, sizeof resp, "{\"job_id\":%" PRId64 ",\"hook\":\"%s\",\"attempt\":%d,"
					    "\"status\":\"queued\",\"location\":\"/jobs/%" PRId64 "\","
					    "\"request_id\":\"%s\"}",
		    cl.job_id, h->id, cl.attempt, cl.job_id, r->id);
		rc = answer(r, 202, loc, resp);
	}
	store_claim_res_clear(&cl);
	return rc;
}

/* Claim done (NEW or RETRY) and slot held: run, record, answer. */
static int run_job(struct server *srv, struct req *r, const struct cfg_hook *h,
    const struct store_claim_res *cl, const char *command)
{
	struct dispatch_answer ans;
	char extra[64] = "";
	int rc;

	rc = dispatch_run(r->cfg, srv->store, srv->slots, h, cl->job_id, cl->attempt, command, r->id, &ans);
	slots_release(srv->slots, h->dest_key);
	if (rc != 0)
		return fail(r, 500, NULL, "out of memory");
	if (ans.retry_after)
		snprintf(extra, sizeof extra, "Retry-After: %d\r\n", ans.retry_after);
	rc = answer(r, ans.http, extra[0] ? extra : NULL, ans.body);
	free(ans.body);
	return rc;
}

static int hook_request(struct server *srv, struct req *r, const struct cfg_hook *h)
{
	const struct config *cfg = r->cfg;
	struct hdr_src hs = { conn_header, r->conn };
	struct store_claim_req rq;
	struct store_claim_res cl = { 0 };
	const char *tok = NULL, *key = NULL, *sig_headers[2] = { vhmac_header_name(h->scheme), NULL };
	char *body = NULL, *command = NULL, *meta = NULL, qbuf[VJWT_MAX_TOKEN + 1], err[300], sha[65];
	cJSON *claims = NULL;
	enum vhmac_reason hwhy;
	enum vjwt_reason jwhy;
	size_t len = 0, i;
	int rc, dup;

	if (strcmp(r->ri->request_method, "POST") != 0)
		return fail(r, 405, "Allow: POST\r\n", "method not allowed: hooks take POST");
	/* 2a. Without any signature header nothing can verify: refused before
	 * the body is read (and the connection closed, not drained). */
	if (!hdr_get(&hs, vhmac_header_name(h->scheme)) &&
	    !(h->scheme == VHMAC_HOOKDECK && hdr_get(&hs, "x-hookdeck-signature-2"))) {
		r->verify = "signature:missing";
		metrics_verify_failure(h->id, r->verify);
		return fail(r, 401, NULL, "signature verification failed: missing");
	}
	/* A client waiting for "100 Continue" before it sends the body gets it
	 * now that nothing in the headers refuses it (CivetWeb does not send it
	 * for request handlers, and curl would wait a second). */
	if (r->ri->content_length <= (long long)cfg->max_body_bytes && mg_get_header(r->conn, "Expect") &&
	    !strcasecmp(mg_get_header(r->conn, "Expect"), "100-continue"))
		mg_printf(r->conn, "HTTP/1.1 100 Continue\r\n\r\n");
	rc = read_body(r, cfg->max_body_bytes, &body, &len);
	if (rc == -EFBIG) {
		snprintf(err, sizeof err, "body larger than %zu bytes", cfg->max_body_bytes);
		rc = fail(r, 413, NULL, err);
		goto out;
	}
	if (rc != 0) {
		rc = fail(r, 400, NULL, "could not read the request body");
		goto out;
	}

	/* 2. Signature over the raw bytes. */
	if (h->scheme == VHMAC_HOOKDECK)
		sig_headers[1] = "x-hookdeck-signature-2";
	for (i = 0; i < 2 && sig_headers[i]; i++)
		if (header_count(r->ri, sig_headers[i]) > 1) {
			r->verify = "signature:duplicate_header";
			metrics_verify_failure(h->id, r->verify);
			rc = fail(r, 401, NULL, "signature header repeated");
			goto out;
		}
	rc = vhmac_verify(h->scheme, h->secrets, h->nsecrets, (const unsigned char *)body, len, &hs,
	    (int64_t)time(NULL), h->tolerance_s, &hwhy);
	if (rc != 0) {
		r->verify = verify_tag(hwhy, 0);
		metrics_verify_failure(h->id, r->verify);
		snprintf(err, sizeof err, "signature verification failed: %s", vhmac_reason_name(hwhy));
		rc = fail(r, 401, NULL, err);
		goto out;
	}

	/* 3. JWT. */
	if (h->has_jwt) {
		tok = find_token(r, h, qbuf, sizeof qbuf, &dup);
		if (dup || !tok) {
			r->verify = dup ? "jwt:duplicate_header" : "jwt:missing";
			metrics_verify_failure(h->id, r->verify);
			rc = fail(r, 401, "WWW-Authenticate: Bearer\r\n",
			    dup ? "token header repeated" : "missing bearer token");
			goto out;
		}
		rc = vjwt_verify(&h->jwt, tok, (int64_t)time(NULL), &claims, &jwhy);
		if (rc != 0) {
			r->verify = verify_tag(jwhy, 1);
			metrics_verify_failure(h->id, r->verify);
			snprintf(err, sizeof err, "token rejected: %s", vjwt_reason_name(jwhy));
			rc = fail(r, 403, NULL, err);
			goto out;
		}
	}
	r->verify = "ok";

	/* 4. Idempotency key. */
	for (i = 0; i < h->nidem && !key; i++) {
		if (header_count(r->ri, h->idem_headers[i]) > 1) {
			rc = fail(r, 400, NULL, "idempotency header repeated");
			goto out;
		}
		key = mg_get_header(r->conn, h->idem_headers[i]);
	}
	if (!key || !*key || strlen(key) > IDEM_KEY_MAX) {
		snprintf(err, sizeof err, "%s idempotency key (header %s%s)", key ? "bad" : "missing",
		    h->idem_headers[0], h->nidem > 1 ? " or an event id" : "");
		rc = fail(r, 400, NULL, err);
		goto out;
	}
	for (i = 0; key[i]; i++)
		if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e) {
			rc = fail(r, 400, NULL, "idempotency key must be printable ASCII without spaces");
			goto out;
		}
	snprintf(r->key, sizeof r->key, "%s", key);

	/* 5a. The command, before anything is recorded: bad values run nothing. */
	rc = dispatch_prepare(h, body, len, claims, &hs, &command, err, sizeof err);
	if (rc != 0) {
		rc = rc == -ENOMEM ? fail(r, 500, NULL, "out of memory") : fail(r, 422, NULL, err);
		goto out;
	}

	if (h->async) {
		rc = queue_job(srv, r, h, key, body, len, claims);
		goto out;
	}

	/* 5b. The claim, then a slot: a copy of a delivery that is running
	 * gets its 409 (or its replay) without ever holding a slot, so 429
	 * means the caps are really full. */
	if (claim_request(r, h, key, body, len, claims, JOBSTATE_RUNNING, sha, &meta, &rq) != 0) {
		rc = fail(r, 500, NULL, "out of memory");
		goto out;
	}
	rc = store_claim_req(srv->store, &rq, &cl);
	if (rc != 0) {
		log_event(LOG_ERROR, "store_error", "request_id", r->id, "error", strerror(-rc), NULL);
		rc = fail(r, 503, "Retry-After: 10\r\n", "job store unavailable");
		goto out;
	}
	r->job_id = cl.job_id;
	r->same_body_as = cl.by_body ? cl.key : NULL;
	if ((rc = claim_refusal(r, h, &cl)) >= 0) {
		count_claim(h, cl.kind);
		goto out;
	}
	if (slots_acquire(srv->slots, h->dest_key) != 0) {
		/* As if it had never come: the next delivery claims it afresh. */
		if ((rc = store_unclaim(srv->store, cl.job_id)) != 0)
			log_event(LOG_ERROR, "store_error", "request_id", r->id, "error", strerror(-rc),
			    "note", "a claim could not be taken back; it is recorded interrupted at the "
			    "next start, and its next delivery runs it", NULL);
		r->job_id = 0;
		r->decision = "busy";
		rc = fail(r, 429, "Retry-After: 5\r\n", "too many jobs running; retry later");
		goto out;
	}
	count_claim(h, cl.kind);
	r->decision = cl.kind == STORE_NEW ? "new" : "retry";
	rc = run_job(srv, r, h, &cl, command);
out:
	store_claim_res_clear(&cl);
	cJSON_Delete(claims);
	free(command);
	free(meta);
	free(body);
	return rc;
}

static void req_init(struct req *r, struct mg_connection *conn)
{
	memset(r, 0, sizeof *r);
	r->conn = conn;
	r->ri = mg_get_request_info(conn);
	r->t0 = clock_mono_ms();
	randid_hex(r->id, 8, 0);
}

static int on_hooks(struct mg_connection *conn, void *cbdata)
{
	struct server *srv = cbdata;
	void *ref;
	const struct config *cfg = cfggen_get(srv->gens, &ref);
	const struct cfg_hook *h;
	struct req r;
	const char *id;
	int rc;

	req_init(&r, conn);
	r.cfg = cfg;
	id = r.ri->local_uri + strlen("/hooks/");
	h = strncmp(r.ri->local_uri, "/hooks/", 7) == 0 && *id && !strchr(id, '/') ?
	    config_hook(cfg, id) : NULL;
	if (!h) {
		rc = fail(&r, 404, NULL, "unknown hook");
	} else if (slots_draining(srv->slots)) {
		r.hook = h->id;
		r.close = 1;
		rc = fail(&r, 503, "Retry-After: 10\r\n", "shutting down; retry later");
	} else {
		r.hook = h->id;
		rc = hook_request(srv, &r, h);
	}
	cfggen_put(srv->gens, ref);
	return rc;
}

static int on_health(struct mg_connection *conn, void *cbdata)
{
	struct server *srv = cbdata;
	struct req r;
	char body[256];
	int ok, draining;

	req_init(&r, conn);
	r.hook = "-";
	if (strcmp(r.ri->request_method, "GET") != 0 && strcmp(r.ri->request_method, "HEAD") != 0)
		return fail(&r, 405, "Allow: GET, HEAD\r\n", "method not allowed");
	ok = store_health(srv->store, NULL) == 0;
	draining = slots_draining(srv->slots);
	snprintf(body, sizeof body, "{\"status\":\"%s\",\"uptime_s\":%" PRId64 ",\"running_jobs\":%d,"
				    "\"store\":\"%s\"}",
	    draining ? "draining" : ok ? "ok" : "unavailable", (clock_mono_ms() - srv->started_ms) / 1000,
	    slots_running(srv->slots), ok ? "ok" : "error");
	r.verify = "-";
	return answer(&r, ok && !draining ? 200 : 503, NULL, body);
}

/* The token of an "Authorization: Bearer …" value, or NULL. */
static const char *bearer(const char *auth)
{
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return NULL;
	for (auth += 7; *auth == ' '; auth++)
		;
	return auth;
}

/* 1 when TOK is WANT (constant time in the bytes compared). */
static int token_is(const char *tok, const char *want)
{
	size_t n = strlen(tok);

	return want && n == strlen(want) && CRYPTO_memcmp(tok, want, n) == 0;
}

/* The read token, or a token the job's own hook would accept. */
static int jobs_authorized(const struct config *cfg, const struct cfg_hook *h, const char *auth)
{
	const char *tok = bearer(auth);
	size_t n;

	if (!tok)
		return -1;
	n = strlen(tok);
	if (token_is(tok, cfg->read_token))
		return 0;
	if (h && h->has_jwt && n <= VJWT_MAX_TOKEN && vjwt_verify(&h->jwt, tok, (int64_t)time(NULL), NULL, NULL) == 0)
		return 0;
	return -2;
}

static int on_jobs(struct mg_connection *conn, void *cbdata)
{
	struct server *srv = cbdata;
	void *ref;
	const struct config *cfg = cfggen_get(srv->gens, &ref);
	const struct cfg_hook *h;
	struct store_job job;
	struct req r;
	const char *id, *p;
	char *text = NULL;
	int64_t jid = 0;
	int rc, auth;

	memset(&job, 0, sizeof job);
	req_init(&r, conn);
	r.cfg = cfg;
	r.hook = "-";
	r.verify = "-";
	r.uncounted_hook = 1;
	id = r.ri->local_uri + strlen("/jobs/");
	for (p = id; *p >= '0' && *p <= '9' && p - id < 18; p++)
		jid = jid * 10 + (*p - '0');
	if (strcmp(r.ri->request_method, "GET") != 0) {
		rc = fail(&r, 405, "Allow: GET\r\n", "method not allowed");
		goto out;
	}
	if (p == id || *p || store_job_get(srv->store, jid, &job) != 0) {
		/* Unknown and unauthorized look the same unless the read token is right. */
		auth = jobs_authorized(cfg, NULL, mg_get_header(conn, "Authorization"));
		rc = auth == 0 ? fail(&r, 404, NULL, "no such job") :
		    fail(&r, auth == -1 ? 401 : 403, "WWW-Authenticate: Bearer\r\n", "not authorized");
		goto out;
	}
	h = config_hook(cfg, job.hook);
	r.hook = h ? h->id : NULL;
	auth = jobs_authorized(cfg, h, mg_get_header(conn, "Authorization"));
	if (auth != 0) {
		r.verify = auth == -1 ? "jwt:missing" : "jwt:rejected";
		rc = fail(&r, auth == -1 ? 401 : 403, "WWW-Authenticate: Bearer\r\n", "not authorized");
		goto out;
	}
	r.verify = "ok";
	r.job_id = job.id;
	rc = jobjson_print(&job, JOBJSON_RECORD | (h && h->response_output ? JOBJSON_TAIL : 0), NULL, &text);
	rc = rc == 0 ? answer(&r, 200, NULL, text) : fail(&r, 500, NULL, "out of memory");
out:
	free(text);
	store_job_clear(&job);
	cfggen_put(srv->gens, ref);
	return rc;
}

static int on_metrics(struct mg_connection *conn, void *cbdata)
{
	struct server *srv = cbdata;
	const struct config *cfg;
	void *ref;
	struct req r;
	char *text = NULL;
	size_t len = 0;
	int queued = 0;

	req_init(&r, conn);
	r.hook = "-";
	r.verify = "-";
	if (strcmp(r.ri->request_method, "GET") != 0)
		return fail(&r, 405, "Allow: GET\r\n", "method not allowed");
	cfg = cfggen_get(srv->gens, &ref);
	if (cfg->metrics_token) {
		const char *tok = bearer(mg_get_header(conn, "Authorization"));
		int ok = tok && token_is(tok, cfg->metrics_token);
		cfggen_put(srv->gens, ref);
		if (!ok) {
			r.verify = tok ? "token:rejected" : "token:missing";
			return fail(&r, tok ? 403 : 401, "WWW-Authenticate: Bearer\r\n", "not authorized");
		}
	} else {
		cfggen_put(srv->gens, ref);
	}
	/* A store that cannot answer shows an empty queue; /healthz reports it. */
	if (queue_count(srv->queue, &queued) != 0)
		queued = 0;
	if (metrics_render(slots_running(srv->slots), queued, (long long)srv->tls_not_after, RUNNER_VERSION,
	    &text, &len) != 0)
		return fail(&r, 500, NULL, "out of memory");
	metrics_request("-", 200);
	mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			"Content-Length: %zu\r\nCache-Control: no-store\r\nX-Request-Id: %s\r\n\r\n",
	    len, r.id);
	mg_write(conn, text, len);
	free(text);
	return 200;
}

static int on_other(struct mg_connection *conn, void *cbdata)
{
	struct req r;

	(void)cbdata;
	req_init(&r, conn);
	return fail(&r, 404, NULL, "not found");
}

static int on_log(const struct mg_connection *conn, const char *msg)
{
	(void)conn;
	log_event(LOG_WARN, "http", "message", msg, NULL);
	return 1;
}

/* CivetWeb's init_ssl, called inside mg_start: 1 = the context is ready
 * and CivetWeb adds nothing, -1 = refuse to start (reason in tls_err). */
static int on_tls_init(void *ssl_ctx, void *user)
{
	struct server *s = user;
	const struct config *cfg = s->start_cfg;

	return tls_setup(ssl_ctx, cfg->tls_cert, cfg->tls_key, &s->tls_not_after, s->tls_err,
	    sizeof s->tls_err) ? -1 : 1;
}

/* "host:port" as CivetWeb and people write it ([v6]:port). */
static void fmt_addr(char *buf, size_t len, const char *host, int port)
{
	snprintf(buf, len, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

/* One CivetWeb context listening on ADDR with THREADS workers; TLS with the
 * config's certificate when TLS. NULL when it cannot listen. */
static struct mg_context *listen_on(struct server *s, const char *addr, int threads, int tls)
{
	const struct config *cfg = s->start_cfg;
	struct mg_callbacks cb = { 0 };
	char ports[304], nthreads[16], timeout[16], keepalive[16], rate[16];
	const char *opts[24];
	int n = 0;

	snprintf(ports, sizeof ports, "%s%s", addr, tls ? "s" : ""); /* CivetWeb: "s" = TLS */
	snprintf(nthreads, sizeof nthreads, "%d", threads);
	snprintf(timeout, sizeof timeout, "%d", cfg->request_timeout_ms);
	snprintf(keepalive, sizeof keepalive, "%d", cfg->keepalive_timeout_ms);
	snprintf(rate, sizeof rate, "%d", cfg->min_request_rate);
	opts[n++] = "listening_ports";
	opts[n++] = ports;
	opts[n++] = "num_threads";
	opts[n++] = nthreads;
	/* With our CivetWeb patches (third_party/patches/): the deadline of a
	 * whole request, the idle time allowed between kept-alive requests,
	 * and the rate a request must keep up after a second of grace. */
	opts[n++] = "request_timeout_ms";
	opts[n++] = timeout;
	opts[n++] = "enable_keep_alive";
	opts[n++] = "yes";
	opts[n++] = "keep_alive_timeout_ms";
	opts[n++] = keepalive;
	opts[n++] = "request_min_rate";
	opts[n++] = rate;
	opts[n++] = "max_request_size";
	opts[n++] = "32768";
	/* An answer is a few small writes (status and headers, then the body):
	 * with Nagle's algorithm on, the client's delayed ACK held each
	 * keep-alive answer ~40 ms (bench: 23 req/s at c=1 on the reject path). */
	opts[n++] = "tcp_nodelay";
	opts[n++] = "1";
	if (tls) {
		/* The certificate and key are loaded by on_tls_init. */
		opts[n++] = "ssl_protocol_version";
		opts[n++] = "4"; /* TLS 1.2 and newer */
		cb.init_ssl = on_tls_init;
	}
	opts[n] = NULL;
	cb.log_message = on_log;
	return mg_start(&cb, s, opts);
}

int server_start(struct cfggen *gens, struct store *st, struct slots *slots, struct queue *queue,
    struct server **out, char *err, size_t errlen)
{
	const struct config *cfg = cfggen_first(gens);
	struct server *s = calloc(1, sizeof *s);
	char addr[300], ops[300];
	int rc;

	if (!s)
		return -ENOMEM;
	s->gens = gens;
	s->start_cfg = cfg;
	s->store = st;
	s->queue = queue;
	s->slots = slots;
	s->started_ms = clock_mono_ms();
	fmt_addr(addr, sizeof addr, cfg->listen_host, cfg->port);
	if (!(s->mg = listen_on(s, addr, cfg->threads, cfg->tls_cert != NULL))) {
		if (s->tls_err[0])
			snprintf(err, errlen, "%s", s->tls_err);
		else
			snprintf(err, errlen, "cannot listen on %s (in use, or not allowed?)", addr);
		goto fail;
	}
	/* /healthz and /metrics on threads of their own: slow clients that hold
	 * every hook thread do not silence them. */
	if (cfg->ops_host) {
		fmt_addr(ops, sizeof ops, cfg->ops_host, cfg->ops_port);
		if (!(s->ops = listen_on(s, ops, OPS_THREADS, 0))) {
			snprintf(err, errlen, "cannot listen on %s for server.ops_listen (in use, or not "
			    "allowed?)", ops);
			mg_stop(s->mg);
			s->tls_err[0] = '\0';
			goto fail;
		}
		mg_set_request_handler(s->ops, "/healthz$", on_health, s);
		mg_set_request_handler(s->ops, "/metrics$", on_metrics, s);
		mg_set_request_handler(s->ops, "/", on_other, s);
	}
	mg_set_request_handler(s->mg, "/hooks/", on_hooks, s);
	mg_set_request_handler(s->mg, "/healthz$", on_health, s);
	mg_set_request_handler(s->mg, "/metrics$", on_metrics, s);
	mg_set_request_handler(s->mg, "/jobs/", on_jobs, s);
	mg_set_request_handler(s->mg, "/", on_other, s);
	*out = s;
	return 0;
fail:
	rc = s->tls_err[0] ? -EINVAL : -EADDRINUSE;
	free(s);
	return rc;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	if (s->ops)
		mg_stop(s->ops);
	mg_stop(s->mg);
	free(s);
}
