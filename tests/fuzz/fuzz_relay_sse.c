/*
 * fuzz_relay_sse.c — libFuzzer harness for what webhook-relay connect
 * parses from its source: the SSE stream (common/sseparse.c) and each
 * event's JSON (relay/connect_event.c) as far as the forward request
 * (relay/connect_req.c: URL and header lines).
 *
 * The input is a stream. It is parsed twice, in one feed and split into
 * chunks whose sizes come from the input's own bytes, and both runs must
 * dispatch the same events (same type, id and data bytes) and end in the
 * same state. Each `webhook` event is decoded; an accepted one must hold a
 * token method, a path starting with '/', header names that are tokens and
 * values without CR/LF, and must give a URL with no space, control or
 * non-ASCII byte and header lines without CR/LF that never carry a dropped
 * header. Each `gap` event goes through the gap decoder.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../relay/connect_event.h"
#include "../../relay/connect_req.h"
#include "../../common/sseparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct digest {
	uint64_t h;
	unsigned long n;
};

static void mix(struct digest *d, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		d->h = (d->h ^ b[i]) * 1099511628211ULL;
	d->h = (d->h ^ n) * 1099511628211ULL;
}

static void check_request(const struct connect_event *ev)
{
	char **lines = NULL, *url = NULL;
	size_t n = 0, i;
	const char *p;

	if (!connect_event_is_token(ev->method, strlen(ev->method)) || ev->path[0] != '/')
		abort();
	for (i = 0; i < ev->nhdrs; i++)
		if (!connect_event_is_token(ev->hdrs[i].name, strlen(ev->hdrs[i].name)) ||
		    strpbrk(ev->hdrs[i].value, "\r\n"))
			abort();
	if (connect_req_url("http://127.0.0.1:9/base/", ev->path, ev->query, &url) == 0) {
		if (strncmp(url, "http://127.0.0.1:9/base/", 24))
			abort();
		for (p = url; *p; p++)
			if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#')
				abort();
		if (*ev->query && !strchr(url, '?'))
			abort();
		free(url);
	}
	if (connect_req_headers(ev, &lines, &n) == 0) {
		for (i = 0; i < n; i++) {
			char name[300];
			size_t nl = strcspn(lines[i], ":;");

			if (strpbrk(lines[i], "\r\n") || nl >= sizeof name)
				abort();
			memcpy(name, lines[i], nl);
			name[nl] = 0;
			/* A dropped name only as an empty (switch-off) line. */
			if (connect_req_dropped(ev, name) && strcmp(lines[i] + nl, ":"))
				abort();
		}
		connect_req_lines_free(lines, n);
	}
}

static int on_event(void *arg, const struct sseparse_event *e)
{
	struct digest *d = arg;

	d->n++;
	mix(d, e->type, strlen(e->type));
	mix(d, e->id, strlen(e->id));
	mix(d, e->data, e->data_len);
	return 0;
}

static int on_event_decode(void *arg, const struct sseparse_event *e)
{
	struct connect_event ev;
	char err[256], a[64], o[64];

	on_event(arg, e);
	if (!strcmp(e->type, "webhook")) {
		if (connect_event_decode(e->data, e->data_len, &ev, err, sizeof err) == 0) {
			check_request(&ev);
			connect_event_free(&ev);
		} else if (!err[0]) {
			abort();   /* every refusal says why */
		}
	} else if (!strcmp(e->type, "gap")) {
		(void)connect_event_gap(e->data, e->data_len, a, o, sizeof a);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sseparse one, split;
	struct digest d1 = {14695981039346656037ULL, 0}, d2 = {14695981039346656037ULL, 0};
	enum sseparse_why w1 = SSEPARSE_OK, w2 = SSEPARSE_OK;
	const char *s = (const char *)data;
	size_t i = 0, step;
	int r1, r2 = 0;

	if (sseparse_init(&one, 4096, 16384) || sseparse_init(&split, 4096, 16384))
		abort();
	r1 = sseparse_feed(&one, s, size, on_event_decode, &d1, &w1);
	while (i < size && !r2) {
		step = 1 + data[i] % 23;
		if (step > size - i)
			step = size - i;
		r2 = sseparse_feed(&split, s + i, step, on_event, &d2, &w2);
		i += step;
	}
	if (r1 != r2 || w1 != w2 || d1.h != d2.h || d1.n != d2.n || one.retry_ms != split.retry_ms ||
	    strcmp(one.id, split.id) || one.comments != split.comments)
		abort();
	sseparse_free(&one);
	sseparse_free(&split);
	return 0;
}
