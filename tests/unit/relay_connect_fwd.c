/*
 * relay_connect_fwd.c — relay/connect_fwd.c against a real HTTP server
 * (CivetWeb on 127.0.0.1, an ephemeral port) and real libcurl: each method
 * arrives as itself with the exact body and Content-Length (HEAD and GET
 * without a body, DELETE with one), libcurl adds no Accept, Content-Type or
 * Expect (also for a body over 1 KiB, where it would send Expect:
 * 100-continue), headers keep their order and repeats, the path is not
 * normalised (dot segments kept; percent-escapes are checked end to end
 * in relay_connect.sh, as CivetWeb decodes them here); the verdicts: 2xx delivered, 503 with Retry-After retried
 * with its wait, 404 permanent, a refused connection retried with no
 * status.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <civetweb.h>
#include <curl/curl.h>

#include "t.h"
#include "../../common/b64.h"
#include "../../relay/connect_event.h"
#include "../../relay/connect_fwd.h"

/* What the server saw of the last request. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char seen_method[16], seen_uri[256], seen_hdrs[2048];
static unsigned char seen_body[4096];
static long seen_len, seen_clen;
static int answer_status = 200;
static char answer_extra[128];
static char base[64];

static int quiet(const struct mg_connection *c, const char *m)
{
	(void)c;
	(void)m;
	return 1;
}

static int on_any(struct mg_connection *c, void *arg)
{
	const struct mg_request_info *ri = mg_get_request_info(c);
	long n = 0;
	int r, i;
	size_t k = 0;

	(void)arg;
	pthread_mutex_lock(&mu);
	snprintf(seen_method, sizeof seen_method, "%s", ri->request_method);
	snprintf(seen_uri, sizeof seen_uri, "%s%s%s", ri->request_uri ? ri->request_uri : "",
	         ri->query_string ? "?" : "", ri->query_string ? ri->query_string : "");
	seen_hdrs[0] = 0;
	for (i = 0; i < ri->num_headers && k < sizeof seen_hdrs - 1; i++)
		k += (size_t)snprintf(seen_hdrs + k, sizeof seen_hdrs - k, "%s=%s|",
		                      ri->http_headers[i].name, ri->http_headers[i].value);
	seen_clen = ri->content_length;
	while (n < (long)sizeof seen_body &&
	       (r = mg_read(c, seen_body + n, sizeof seen_body - (size_t)n)) > 0)
		n += r;
	seen_len = n;
	mg_printf(c, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n%s\r\n", answer_status, answer_extra);
	pthread_mutex_unlock(&mu);
	return answer_status;
}

/* An event from JSON members (method, path, query, headers, body b64). */
static int mkev(struct connect_event *ev, const char *method, const char *path, const char *query,
                const char *hdrs, const char *body)
{
	char json[8192], err[256];
	int rc;

	snprintf(json, sizeof json, "{\"id\":\"1-0\",\"method\":\"%s\",\"path\":\"%s\",\"query\":\"%s\","
	         "\"headers\":%s,\"body\":\"%s\"}", method, path, query, hdrs, body);
	rc = connect_event_decode(json, strlen(json), ev, err, sizeof err);
	if (rc)
		fprintf(stderr, "decode: %s\n", err);
	return rc;
}

static int send_ev(CURL *h, const struct connect_event *ev, struct connect_fwd_result *r)
{
	return connect_fwd_send(h, base, ev, 5000, r);
}

static void post_exact(void)
{
	struct connect_event ev;
	struct connect_fwd_result r;
	CURL *h = curl_easy_init();

	/* "AP8KQQ==" is 00 ff 0a 41 */
	T_EQ_INT(mkev(&ev, "POST", "/a/../b/c", "x=1&y=%20",
	              "[[\"X-Rep\",\"1\"],[\"Content-Type\",\"application/x-www-form-urlencoded\"],[\"x-rep\",\"2\"]]",
	              "AP8KQQ=="), 0);
	T_EQ_INT(send_ev(h, &ev, &r), 0);
	T_EQ_INT(r.status, 200);
	T_EQ_INT(r.verdict, CONNECT_FWD_DELIVERED);
	T_EQ_STR(seen_method, "POST");
	T_EQ_STR(seen_uri, "/t/a/../b/c?x=1&y=%20");
	T_EQ_INT(seen_len, 4);
	T_EQ_INT(seen_clen, 4);
	T_CHECK(memcmp(seen_body, "\x00\xff\x0a\x41", 4) == 0);
	T_CHECK(strstr(seen_hdrs, "X-Rep=1|Content-Type=application/x-www-form-urlencoded|x-rep=2|") != NULL);
	T_CHECK(strcasestr(seen_hdrs, "Accept=") == NULL);
	T_CHECK(strcasestr(seen_hdrs, "Expect=") == NULL);
	connect_event_free(&ev);
	curl_easy_cleanup(h);
}

