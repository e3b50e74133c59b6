/*
 * event.c — events and their JSON (contract in event.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/b64.h"
#include "../common/utf8.h"
#include "event.h"

struct jbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void jreserve(struct jbuf *j, size_t n)
{
	size_t cap;
	char *p;

	if (j->oom || j->len + n + 1 <= j->cap)
		return;
	cap = j->cap ? j->cap : 512;
	while (cap < j->len + n + 1)
		cap *= 2;
	if (!(p = realloc(j->p, cap))) {
		j->oom = 1;
		return;
	}
	j->p = p;
	j->cap = cap;
}

static void jput(struct jbuf *j, const char *s, size_t n)
{
	jreserve(j, n);
	if (j->oom)
		return;
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = '\0';
}

static void jputs(struct jbuf *j, const char *s)
{
	jput(j, s, strlen(s));
}

/* S as a JSON string, quotes included. */
static void jstr(struct jbuf *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), k;
	char esc[8];

	jput(j, "\"", 1);
	while (n) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\', esc[1] = (char)*p;
			jput(j, esc, 2);
			k = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			jput(j, esc, 6);
			k = 1;
		} else if ((k = utf8_seq(p, n)) == 0) {
			snprintf(esc, sizeof esc, "\\u%04x", *p); /* Latin-1 */
			jput(j, esc, 6);
			k = 1;
		} else {
			jput(j, (const char *)p, k);
		}
		p += k;
		n -= k;
	}
	jput(j, "\"", 1);
}

int event_tail(const struct event_req *rq, char **out, size_t *len)
{
	struct jbuf j = { 0 };
	char num[32];
	size_t i, blen;

	jputs(&j, "\"channel\":");
	jstr(&j, rq->channel);
	jputs(&j, ",\"method\":");
	jstr(&j, rq->method);
	jputs(&j, ",\"path\":");
	jstr(&j, rq->path);
	jputs(&j, ",\"query\":");
	jstr(&j, rq->query);
	jputs(&j, ",\"headers\":[");
	for (i = 0; i < rq->nheaders; i++) {
		jputs(&j, i ? ",[" : "[");
		jstr(&j, rq->headers[i].name);
		jput(&j, ",", 1);
		jstr(&j, rq->headers[i].value);
		jput(&j, "]", 1);
	}
	jputs(&j, "],\"body\":\"");
	blen = b64_encoded_len(rq->body_len, 0);
	jreserve(&j, blen + 1);
	if (!j.oom) {
		b64_encode(rq->body, rq->body_len, 0, j.p + j.len, blen + 1, NULL);
		j.len += blen;
	}
	snprintf(num, sizeof num, "\",\"received_ms\":%" PRId64 "}", rq->received_ms);
	jputs(&j, num);
	if (j.oom) {
		free(j.p);
		return -ENOMEM;
	}
	*out = j.p;
	*len = j.len;
	return 0;
}

int event_new(const struct evid *id, const char *tail, size_t len, struct event **out)
{
	struct event *ev;
	size_t n;

	if (len < 2 || tail[0] != '"' || tail[len - 1] != '}' || memchr(tail, '\0', len) ||
	    memchr(tail, '\n', len) || memchr(tail, '\r', len))
		return -EINVAL;
	if (!(ev = calloc(1, sizeof *ev)))
		return -ENOMEM;
	ev->id = *id;
	evid_format(id, ev->idstr);
	n = 8 + strlen(ev->idstr) + 2 + len;
	if (!(ev->json = malloc(n + 1))) {
		free(ev);
		return -ENOMEM;
	}
	ev->len = (size_t)snprintf(ev->json, n + 1, "{\"id\":\"%s\",%.*s", ev->idstr, (int)len, tail);
	ev->refs = 1;
	*out = ev;
	return 0;
}

void event_ref(struct event *ev)
{
	if (ev)
		__atomic_add_fetch(&ev->refs, 1, __ATOMIC_RELAXED);
}

void event_unref(struct event *ev)
{
	if (ev && __atomic_sub_fetch(&ev->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(ev->json);
		free(ev);
	}
}
