/*
 * server.c — the relay's CivetWeb adapter (contract in server.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <civetweb.h>

#include "../common/bearer.h"
#include "../common/clock.h"
#include "../common/log.h"
#include "../common/randid.h"
#include "chan.h"
#include "event.h"
#include "metrics.h"
#include "server.h"
#include "stream.h"

#define OPS_THREADS 4
#define HEADER_MAX 32768

struct server {
	const struct opts *o;
	const struct auth *auth;
	struct evstore *store;
	struct hub *hub;
	struct mg_context *mg, *ops;
	int draining; /* atomic */
};

/* One request: what its log line and answer need. */
struct req {
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	const char *route;
	char id[17];
	char channel[CHAN_NAME_MAX + 1];
	int64_t t0;
};

static void req_init(struct req *r, struct mg_connection *conn, const char *route)
{
	r->conn = conn;
	r->ri = mg_get_request_info(conn);
	r->route = route;
	randid_hex(r->id, 8, '0');
	r->channel[0] = '\0';
	r->t0 = clock_mono_ms();
}

static const char *phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	}
	return "Error";
}

static int is_draining(struct server *s)
{
	return __atomic_load_n(&s->draining, __ATOMIC_ACQUIRE);
}

/* The log line of a request that is answered now. */
static void log_req(const struct req *r, int status, const char *error, const char *event_id)
{
	char st[8], ms[24];

	snprintf(st, sizeof st, "%d", status);
	snprintf(ms, sizeof ms, "%" PRId64, clock_mono_ms() - r->t0);
	log_event(status >= 500 ? LOG_WARN : LOG_INFO, "request", "request_id", r->id, "route",
	    r->route, "method", r->ri->request_method, "channel", r->channel[0] ? r->channel : NULL,
	    "peer", r->ri->remote_addr, "status", st, "error", error, "event_id", event_id,
	    "duration_ms", ms, NULL);
}

/* Answer STATUS with a JSON BODY and EXTRA header lines; CLOSE: do not read
 * the rest of the request. */
static int answer(const struct req *r, int status, const char *extra, const char *body, int close)
{
	size_t len = strlen(body);

	if (close)
		mg_close_after_response(r->conn);
	mg_printf(r->conn, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nX-Request-Id: %s\r\n%s%s\r\n", status, phrase(status),
	    r->route && !strcmp(r->route, "metrics") ? "text/plain; version=0.0.4" :
	    "application/json", len, r->id, extra ? extra : "", close ? "Connection: close\r\n" : "");
	mg_write(r->conn, body, len);
	metrics_request(!strcmp(r->route, "publish") || !strcmp(r->route, "subscribe") ? r->route :
	    !strcmp(r->route, "other") ? "other" : "ops", status);
	return status;
}

/* An error answer {"error":"MSG"} and its log line. */
static int fail(const struct req *r, int status, const char *extra, const char *msg, int close)
{
	char body[400];

	snprintf(body, sizeof body, "{\"error\":\"%s\"}", msg);
	log_req(r, status, msg, NULL);
	return answer(r, status, extra, body, close);
}

/* The request's body, at most MAX bytes: 0; -E2BIG over MAX; -ETIMEDOUT
 * when the client was too slow (the deadline or the minimum rate);
 * -ENOMEM. */
static int read_body(struct mg_connection *conn, long long clen, size_t max, unsigned char **out,
    size_t *len)
{
	size_t cap = clen >= 0 ? (size_t)clen + 1 : 16384, n = 0;
	unsigned char *p = malloc(cap), *q;
	int got;

	if (!p)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			cap *= 2;
			if (cap > max + 2)
				cap = max + 2;
			if (!(q = realloc(p, cap))) {
				free(p);
				return -ENOMEM;
			}
			p = q;
		}
		got = mg_read(conn, p + n, cap - n);
		if (got < 0) {
			free(p);
			return -ETIMEDOUT;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > max) {
			free(p);
			return -E2BIG;
		}
	}
	*out = p;
	*len = n;
	return 0;
}

