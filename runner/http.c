/*
 * http.c — the CivetWeb adapter (contract in http.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <civetweb.h>

#include "../common/clock.h"
#include "../common/randid.h"
#include "http.h"
#include "intake.h"
#include "log.h"
#include "metrics.h"
#include "route_hooks.h"
#include "route_jobs.h"
#include "route_ops.h"
#include "route_output.h"
#include "route_slack.h"
#include "slots.h"
#include "tls.h"

#define OPS_THREADS 4 /* /healthz and /metrics on server.ops_listen */

struct http {
	struct intake_env env;  /* what the routes run against */
	const struct config *start_cfg; /* the config at start: listeners, TLS */
	struct mg_context *mg;
	struct mg_context *ops;  /* server.ops_listen, or NULL */
	char tls_err[400];      /* why the TLS setup refused, during mg_start */
};

/* One request as CivetWeb gave it, framed for a route. */
struct frame {
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	struct intake_header headers[MG_MAX_HEADERS];
	struct intake_req rq;
	struct intake_answer a;
	char id[17];
	int64_t t0;
};

typedef void (*route_fn)(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a);

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

static int conn_read(void *io, char *buf, size_t len)
{
	return mg_read(io, buf, len);
}

static int conn_write(void *io, const char *buf, size_t len)
{
	return mg_write(io, buf, len) == (int)len ? 0 : -1;
}

static void conn_continue(void *io)
{
	mg_printf(io, "HTTP/1.1 100 Continue\r\n\r\n");
}

static void frame_init(struct http *s, struct frame *f, struct mg_connection *conn)
{
	int i;

	memset(f, 0, sizeof *f);
	f->conn = conn;
	f->ri = mg_get_request_info(conn);
	f->t0 = clock_mono_ms();
	randid_hex(f->id, 8, 0);
	for (i = 0; i < f->ri->num_headers && i < MG_MAX_HEADERS; i++) {
		f->headers[i].name = f->ri->http_headers[i].name;
		f->headers[i].value = f->ri->http_headers[i].value;
	}
	f->rq.method = f->ri->request_method;
	f->rq.path = f->ri->local_uri;
	f->rq.query = f->ri->query_string;
	f->rq.headers = f->headers;
	f->rq.nheaders = i;
	f->rq.content_length = f->ri->content_length;
	f->rq.read = conn_read;
	f->rq.go_ahead = conn_continue;
	f->rq.write = conn_write;
	f->rq.io = conn;
	f->rq.remote_addr = f->ri->remote_addr;
	f->rq.id = f->id;
	f->rq.draining = slots_draining(s->env.slots);
	intake_answer_init(&f->a);
}

/* 1 when the request says a body follows. */
static int has_body(const struct frame *f)
{
	return f->ri->content_length > 0 || mg_get_header(f->conn, "Transfer-Encoding");
}

/* Appending to a fixed buffer; LEN past the end marks it as too short. */
struct obuf {
	char *b;
	size_t n, cap;
};

static void oput(struct obuf *o, const char *s, size_t n)
{
	if (o->n + n <= o->cap)
		memcpy(o->b + o->n, s, n);
	o->n += n;
}

static void oputs(struct obuf *o, const char *s)
{
	oput(o, s, strlen(s));
}

static void oputu(struct obuf *o, unsigned long long v)
{
	char d[24];
	size_t i = sizeof d;

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) && i);
	oput(o, d + i, sizeof d - i);
}

/* V in decimal into BUF (LEN >= 24), without snprintf's cost per request. */
static void decimal(char *buf, size_t len, int64_t v)
{
	struct obuf o = { buf, 0, len - 1 };

	if (v < 0) {
		oput(&o, "-", 1);
		oputu(&o, (unsigned long long)-(v + 1) + 1);
	} else {
		oputu(&o, (unsigned long long)v);
	}
	buf[o.n < len ? o.n : len - 1] = '\0';
}

