/*
 * relay_sseparse.c — unit tests for common/sseparse.c: the EventSource
 * rules (fields, comments, one space dropped, multi-line data, id
 * persistence, id holding NUL ignored, retry digits only, BOM), the three
 * line ends, every split of a stream across two chunks and byte by byte,
 * and the bounds (an oversize line or event refused, stopped until reset).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "../../common/sseparse.h"

/* Events seen, each as "type|id|data" (data with NUL shown as \0). */
struct rec {
	char out[256];
	size_t len;
	int n;
};

static int on_event(void *arg, const struct sseparse_event *ev)
{
	struct rec *r = arg;
	size_t i;
	int k;

	k = snprintf(r->out + r->len, sizeof r->out - r->len, "[%s|%s|", ev->type, ev->id);
	if (k < 0 || (size_t)k >= sizeof r->out - r->len)
		return 1;
	r->len += (size_t)k;
	for (i = 0; i < ev->data_len && r->len + 4 < sizeof r->out; i++) {
		if (ev->data[i] == 0) {
			memcpy(r->out + r->len, "\\0", 2);
			r->len += 2;
		} else {
			r->out[r->len++] = ev->data[i];
		}
	}
	if (ev->data[ev->data_len] != 0)
		return 1;              /* data must be NUL-terminated */
	if (r->len + 2 >= sizeof r->out)
		return 1;
	r->out[r->len++] = ']';
	r->out[r->len] = 0;
	r->n++;
	return 0;
}

/* Parse S (N bytes) in one feed. */
static int parse_all(const char *s, size_t n, struct rec *r, struct sseparse *p)
{
	memset(r, 0, sizeof *r);
	return sseparse_feed(p, s, n, on_event, r, NULL);
}

static int parse_str(const char *s, struct rec *r)
{
	struct sseparse p;
	int rc;

	sseparse_init(&p, 4096, 4096);
	rc = parse_all(s, strlen(s), r, &p);
	sseparse_free(&p);
	return rc;
}

static void basic_fields(void)
{
	struct rec r;

	T_EQ_INT(parse_str("id: 1-0\nevent: webhook\ndata: {\"a\":1}\n\n", &r), 0);
	T_EQ_STR(r.out, "[webhook|1-0|{\"a\":1}]");
	T_EQ_INT(r.n, 1);
}

static void default_type_and_one_space(void)
{
	struct rec r;

	/* No event field: "message". Only one space after the colon goes. */
	T_EQ_INT(parse_str("data:  two spaces\n\ndata:none\n\n", &r), 0);
	T_EQ_STR(r.out, "[message|| two spaces][message||none]");
}

static void multi_line_data(void)
{
	struct rec r;

	T_EQ_INT(parse_str("data: a\ndata: b\ndata\ndata: c\n\n", &r), 0);
	T_EQ_STR(r.out, "[message||a\nb\n\nc]");
	/* "data" with no colon alone: one empty line of data is still an event. */
	T_EQ_INT(parse_str("data\n\n", &r), 0);
	T_EQ_STR(r.out, "[message||]");
	T_EQ_INT(r.n, 1);
}

static void comments_and_unknown_fields(void)
{
	struct rec r;
	struct sseparse p;

	sseparse_init(&p, 4096, 4096);
	T_EQ_INT(parse_all(": ping\n\n: ping\nfoo: bar\ndata: x\n:mid\n\n", 38, &r, &p), 0);
	T_EQ_STR(r.out, "[message||x]");
	T_EQ_INT(p.comments, 3);
	T_EQ_INT(p.events, 1);
	sseparse_free(&p);
}

static void no_data_no_event(void)
{
	struct rec r;

	/* An event type with no data is not dispatched, and the type does not
	 * leak into the next event. */
	T_EQ_INT(parse_str("event: gap\n\ndata: y\n\n", &r), 0);
	T_EQ_STR(r.out, "[message||y]");
}

static void incomplete_event_dropped(void)
{
	struct rec r;

	T_EQ_INT(parse_str("data: a\n\ndata: never ended\n", &r), 0);
	T_EQ_STR(r.out, "[message||a]");
	T_EQ_INT(r.n, 1);
}

static void line_ends(void)
{
	struct rec r;

	T_EQ_INT(parse_str("id: 1\r\ndata: a\r\n\r\nid: 2\rdata: b\r\rid: 3\ndata: c\r\n\n", &r), 0);
	T_EQ_STR(r.out, "[message|1|a][message|2|b][message|3|c]");
	/* CR then LF is one line end, LF then CR is two. */
	T_EQ_INT(parse_str("data: a\n\rdata: b\r\n\r\n", &r), 0);
	T_EQ_STR(r.out, "[message||a][message||b]");
}