static int on_publish(struct mg_connection *conn, void *cbdata)
{
	struct server *s = cbdata;
	struct event_hdr hdrs[MG_MAX_HEADERS];
	struct event_req er = { 0 };
	struct req r;
	const char *rest, *why;
	unsigned char *body = NULL;
	char *tail = NULL, idstr[EVID_STR_MAX], ans[96];
	size_t blen = 0, tlen, nh = 0;
	enum evstore_why swhy;
	enum auth_verdict v;
	struct evid id;
	int i, used_token, rc, st;

	req_init(&r, conn, "publish");
	if (strcmp(r.ri->request_method, "POST"))
		return fail(&r, 405, "Allow: POST\r\n", "method not allowed: POST only", 1);
	if ((rc = chan_parse_publish(r.ri->local_uri_raw ? r.ri->local_uri_raw : "", r.channel,
	    &rest)))
		return fail(&r, rc == -ENOENT ? 404 : 400, NULL, rc == -ENOENT ? "not found" :
		    "invalid channel name: 1 to 64 of A-Z a-z 0-9 . _ -", 1);
	v = auth_publish(s->auth, r.channel, bearer_token(mg_get_header(conn, "Authorization")),
	    r.ri->remote_addr, &used_token);
	if (v != AUTH_OK)
		return fail(&r, auth_verdict_status(v), v == AUTH_MISSING ?
		    "WWW-Authenticate: Bearer\r\n" : NULL, auth_verdict_error(v), 1);
	if (is_draining(s))
		return fail(&r, 503, "Retry-After: 1\r\n", "draining: the relay is stopping", 1);
	if (r.ri->content_length > (long long)s->o->max_body)
		return fail(&r, 413, NULL, "body too large", 1);
	rc = read_body(conn, r.ri->content_length, s->o->max_body, &body, &blen);
	if (rc == -E2BIG)
		return fail(&r, 413, NULL, "body too large", 1);
	if (rc == -ETIMEDOUT)
		return fail(&r, 408, NULL, "request body too slow or cut short", 1);
	if (rc)
		return fail(&r, 500, NULL, "out of memory", 1);
	for (i = 0; i < r.ri->num_headers; i++) {
		/* The publish token is the relay's, not the webhook's. */
		if (used_token && !strcasecmp(r.ri->http_headers[i].name, "Authorization"))
			continue;
		hdrs[nh].name = r.ri->http_headers[i].name;
		hdrs[nh].value = r.ri->http_headers[i].value;
		nh++;
	}
	er.channel = r.channel;
	er.method = r.ri->request_method;
	er.path = rest;
	er.query = r.ri->query_string ? r.ri->query_string : "";
	er.headers = hdrs;
	er.nheaders = nh;
	er.body = body;
	er.body_len = blen;
	er.received_ms = clock_wall_ms();
	rc = event_tail(&er, &tail, &tlen);
	free(body);
	if (rc)
		return fail(&r, 500, NULL, "out of memory", 1);
	rc = s->store->ops->publish(s->store, r.channel, tail, tlen, &id, &swhy);
	free(tail);
	if (rc) {
		why = evstore_why_name(swhy);
		st = swhy == EVSTORE_NOMEM ? 500 : 503; /* the store counted its own error */
		return fail(&r, st, st == 503 ? "Retry-After: 1\r\n" : NULL, why, 0);
	}
	metrics_event_in(r.channel, tlen);
	evid_format(&id, idstr);
	snprintf(ans, sizeof ans, "{\"id\":\"%s\"}", idstr);
	log_req(&r, 202, NULL, idstr);
	return answer(&r, 202, NULL, ans, 0);
}

static int write_conn(void *ctx, const char *p, size_t n)
{
	return mg_write(ctx, p, n) == (int)n ? 0 : -1;
}

