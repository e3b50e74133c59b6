/*
 * relay_connect_req.c — unit tests for relay/connect_event.c (decoding an
 * event and each refusal, with the member it names) and relay/connect_req.c
 * (the header filter with order and repeats, libcurl's defaults switched
 * off, the target URL with its encoding and the base URL checks).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "../../relay/connect_event.h"
#include "../../relay/connect_req.h"

static int decode(const char *json, struct connect_event *ev, char *err, size_t errlen)
{
	return connect_event_decode(json, strlen(json), ev, err, errlen);
}

static void decode_full(void)
{
	struct connect_event ev;
	char err[256];

	/* body: base64 of 00 ff 0a 41 */
	T_EQ_INT(decode("{\"id\":\"1-2\",\"channel\":\"c\",\"method\":\"PATCH\",\"path\":\"/x/y\","
	                "\"query\":\"a=1&b\",\"headers\":[[\"X-A\",\"1\"],[\"x-a\",\"2\"],[\"E\",\"\"]],"
	                "\"body\":\"AP8KQQ==\",\"received_ms\":1700000000123}", &ev, err, sizeof err), 0);
	T_EQ_STR(ev.id, "1-2");
	T_EQ_STR(ev.method, "PATCH");
	T_EQ_STR(ev.path, "/x/y");
	T_EQ_STR(ev.query, "a=1&b");
	T_EQ_INT(ev.nhdrs, 3);
	if (ev.nhdrs == 3) {
		T_EQ_STR(ev.hdrs[1].name, "x-a");
		T_EQ_STR(ev.hdrs[1].value, "2");
		T_EQ_STR(ev.hdrs[2].value, "");
	}
	T_EQ_INT(ev.body_len, 4);
	T_CHECK(ev.body && memcmp(ev.body, "\x00\xff\x0a\x41", 4) == 0);
	T_EQ_INT(ev.received_ms, 1700000000123LL);
	connect_event_free(&ev);
	/* Empty body, no query, no headers member. */
	T_EQ_INT(decode("{\"id\":\"9\",\"method\":\"GET\",\"path\":\"/\",\"headers\":[],\"body\":\"\"}",
	                &ev, err, sizeof err), 0);
	T_EQ_INT(ev.body_len, 0);
	T_EQ_STR(ev.query, "");
	T_EQ_INT(ev.received_ms, -1);
	connect_event_free(&ev);
}

static void decode_raw_bytes(void)
{
	struct connect_event ev;
	char err[256];

	/* \u00e9 from the relay is the byte E9 (the sender's Latin-1); a raw
	 * "é" stays UTF-8; an escaped backslash before u00e9 is text; \u0041
	 * and \u0100 are ordinary escapes. */
	T_EQ_INT(decode("{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/p\\u00ff\",\"body\":\"\","
	                "\"headers\":[[\"A\",\"caf\\u00e9\"],[\"B\",\"caf\xc3\xa9\"],"
	                "[\"C\",\"x\\\\u00e9\"],[\"D\",\"\\u0041\\u0100\\u007f\"]]}", &ev, err, sizeof err), 0);
	T_EQ_INT(ev.nhdrs, 4);
	if (ev.nhdrs == 4) {
		T_EQ_STR(ev.hdrs[0].value, "caf\xe9");
		T_EQ_STR(ev.hdrs[1].value, "caf\xc3\xa9");
		T_EQ_STR(ev.hdrs[2].value, "x\\u00e9");
		T_EQ_STR(ev.hdrs[3].value, "A\xc4\x80\x7f");
	}
	T_EQ_STR(ev.path, "/p\xff");
	connect_event_free(&ev);
}