static void id_persists_and_resets(void)
{
	struct rec r;

	T_EQ_INT(parse_str("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid:\ndata: d\n\n", &r), 0);
	T_EQ_STR(r.out, "[message|7|a][message|7|b][message||c][message||d]");
}

static void id_with_nul_ignored(void)
{
	static const char s[] = "id: 5\ndata: a\n\nid: 6\0x\ndata: b\n\n";
	struct sseparse p;
	struct rec r;

	sseparse_init(&p, 4096, 4096);
	T_EQ_INT(parse_all(s, sizeof s - 1, &r, &p), 0);
	T_EQ_STR(r.out, "[message|5|a][message|5|b]");
	T_EQ_STR(p.id, "5");
	sseparse_free(&p);
}

static void nul_in_data_kept(void)
{
	static const char s[] = "data: a\0b\n\n";
	struct sseparse p;
	struct rec r;

	sseparse_init(&p, 4096, 4096);
	T_EQ_INT(parse_all(s, sizeof s - 1, &r, &p), 0);
	T_EQ_STR(r.out, "[message||a\\0b]");
	sseparse_free(&p);
}

static void retry_digits_only(void)
{
	struct sseparse p;
	struct rec r;
	static const char *bad[] = {"retry: 12a\n", "retry: -5\n", "retry:\n", "retry: 1 \n", "retry: +3\n"};
	size_t i;

	sseparse_init(&p, 4096, 4096);
	T_EQ_INT(parse_all("retry: 2500\n", 12, &r, &p), 0);
	T_EQ_INT(p.retry_ms, 2500);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_EQ_INT(parse_all(bad[i], strlen(bad[i]), &r, &p), 0);
		T_EQ_INT(p.retry_ms, 2500);
	}
	T_EQ_INT(parse_all("retry:0\n", 8, &r, &p), 0);
	T_EQ_INT(p.retry_ms, 0);
	T_EQ_INT(r.n, 0);
	sseparse_free(&p);
}

static void bom_dropped_once(void)
{
	struct rec r;

	T_EQ_INT(parse_str("\xEF\xBB\xBF" "data: a\n\n", &r), 0);
	T_EQ_STR(r.out, "[message||a]");
	/* A second BOM is part of the field name: an unknown field. */
	T_EQ_INT(parse_str("\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\ndata: b\n\n", &r), 0);
	T_EQ_STR(r.out, "[message||b]");
}

static const char sample[] =
	"\xEF\xBB\xBF: hello\r\nretry: 3000\r\nid: 1-0\r\nevent: webhook\r\ndata: {\"x\":1}\r\n\r\n"
	": ping\n\nid: 1-1\revent: gap\rdata: {\"after\":\"1-0\"}\r\r"
	"id: 2-0\ndata: line1\ndata: line2\n\n"
	"data: tail\r\n\r\n";
static const char sample_want[] =
	"[webhook|1-0|{\"x\":1}][gap|1-1|{\"after\":\"1-0\"}][message|2-0|line1\nline2][message|2-0|tail]";

static void split_anywhere(void)
{
	size_t n = sizeof sample - 1, cut, i;
	struct sseparse p;
	struct rec r;
	int bad = 0;

	for (cut = 0; cut <= n; cut++) {
		sseparse_init(&p, 4096, 4096);
		memset(&r, 0, sizeof r);
		if (sseparse_feed(&p, sample, cut, on_event, &r, NULL) ||
		    sseparse_feed(&p, sample + cut, n - cut, on_event, &r, NULL) ||
		    strcmp(r.out, sample_want) || p.retry_ms != 3000 || p.comments != 2) {
			if (!bad)
				fprintf(stderr, "split at %zu: %s\n", cut, r.out);
			bad++;
		}
		sseparse_free(&p);
	}
	T_EQ_INT(bad, 0);
	/* Byte by byte. */
	sseparse_init(&p, 4096, 4096);
	memset(&r, 0, sizeof r);
	for (i = 0; i < n; i++)
		T_EQ_INT(sseparse_feed(&p, sample + i, 1, on_event, &r, NULL), 0);
	T_EQ_STR(r.out, sample_want);
	sseparse_free(&p);
}

