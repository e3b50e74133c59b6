/*
 * sse.c — the Server-Sent Events writer (contract in sse.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

/* Make room for N more bytes (and a NUL). */
static int reserve(struct sse_buf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (n > (size_t)-1 / 2 - b->len)
		return -E2BIG;
	want = b->len + n + 1;
	if (b->max && want - 1 > b->max)
		return -E2BIG;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	if (!(p = realloc(b->p, cap)))
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void put(struct sse_buf *b, const char *s, size_t n)
{
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* A field value may hold no line break and no NUL. */
static int one_line(const char *s)
{
	return !strpbrk(s, "\r\n");
}

/* The length "data: " lines take for DATA: each line gets a prefix and a
 * LF; CR LF counts as one break. */
static size_t data_len(const char *data, size_t len)
{
	size_t n = 7, i; /* "data: " + LF for the first line */

	for (i = 0; i < len; i++) {
		if (data[i] == '\r' || data[i] == '\n') {
			if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
				i++;
			n += 7;
		} else {
			n++;
		}
	}
	return n;
}

int sse_event(struct sse_buf *b, const char *id, const char *event, const char *data, size_t len)
{
	size_t n = 1, i, start;
	int rc;

	if ((id && !one_line(id)) || (event && !one_line(event)) || memchr(data, '\0', len))
		return -EINVAL;
	if (id)
		n += 5 + strlen(id);
	if (event)
		n += 8 + strlen(event);
	n += data_len(data, len);
	if ((rc = reserve(b, n)))
		return rc;
	if (id) {
		put(b, "id: ", 4);
		put(b, id, strlen(id));
		put(b, "\n", 1);
	}
	if (event) {
		put(b, "event: ", 7);
		put(b, event, strlen(event));
		put(b, "\n", 1);
	}
	for (start = i = 0;; i++) {
		if (i == len || data[i] == '\r' || data[i] == '\n') {
			put(b, "data: ", 6);
			put(b, data + start, i - start);
			put(b, "\n", 1);
			if (i == len)
				break;
			if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
				i++;
			start = i + 1;
		}
	}
	put(b, "\n", 1);
	return 0;
}

int sse_retry(struct sse_buf *b, unsigned ms)
{
	char line[32];
	int n = snprintf(line, sizeof line, "retry: %u\n\n", ms);
	int rc;

	if ((rc = reserve(b, (size_t)n)))
		return rc;
	put(b, line, (size_t)n);
	return 0;
}

int sse_comment(struct sse_buf *b, const char *text)
{
	size_t n = strlen(text);
	int rc;

	if (!one_line(text))
		return -EINVAL;
	if ((rc = reserve(b, n + 4)))
		return rc;
	put(b, ": ", 2);
	put(b, text, n);
	put(b, "\n\n", 2);
	return 0;
}

void sse_reset(struct sse_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void sse_free(struct sse_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