static int on_subscribe(struct mg_connection *conn, void *cbdata)
{
	struct server *s = cbdata;
	struct stream_params p = { 0 };
	struct stream_result res;
	struct hub_sub *sub = NULL;
	enum evstore_why swhy;
	struct req r;
	const char *tok, *lei;
	char qtok[512], qlei[EVID_STR_MAX + 8], st[8], ms[24], nev[24], nby[24], label[120];
	enum auth_verdict v;
	int rc;

	req_init(&r, conn, "subscribe");
	if (strcmp(r.ri->request_method, "GET"))
		return fail(&r, 405, "Allow: GET\r\n", "method not allowed: GET only", 1);
	if ((rc = chan_parse_subscribe(r.ri->local_uri_raw ? r.ri->local_uri_raw : "", r.channel)))
		return fail(&r, rc == -ENOENT ? 404 : 400, NULL, rc == -ENOENT ? "not found" :
		    "invalid channel name: 1 to 64 of A-Z a-z 0-9 . _ -", 1);
	tok = bearer_token(mg_get_header(conn, "Authorization"));
	if (!tok && r.ri->query_string &&
	    mg_get_var(r.ri->query_string, strlen(r.ri->query_string), "token", qtok, sizeof qtok) > 0)
		tok = qtok;
	v = auth_subscribe(s->auth, r.channel, tok);
	explicit_bzero(qtok, sizeof qtok);
	if (v != AUTH_OK)
		return fail(&r, auth_verdict_status(v), v == AUTH_MISSING ?
		    "WWW-Authenticate: Bearer\r\n" : NULL, auth_verdict_error(v), 1);
	lei = mg_get_header(conn, "Last-Event-ID");
	if (!lei && r.ri->query_string) {
		rc = mg_get_var(r.ri->query_string, strlen(r.ri->query_string), "last_event_id",
		    qlei, sizeof qlei);
		if (rc >= 0 || rc == -2) /* -2: too long for any id */
			lei = rc >= 0 ? qlei : "";
	}
	if (lei && evid_parse(lei, &p.after))
		return fail(&r, 400, NULL, "Last-Event-ID: not an event id (<ms>-<seq>)", 1);
	p.has_after = lei != NULL;
	if (is_draining(s))
		return fail(&r, 503, "Retry-After: 1\r\n", "draining: the relay is stopping", 1);
	/* A resume needs the store now; a new stream can wait for it. */
	if (p.has_after && s->store->ops->health(s->store, &swhy))
		return fail(&r, 503, "Retry-After: 1\r\n", evstore_why_name(swhy), 1);
	snprintf(label, sizeof label, "request_id=%s peer=%s", r.id, r.ri->remote_addr);
	if ((rc = hub_join(s->hub, r.channel, label, &sub)))
		return fail(&r, 503, "Retry-After: 1\r\n", rc == -EBUSY ? "too many subscribers" :
		    rc == -ESHUTDOWN ? "draining: the relay is stopping" : "out of memory", 1);
	if ((rc = s->store->ops->watch(s->store, r.channel))) {
		hub_leave(s->hub, sub);
		return fail(&r, 503, "Retry-After: 1\r\n", "cannot follow the channel now", 1);
	}
	mg_close_after_response(conn);
	mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
	    "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nX-Request-Id: %s\r\n"
	    "Connection: close\r\n\r\n", r.id);
	metrics_request("subscribe", 200);
	log_event(LOG_DEBUG, "subscribe_start", "request_id", r.id, "channel", r.channel,
	    "peer", r.ri->remote_addr, "last_event_id", lei, NULL);
	p.hub = s->hub;
	p.sub = sub;
	p.store = s->store;
	p.channel = r.channel;
	p.heartbeat_ms = s->o->heartbeat_ms;
	p.retry_ms = s->o->retry_ms;
	p.write = write_conn;
	p.write_ctx = conn;
	stream_run(&p, &res);
	s->store->ops->unwatch(s->store, r.channel);
	hub_leave(s->hub, sub);
	/* A drop was logged and counted when it happened (main.c's on_drop). */
	snprintf(st, sizeof st, "%d", 200);
	snprintf(ms, sizeof ms, "%" PRId64, clock_mono_ms() - r.t0);
	snprintf(nev, sizeof nev, "%zu", res.events);
	snprintf(nby, sizeof nby, "%zu", res.bytes);
	log_event(res.end == STREAM_STORE ? LOG_WARN : LOG_INFO, "request", "request_id", r.id,
	    "route", "subscribe", "method", "GET", "channel", r.channel, "peer", r.ri->remote_addr,
	    "status", st, "end", stream_end_name(res.end), "why", res.why[0] ? res.why : NULL,
	    "events", nev, "bytes", nby, "gap", res.gap ? "yes" : NULL, "duration_ms", ms, NULL);
	return 200;
}

static int on_other(struct mg_connection *conn, void *cbdata)
{
	struct req r;

	(void)cbdata;
	req_init(&r, conn, "other");
	return fail(&r, 404, NULL, "not found", 1);
}

static int on_live(struct mg_connection *conn, void *cbdata)
{
	struct req r;

	(void)cbdata;
	req_init(&r, conn, "live");
	return answer(&r, 200, NULL, "{\"status\":\"live\"}", 0);
}

static int on_ready(struct mg_connection *conn, void *cbdata)
{
	struct server *s = cbdata;
	enum evstore_why why = EVSTORE_OK;
	struct req r;
	char body[160];

	req_init(&r, conn, "ready");
	if (is_draining(s))
		return fail(&r, 503, NULL, "draining", 0);
	if (s->store->ops->health(s->store, &why)) {
		snprintf(body, sizeof body, "{\"status\":\"not ready\",\"error\":\"%s\"}",
		    evstore_why_name(why));
		log_req(&r, 503, evstore_why_name(why), NULL);
		return answer(&r, 503, NULL, body, 0);
	}
	return answer(&r, 200, NULL, "{\"status\":\"ready\"}", 0);
}