static void decode_refusals(void)
{
	static const struct { const char *json, *word; } bad[] = {
		{"[]", "JSON object"},
		{"{\"id\":", "JSON object"},
		{"{\"method\":\"POST\",\"path\":\"/\",\"headers\":[],\"body\":\"\"}", "\"id\""},
		{"{\"id\":\"\",\"method\":\"POST\",\"path\":\"/\",\"headers\":[],\"body\":\"\"}", "\"id\""},
		{"{\"id\":\"1\",\"method\":\"PO ST\",\"path\":\"/\",\"headers\":[],\"body\":\"\"}", "\"method\""},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"x\",\"headers\":[],\"body\":\"\"}", "\"path\""},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/a\\r\\nb\",\"headers\":[],\"body\":\"\"}", "\"path\""},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"query\":\"a\\nb\",\"headers\":[],\"body\":\"\"}", "\"query\""},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"query\":5,\"headers\":[],\"body\":\"\"}", "\"query\""},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"headers\":{},\"body\":\"\"}", "\"headers\""},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"headers\":[[\"A\"]],\"body\":\"\"}", "\"headers\"[0]"},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"headers\":[[\"A\",\"1\"],[\"B C\",\"1\"]],\"body\":\"\"}", "\"headers\"[1]"},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"headers\":[[\"A\",\"x\\r\\nEvil: 1\"]],\"body\":\"\"}", "CR or LF"},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"headers\":[[\"A\",1]],\"body\":\"\"}", "\"headers\"[0]"},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"headers\":[],\"body\":\"AP8\"}", "base64"},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"headers\":[],\"body\":\"A P8=\"}", "base64"},
		{"{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"headers\":[]}", "\"body\""},
	};
	struct connect_event ev;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		if (decode(bad[i].json, &ev, err, sizeof err) != -EINVAL || !strstr(err, bad[i].word)) {
			T_CHECK(!"refused with the member named");
			fprintf(stderr, "case %zu: err '%s'\n", i, err);
		}
		T_EQ_INT(ev.nhdrs, 0);
		T_CHECK(ev.path == NULL && ev.body == NULL);
	}
}

static void decode_header_count_bound(void)
{
	struct connect_event ev;
	char err[256], *json;
	size_t cap = 32 * (CONNECT_EVENT_HDRS_MAX + 2) + 200, n;
	int i;

	json = malloc(cap);
	T_CHECK(json != NULL);
	if (!json)
		return;
	n = (size_t)sprintf(json, "{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"body\":\"\",\"headers\":[");
	for (i = 0; i <= CONNECT_EVENT_HDRS_MAX; i++)
		n += (size_t)sprintf(json + n, "%s[\"H%d\",\"v\"]", i ? "," : "", i);
	strcpy(json + n, "]}");
	T_EQ_INT(decode(json, &ev, err, sizeof err), -EINVAL);
	T_CHECK(strstr(err, "at most") != NULL);
	free(json);
}

static void gap_decode(void)
{
	char a[32], o[32];
	const char *j = "{\"after\":\"5-0\",\"oldest\":\"9-3\"}";

	T_EQ_INT(connect_event_gap(j, strlen(j), a, o, sizeof a), 0);
	T_EQ_STR(a, "5-0");
	T_EQ_STR(o, "9-3");
	T_EQ_INT(connect_event_gap("{\"after\":1}", 11, a, o, sizeof a), -EINVAL);
	T_EQ_INT(connect_event_gap("nope", 4, a, o, sizeof a), -EINVAL);
	T_EQ_STR(a, "");
}

/* Header lines for an event with the given [name, value] pairs. */
static char *lines_for(const char *hdrs_json)
{
	struct connect_event ev;
	char err[256], json[2048], **lines = NULL, *out;
	size_t n = 0, i, len = 0;

	snprintf(json, sizeof json, "{\"id\":\"1\",\"method\":\"POST\",\"path\":\"/\",\"body\":\"\","
	         "\"headers\":%s}", hdrs_json);
	if (decode(json, &ev, err, sizeof err))
		return strdup("(decode failed)");
	if (connect_req_headers(&ev, &lines, &n)) {
		connect_event_free(&ev);
		return strdup("(headers failed)");
	}
	out = calloc(1, 4096);
	for (i = 0; out && i < n; i++)
		len += (size_t)snprintf(out + len, 4096 - len, "%s|", lines[i]);
	connect_req_lines_free(lines, n);
	connect_event_free(&ev);
	return out;
}