static void big_body_no_expect_no_type(void)
{
	struct connect_event ev;
	struct connect_fwd_result r;
	CURL *h = curl_easy_init();
	char b64[4000];
	unsigned char raw[2000];
	size_t i;

	for (i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)(i * 7);
	T_EQ_INT(b64_encode(raw, sizeof raw, 0, b64, sizeof b64, NULL), 0);
	T_EQ_INT(mkev(&ev, "PUT", "/big", "", "[[\"X-A\",\"\"]]", b64), 0);
	T_EQ_INT(send_ev(h, &ev, &r), 0);
	T_EQ_INT(r.status, 200);
	T_EQ_STR(seen_method, "PUT");
	T_EQ_INT(seen_len, (long)sizeof raw);
	T_CHECK(memcmp(seen_body, raw, sizeof raw) == 0);
	T_CHECK(strcasestr(seen_hdrs, "Expect=") == NULL);
	T_CHECK(strcasestr(seen_hdrs, "Content-Type=") == NULL);
	T_CHECK(strstr(seen_hdrs, "X-A=|") != NULL);   /* an empty value is sent, empty */
	connect_event_free(&ev);
	curl_easy_cleanup(h);
}

static void other_methods(void)
{
	struct connect_event ev;
	struct connect_fwd_result r;
	CURL *h = curl_easy_init();

	T_EQ_INT(mkev(&ev, "GET", "/g", "q=1", "[]", ""), 0);
	T_EQ_INT(send_ev(h, &ev, &r), 0);
	T_EQ_STR(seen_method, "GET");
	T_EQ_INT(seen_len, 0);
	T_CHECK(strcasestr(seen_hdrs, "Content-Length=") == NULL);
	connect_event_free(&ev);
	T_EQ_INT(mkev(&ev, "DELETE", "/d", "", "[]", "eA=="), 0);
	T_EQ_INT(send_ev(h, &ev, &r), 0);
	T_EQ_STR(seen_method, "DELETE");
	T_EQ_INT(seen_len, 1);
	T_CHECK(seen_body[0] == 'x');
	connect_event_free(&ev);
	T_EQ_INT(mkev(&ev, "HEAD", "/h", "", "[]", ""), 0);
	T_EQ_INT(send_ev(h, &ev, &r), 0);
	T_EQ_INT(r.status, 200);
	T_EQ_STR(seen_method, "HEAD");
	connect_event_free(&ev);
	T_EQ_INT(mkev(&ev, "PATCH", "/p", "", "[]", ""), 0);
	T_EQ_INT(send_ev(h, &ev, &r), 0);
	T_EQ_STR(seen_method, "PATCH");
	T_EQ_INT(seen_clen, 0);   /* an empty body is still sent as one */
	connect_event_free(&ev);
	curl_easy_cleanup(h);
}

static void verdicts_live(void)
{
	struct connect_event ev;
	struct connect_fwd_result r;
	CURL *h = curl_easy_init();
	char saved[64];

	T_EQ_INT(mkev(&ev, "POST", "/v", "", "[]", "eA=="), 0);
	answer_status = 503;
	strcpy(answer_extra, "Retry-After: 7\r\n");
	T_EQ_INT(send_ev(h, &ev, &r), 0);
	T_EQ_INT(r.status, 503);
	T_EQ_INT(r.verdict, CONNECT_FWD_RETRY);
	T_EQ_INT(r.retry_after_ms, 7000);
	answer_status = 404;
	answer_extra[0] = 0;
	T_EQ_INT(send_ev(h, &ev, &r), 0);
	T_EQ_INT(r.verdict, CONNECT_FWD_PERMANENT);
	T_EQ_INT(r.retry_after_ms, -1);
	answer_status = 200;
	/* Nothing listening: no status, a retry, libcurl's reason. */
	strcpy(saved, base);
	strcpy(base, "http://127.0.0.1:1");
	T_EQ_INT(send_ev(h, &ev, &r), 0);
	T_EQ_INT(r.status, 0);
	T_EQ_INT(r.verdict, CONNECT_FWD_RETRY);
	T_CHECK(r.error[0] != 0);
	strcpy(base, saved);
	connect_event_free(&ev);
	curl_easy_cleanup(h);
}

int main(void)
{
	struct mg_callbacks cb = {0};
	struct mg_server_port sp;
	struct mg_context *ctx;
	const char *opts[] = {"listening_ports", "127.0.0.1:0", "num_threads", "2",
	                      "enable_keep_alive", "yes", NULL};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	mg_init_library(0);
	cb.log_message = quiet;
	ctx = mg_start(&cb, NULL, opts);
	if (!ctx || mg_get_server_ports(ctx, 1, &sp) != 1) {
		printf("FAIL setup: cannot start a CivetWeb listener\n");
		return 1;
	}
	mg_set_request_handler(ctx, "/", on_any, NULL);
	snprintf(base, sizeof base, "http://127.0.0.1:%d/t/", sp.port);
	T_RUN(post_exact);
	T_RUN(big_body_no_expect_no_type);
	T_RUN(other_methods);
	T_RUN(verdicts_live);
	mg_stop(ctx);
	curl_global_cleanup();
	return T_EXIT();
}