static void oversize_line_refused(void)
{
	struct sseparse p;
	struct rec r;
	enum sseparse_why why = SSEPARSE_OK;
	char big[200];

	memset(big, 'x', sizeof big);
	memcpy(big, "data: ", 6);
	sseparse_init(&p, 64, 4096);
	memset(&r, 0, sizeof r);
	/* Exactly 64 bytes is fine. */
	T_EQ_INT(sseparse_feed(&p, big, 64, on_event, &r, &why), 0);
	T_EQ_INT(sseparse_feed(&p, "\n\n", 2, on_event, &r, &why), 0);
	T_EQ_INT(r.n, 1);
	/* 65 bytes without a line end, split over two feeds, is refused. */
	T_EQ_INT(sseparse_feed(&p, big, 40, on_event, &r, &why), 0);
	T_EQ_INT(sseparse_feed(&p, big, 25, on_event, &r, &why), -EMSGSIZE);
	T_EQ_INT(why, SSEPARSE_LINE_TOO_LONG);
	T_CHECK(strcmp(sseparse_why_text(why), "line too long") == 0);
	/* Stays stopped, even for good bytes, until reset. */
	T_EQ_INT(sseparse_feed(&p, "\n\ndata: z\n\n", 11, on_event, &r, &why), -EMSGSIZE);
	T_EQ_INT(why, SSEPARSE_STOPPED);
	T_EQ_INT(r.n, 1);
	sseparse_reset(&p);
	T_EQ_INT(sseparse_feed(&p, "data: z\n\n", 9, on_event, &r, &why), 0);
	T_EQ_INT(r.n, 2);
	T_CHECK(p.line_cap <= 65);
	sseparse_free(&p);
}

static void oversize_event_refused(void)
{
	struct sseparse p;
	struct rec r;
	enum sseparse_why why = SSEPARSE_OK;
	int i, rc = 0;

	sseparse_init(&p, 64, 100);
	memset(&r, 0, sizeof r);
	for (i = 0; i < 20 && !rc; i++)
		rc = sseparse_feed(&p, "data: 0123456789\n", 17, on_event, &r, &why);
	T_EQ_INT(rc, -EMSGSIZE);
	T_EQ_INT(why, SSEPARSE_EVENT_TOO_BIG);
	T_EQ_INT(i, 10);          /* 9 lines of 11 bytes fit in 100, the 10th does not */
	T_EQ_INT(r.n, 0);
	T_CHECK(p.data_cap <= 101);
	sseparse_free(&p);
}

static void long_id_refused(void)
{
	struct sseparse p;
	struct rec r;
	enum sseparse_why why = SSEPARSE_OK;
	char line[SSEPARSE_ID_MAX + 8];

	memset(line, 'a', sizeof line);
	memcpy(line, "id: ", 4);
	line[sizeof line - 1] = '\n';
	sseparse_init(&p, 4096, 4096);
	memset(&r, 0, sizeof r);
	T_EQ_INT(sseparse_feed(&p, line, sizeof line, on_event, &r, &why), -EMSGSIZE);
	T_EQ_INT(why, SSEPARSE_FIELD_TOO_LONG);
	sseparse_free(&p);
}

static int stop_cb(void *arg, const struct sseparse_event *ev)
{
	(void)ev;
	++*(int *)arg;
	return 1;
}

static void callback_stops(void)
{
	struct sseparse p;
	enum sseparse_why why = SSEPARSE_OK;
	int n = 0;

	sseparse_init(&p, 4096, 4096);
	T_EQ_INT(sseparse_feed(&p, "data: a\n\ndata: b\n\n", 18, stop_cb, &n, &why), -ECANCELED);
	T_EQ_INT(why, SSEPARSE_CALLBACK);
	T_EQ_INT(n, 1);
	sseparse_free(&p);
}

static void reset_keeps_id(void)
{
	struct sseparse p;
	struct rec r;

	sseparse_init(&p, 4096, 4096);
	T_EQ_INT(parse_all("id: 9-1\nretry: 10\ndata: a\n\ndata: half", 37, &r, &p), 0);
	sseparse_reset(&p);
	T_EQ_STR(p.id, "9-1");
	T_EQ_INT(p.retry_ms, 10);
	/* The half event is gone after a reset. */
	T_EQ_INT(parse_all("\n\ndata: b\n\n", 11, &r, &p), 0);
	T_EQ_STR(r.out, "[message|9-1|b]");
	sseparse_free(&p);
	T_EQ_INT(sseparse_init(&p, 0, 10), -EINVAL);
	T_EQ_INT(sseparse_init(&p, 10, 0), -EINVAL);
}

int main(void)
{
	T_RUN(basic_fields);
	T_RUN(default_type_and_one_space);
	T_RUN(multi_line_data);
	T_RUN(comments_and_unknown_fields);
	T_RUN(no_data_no_event);
	T_RUN(incomplete_event_dropped);
	T_RUN(line_ends);
	T_RUN(id_persists_and_resets);
	T_RUN(id_with_nul_ignored);
	T_RUN(nul_in_data_kept);
	T_RUN(retry_digits_only);
	T_RUN(bom_dropped_once);
	T_RUN(split_anywhere);
	T_RUN(oversize_line_refused);
	T_RUN(oversize_event_refused);
	T_RUN(long_id_refused);
	T_RUN(callback_stops);
	T_RUN(reset_keeps_id);
	return T_EXIT();
}