/* Status line and headers of A into O; BODYLEN for Content-Length. */
static void head(struct obuf *o, const struct frame *f, size_t bodylen, int close)
{
	const struct intake_answer *a = &f->a;

	oputs(o, "HTTP/1.1 ");
	oputu(o, (unsigned)a->status);
	oputs(o, " ");
	oputs(o, reason_phrase(a->status));
	oputs(o, "\r\nContent-Type: ");
	oputs(o, a->content_type ? a->content_type : "application/json");
	oputs(o, "\r\nContent-Length: ");
	oputu(o, bodylen);
	oputs(o, "\r\nCache-Control: no-store\r\nX-Request-Id: ");
	oputs(o, f->id);
	oputs(o, "\r\n");
	oputs(o, a->extra);
	if (close)
		oputs(o, "Connection: close\r\n");
	oputs(o, "\r\n");
}

/* The whole answer, status line to body, in one mg_write: one send(2) and
 * one TCP segment for a small answer, where formatting the head with
 * mg_printf and writing the body after it cost an allocation, two
 * formatting passes and a second send (callgrind, reject path: 8% of the
 * instructions). A body too big for the stack buffer gets a heap one; with
 * no memory, the head and the body go as two writes. */
static void send_answer(const struct frame *f, const char *body, size_t len, int close)
{
	char stack[4096], *heap = NULL;
	struct obuf o = { stack, 0, sizeof stack };

	head(&o, f, len, close);
	if (o.n + len > o.cap && (heap = malloc(o.n + len))) {
		o = (struct obuf){ heap, 0, o.n + len };
		head(&o, f, len, close);
	}
	if (o.n + len <= o.cap) {
		memcpy(o.b + o.n, body, len);
		mg_write(f->conn, o.b, o.n + len);
	} else { /* no memory for one buffer; the head fits the stack one */
		o = (struct obuf){ stack, 0, sizeof stack };
		head(&o, f, len, close);
		mg_write(f->conn, o.b, o.n <= o.cap ? o.n : 0);
		mg_write(f->conn, body, len);
	}
	free(heap);
}

/* Send the answer and the request's log line. An answer given without
 * reading the body (or asked to, a->close) closes the connection: CivetWeb
 * would otherwise read the rest of the body first, for as long as the
 * client cares to send it slowly. Returns the status for CivetWeb. */
static int answer(struct frame *f)
{
	static const char oom[] = "{\"error\":\"out of memory\"}";
	const struct intake_answer *a = &f->a;
	const char *body = a->body ? a->body : oom, *hook;
	size_t len = a->body ? a->len : strlen(oom);
	char st[24], ms[24], jid[24];
	int close = !a->unlogged && (a->close || (!a->body_read && has_body(f)));

	/* A label per hook for /jobs would tell anyone who asks whether a job
	 * exists and which hook owns it. */
	hook = a->uncounted_hook ? "-" : a->hook[0] ? a->hook : METRICS_UNKNOWN_HOOK;
	if (a->unlogged)
		metrics_request(hook, a->status);
	if (a->streamed) { /* the route wrote it all: it ends with the connection */
		mg_close_after_response(f->conn);
		close = 0;
		goto logged;
	}
	send_answer(f, body, len, close);
	if (a->unlogged)
		return a->status;
	if (close)
		mg_close_after_response(f->conn);
logged:
	metrics_request(hook, a->status);
	decimal(st, sizeof st, a->status);
	decimal(ms, sizeof ms, clock_mono_ms() - f->t0);
	decimal(jid, sizeof jid, a->job_id);
	log_event(a->status >= 500 ? LOG_WARN : LOG_INFO, "request", "request_id", f->id,
	    "method", f->ri->request_method, "hook", a->hook[0] ? a->hook : NULL, "verify", a->verify,
	    "idempotency", a->decision, "key", a->key[0] ? a->key : NULL,
	    "same_body_as", a->same_body_as[0] ? a->same_body_as : NULL,
	    "job", a->job_id ? jid : NULL, "status", st, "duration_ms", ms, NULL);
	return a->status;
}

