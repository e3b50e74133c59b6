/*
 * common_sse.c — unit tests for common/sse.c, the Server-Sent Events
 * writer: the exact bytes of an event with id, type and data; data split on
 * LF, CR LF and CR (one data line each, an empty line kept); the retry and
 * comment lines; values with a line break or NUL refused with the buffer
 * unchanged; the buffer cap.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../common/sse.h"
#include "t.h"

static void test_sse_event_exact(void)
{
	struct sse_buf b = { 0 };

	T_EQ_INT(sse_event(&b, "1-0", "webhook", "{\"a\":1}", 7), 0);
	T_EQ_STR(b.p, "id: 1-0\nevent: webhook\ndata: {\"a\":1}\n\n");
	T_EQ_INT(b.len, strlen(b.p));
	sse_free(&b);
}

static void test_sse_event_no_id_no_type(void)
{
	struct sse_buf b = { 0 };

	T_EQ_INT(sse_event(&b, NULL, NULL, "x", 1), 0);
	T_EQ_STR(b.p, "data: x\n\n");
	sse_reset(&b);
	T_EQ_INT(sse_event(&b, NULL, NULL, "", 0), 0);
	T_EQ_STR(b.p, "data: \n\n");
	sse_free(&b);
}

static void test_sse_data_line_breaks(void)
{
	struct sse_buf b = { 0 };
	static const char d[] = "a\nb\r\nc\rd\n\ne\n";

	T_EQ_INT(sse_event(&b, NULL, "m", d, strlen(d)), 0);
	T_EQ_STR(b.p, "event: m\ndata: a\ndata: b\ndata: c\ndata: d\ndata: \ndata: e\ndata: \n\n");
	T_EQ_INT(b.len, strlen(b.p));
	sse_free(&b);
}

static void test_sse_retry_comment(void)
{
	struct sse_buf b = { 0 };

	T_EQ_INT(sse_retry(&b, 3000), 0);
	T_EQ_INT(sse_comment(&b, "ping"), 0);
	T_EQ_STR(b.p, "retry: 3000\n\n: ping\n\n");
	sse_free(&b);
}

static void test_sse_refuses_breaks(void)
{
	struct sse_buf b = { 0 };

	T_EQ_INT(sse_event(&b, "1-0", NULL, "ok", 2), 0);
	T_EQ_INT(sse_event(&b, "1\n0", NULL, "x", 1), -EINVAL);
	T_EQ_INT(sse_event(&b, NULL, "a\rb", "x", 1), -EINVAL);
	T_EQ_INT(sse_event(&b, NULL, NULL, "x\0y", 3), -EINVAL);
	T_EQ_INT(sse_comment(&b, "two\nlines"), -EINVAL);
	T_EQ_STR(b.p, "id: 1-0\ndata: ok\n\n");
	sse_free(&b);
}

static void test_sse_cap(void)
{
	struct sse_buf b = { 0 };

	b.max = 20;
	T_EQ_INT(sse_event(&b, NULL, NULL, "0123456789", 10), 0); /* 18 bytes */
	T_EQ_INT(sse_comment(&b, "p"), -E2BIG);
	T_EQ_INT(b.len, 18);
	T_EQ_STR(b.p, "data: 0123456789\n\n");
	sse_free(&b);
	T_CHECK(b.p == NULL && b.len == 0);
}

int main(void)
{
	T_RUN(test_sse_event_exact);
	T_RUN(test_sse_event_no_id_no_type);
	T_RUN(test_sse_data_line_breaks);
	T_RUN(test_sse_retry_comment);
	T_RUN(test_sse_refuses_breaks);
	T_RUN(test_sse_cap);
	return T_EXIT();
}