static int on_metrics(struct mg_connection *conn, void *cbdata)
{
	struct server *s = cbdata;
	enum evstore_why why;
	struct req r;
	char *text = NULL;
	size_t len;
	int ready;

	req_init(&r, conn, "metrics");
	ready = !is_draining(s) && s->store->ops->health(s->store, &why) == 0;
	if (metrics_render(hub_count(s->hub), ready, &text, &len))
		return fail(&r, 500, NULL, "out of memory", 0);
	answer(&r, 200, NULL, text, 0);
	free(text);
	return 200;
}

static int on_log(const struct mg_connection *conn, const char *msg)
{
	(void)conn;
	log_event(LOG_WARN, "http", "message", msg, NULL);
	return 1;
}

static void fmt_addr(char *buf, size_t len, const char *host, int port)
{
	snprintf(buf, len, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

static struct mg_context *listen_on(struct server *s, const char *addr, int threads)
{
	struct mg_callbacks cb = { 0 };
	char nthreads[16], timeout[16], rate[16], hdr[16];
	const char *opts[32];
	int n = 0;

	snprintf(nthreads, sizeof nthreads, "%d", threads);
	snprintf(timeout, sizeof timeout, "%d", s->o->request_timeout_ms);
	snprintf(rate, sizeof rate, "%d", s->o->min_rate);
	snprintf(hdr, sizeof hdr, "%d", HEADER_MAX);
	opts[n++] = "listening_ports";
	opts[n++] = addr;
	opts[n++] = "num_threads";
	opts[n++] = nthreads;
	/* Our CivetWeb patches: a whole-request deadline (reads only: a stream,
	 * once its headers are in, reads nothing), each write bounded by the
	 * same time, the rate a request body must keep up after a second. */
	opts[n++] = "request_timeout_ms";
	opts[n++] = timeout;
	opts[n++] = "request_min_rate";
	opts[n++] = rate;
	opts[n++] = "enable_keep_alive";
	opts[n++] = "yes";
	opts[n++] = "keep_alive_timeout_ms";
	opts[n++] = "2000";
	opts[n++] = "max_request_size";
	opts[n++] = hdr;
	/* The path is stored as it came: not decoded, so a channel name is
	 * checked on the bytes the sender sent. */
	opts[n++] = "decode_url";
	opts[n++] = "no";
	opts[n++] = "tcp_nodelay";
	opts[n++] = "1";
	opts[n] = NULL;
	cb.log_message = on_log;
	return mg_start(&cb, s, opts);
}

int server_start(const struct opts *o, const struct auth *auth, struct evstore *store,
    struct hub *hub, struct server **out, char *err, size_t errlen)
{
	struct server *s = calloc(1, sizeof *s);
	char addr[300];

	if (!s)
		return -ENOMEM;
	s->o = o;
	s->auth = auth;
	s->store = store;
	s->hub = hub;
	fmt_addr(addr, sizeof addr, o->host, o->port);
	if (!(s->mg = listen_on(s, addr, (int)o->max_subscribers + o->publish_threads))) {
		snprintf(err, errlen, "cannot listen on %s (in use, or not allowed?)", addr);
		free(s);
		return -EADDRINUSE;
	}
	if (o->ops_port) {
		fmt_addr(addr, sizeof addr, o->ops_host, o->ops_port);
		if (!(s->ops = listen_on(s, addr, OPS_THREADS))) {
			snprintf(err, errlen, "cannot listen on %s for the ops listener (in use, or not "
			    "allowed?)", addr);
			mg_stop(s->mg);
			free(s);
			return -EADDRINUSE;
		}
		mg_set_request_handler(s->ops, "/live$", on_live, s);
		mg_set_request_handler(s->ops, "/ready$", on_ready, s);
		mg_set_request_handler(s->ops, "/metrics$", on_metrics, s);
		mg_set_request_handler(s->ops, "/", on_other, s);
	}
	mg_set_request_handler(s->mg, "/webhooks/", on_publish, s);
	mg_set_request_handler(s->mg, "/subscribe/", on_subscribe, s);
	mg_set_request_handler(s->mg, "/", on_other, s);
	*out = s;
	return 0;
}

void server_drain(struct server *s)
{
	__atomic_store_n(&s->draining, 1, __ATOMIC_RELEASE);
	hub_drain(s->hub);
}

static void *stop_ops(void *ctx)
{
	mg_stop(ctx);
	return NULL;
}

void server_stop(struct server *s)
{
	pthread_t t;
	int threaded = 0;

	if (!s)
		return;
	/* Each mg_stop waits up to CivetWeb's poll quantum for its master
	 * thread: stop both listeners at once, not one after the other. */
	if (s->ops && !(threaded = !pthread_create(&t, NULL, stop_ops, s->ops)))
		mg_stop(s->ops);
	mg_stop(s->mg);
	if (threaded)
		pthread_join(t, NULL);
	free(s);
}