/* Frame the request, let ROUTE answer it, write the answer. */
static int serve(struct http *s, struct mg_connection *conn, route_fn route)
{
	struct frame f;
	int rc;

	frame_init(s, &f, conn);
	if (route)
		route(&s->env, &f.rq, &f.a);
	else
		route_ops_not_found(&f.rq, &f.a);
	rc = answer(&f);
	intake_answer_clear(&f.a);
	return rc;
}

static int on_hooks(struct mg_connection *conn, void *cbdata)
{
	return serve(cbdata, conn, route_hooks_handle);
}

static int on_health(struct mg_connection *conn, void *cbdata)
{
	return serve(cbdata, conn, route_ops_health);
}

static int on_metrics(struct mg_connection *conn, void *cbdata)
{
	return serve(cbdata, conn, route_ops_metrics);
}

static int on_jobs(struct mg_connection *conn, void *cbdata)
{
	const char *p = mg_get_request_info(conn)->local_uri;
	size_t n = p ? strlen(p) : 0;

	/* /jobs/<id>/output: the live output stream (route_output.c). */
	if (n > 7 && !strcmp(p + n - 7, "/output"))
		return serve(cbdata, conn, route_output_handle);
	return serve(cbdata, conn, route_jobs_handle);
}

static int on_slack_interactions(struct mg_connection *conn, void *cbdata)
{
	return serve(cbdata, conn, route_slack_interactions);
}

static int on_slack_events(struct mg_connection *conn, void *cbdata)
{
	return serve(cbdata, conn, route_slack_events);
}

static int on_other(struct mg_connection *conn, void *cbdata)
{
	return serve(cbdata, conn, NULL);
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
	struct http *s = user;
	const struct config *cfg = s->start_cfg;

	return tls_setup(ssl_ctx, cfg->tls_cert, cfg->tls_key, &s->env.tls_not_after, s->tls_err,
	    sizeof s->tls_err) ? -1 : 1;
}

/* "host:port" as CivetWeb and people write it ([v6]:port). */
static void fmt_addr(char *buf, size_t len, const char *host, int port)
{
	snprintf(buf, len, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

/* One CivetWeb context listening on ADDR with THREADS workers; TLS with the
 * config's certificate when TLS. NULL when it cannot listen. */
static struct mg_context *listen_on(struct http *s, const char *addr, int threads, int tls)
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

/* Set once before http_start (main.c's start-up, one thread). */
static struct slackob *slack_poster;

void http_use_slack(struct slackob *ob)
{
	slack_poster = ob;
}

/* Set once before http_start, as the Slack poster. */
static struct liveout *live_output;

void http_use_liveout(struct liveout *lo)
{
	live_output = lo;
}

int http_start(struct cfggen *gens, struct store *st, struct slots *slots, struct queue *queue,
    struct http **out, char *err, size_t errlen)
{
	const struct config *cfg = cfggen_first(gens);
	struct http *s = calloc(1, sizeof *s);
	char addr[300], ops[300];
	int rc;

	if (!s)
		return -ENOMEM;
	s->env.gens = gens;
	s->env.store = st;
	s->env.slots = slots;
	s->env.queue = queue;
	s->env.slack = slack_poster;
	s->env.live = live_output;
	s->env.started_ms = clock_mono_ms();
	s->start_cfg = cfg;
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
	mg_set_request_handler(s->mg, "/slack/interactions$", on_slack_interactions, s);
	mg_set_request_handler(s->mg, "/slack/events$", on_slack_events, s);
	mg_set_request_handler(s->mg, "/", on_other, s);
	*out = s;
	return 0;
fail:
	rc = s->tls_err[0] ? -EINVAL : -EADDRINUSE;
	free(s);
	return rc;
}

void http_stop(struct http *s)
{
	if (!s)
		return;
	if (s->ops)
		mg_stop(s->ops);
	mg_stop(s->mg);
	free(s);
}