static void header_filter_order_repeats(void)
{
	char *s = lines_for("[[\"Host\",\"evil\"],[\"X-B\",\"1\"],[\"Content-Length\",\"99\"],"
	                    "[\"Connection\",\"keep-alive, X-Hop\"],[\"X-Hop\",\"gone\"],[\"x-b\",\"2\"],"
	                    "[\"Keep-Alive\",\"5\"],[\"Proxy-Authorization\",\"p\"],[\"TE\",\"t\"],"
	                    "[\"Trailer\",\"t\"],[\"Transfer-Encoding\",\"chunked\"],[\"Upgrade\",\"h2c\"],"
	                    "[\"Expect\",\"100-continue\"],[\"X-Hookdeck-Signature\",\"abc=\"],"
	                    "[\"Content-Type\",\"application/x-www-form-urlencoded\"],[\"X-B\",\"3\"],"
	                    "[\"X-Empty\",\"\"]]");

	T_EQ_STR(s, "X-B: 1|x-b: 2|X-Hookdeck-Signature: abc=|"
	            "Content-Type: application/x-www-form-urlencoded|X-B: 3|X-Empty;|Accept:|Expect:|");
	free(s);
}

static void header_defaults_off(void)
{
	char *s = lines_for("[]");

	/* No Content-Type and no Accept in the event: libcurl must add neither. */
	T_EQ_STR(s, "Accept:|Content-Type:|Expect:|");
	free(s);
	s = lines_for("[[\"accept\",\"*/*\"]]");
	T_EQ_STR(s, "accept: */*|Content-Type:|Expect:|");
	free(s);
}

static void dropped_names(void)
{
	T_EQ_INT(connect_req_dropped(NULL, "connection"), 1);
	T_EQ_INT(connect_req_dropped(NULL, "PROXY-Connection"), 1);
	T_EQ_INT(connect_req_dropped(NULL, "host"), 1);
	T_EQ_INT(connect_req_dropped(NULL, "Content-Type"), 0);
	T_EQ_INT(connect_req_dropped(NULL, "Proxy"), 0);
	T_EQ_INT(connect_req_dropped(NULL, "TEx"), 0);
	T_EQ_INT(connect_req_dropped(NULL, "X-Hookdeck-Signature"), 0);
}

static void url_building(void)
{
	char *u = NULL;

	T_EQ_INT(connect_req_url("http://t:8080", "/x/y", "a=1", &u), 0);
	T_EQ_STR(u, "http://t:8080/x/y?a=1");
	free(u);
	T_EQ_INT(connect_req_url("http://t:8080/base/", "/hooks/deploy", "", &u), 0);
	T_EQ_STR(u, "http://t:8080/base/hooks/deploy");
	free(u);
	/* Encoded bytes stay; unsafe ones are encoded; '?' only in the path. */
	T_EQ_INT(connect_req_url("https://t", "/a%2Fb/c d/\xc3\xa9?#", "q=a b&r=%41?#", &u), 0);
	T_EQ_STR(u, "https://t/a%2Fb/c%20d/%C3%A9%3F%23?q=a%20b&r=%41?%23");
	free(u);
	/* Dot segments are the target's business: they are passed as they are. */
	T_EQ_INT(connect_req_url("http://t", "/a/../b", "", &u), 0);
	T_EQ_STR(u, "http://t/a/../b");
	free(u);
	T_EQ_INT(connect_req_url("ftp://t", "/", "", &u), -EINVAL);
	T_CHECK(u == NULL);
}

static void base_checks(void)
{
	static const char *bad[] = {"", "t:80", "ftp://t", "http://", "http:///x", "http://t/?a=1",
	                            "http://t/#f", "http://t /x", "http://t/\xc3\xa9"};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		T_EQ_INT(connect_req_base_check(bad[i], err, sizeof err), -EINVAL);
		T_CHECK(err[0] != 0);
	}
	T_EQ_INT(connect_req_base_check("HTTP://127.0.0.1:3000", err, sizeof err), 0);
	T_EQ_INT(connect_req_base_check("https://[::1]:8443/prefix", err, sizeof err), 0);
}

int main(void)
{
	T_RUN(decode_full);
	T_RUN(decode_raw_bytes);
	T_RUN(decode_refusals);
	T_RUN(decode_header_count_bound);
	T_RUN(gap_decode);
	T_RUN(header_filter_order_repeats);
	T_RUN(header_defaults_off);
	T_RUN(dropped_names);
	T_RUN(url_building);
	T_RUN(base_checks);
	return T_EXIT();
}
