/*
 * stream.c — one subscriber's SSE stream (contract in stream.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/sse.h"
#include "metrics.h"
#include "stream.h"

#define REPLAY_PAGE 128

/* Send what B holds and empty it. */
static int flush(const struct stream_params *p, struct sse_buf *b)
{
	int rc = b->len ? p->write(p->write_ctx, b->p, b->len) : 0;

	sse_reset(b);
	return rc;
}

static int send_event(const struct stream_params *p, struct sse_buf *b, struct stream_result *r,
    const struct event *ev)
{
	if (sse_event(b, ev->idstr, "webhook", ev->json, ev->len))
		return -ENOMEM;
	if (flush(p, b))
		return -EPIPE;
	r->events++;
	r->bytes += ev->len;
	metrics_event_out(p->channel, ev->len);
	return 0;
}

static int send_gap(const struct stream_params *p, struct sse_buf *b, const struct evid *after,
    const struct evstore_range *rg)
{
	char a[EVID_STR_MAX], o[EVID_STR_MAX], data[160];

	evid_format(after, a);
	if (rg->has_oldest) {
		evid_format(&rg->oldest, o);
		snprintf(data, sizeof data, "{\"after\":\"%s\",\"oldest\":\"%s\"}", a, o);
	} else {
		snprintf(data, sizeof data, "{\"after\":\"%s\",\"oldest\":null}", a);
	}
	if (sse_event(b, NULL, "gap", data, strlen(data)))
		return -ENOMEM;
	return flush(p, b) ? -EPIPE : 0;
}

/* Everything the store keeps after *LAST, page by page; *LAST moves on. */
static int replay(const struct stream_params *p, struct sse_buf *b, struct stream_result *r,
    struct evid *last)
{
	struct event *page[REPLAY_PAGE];
	struct evstore_range rg;
	enum evstore_why why;
	size_t n, i;
	int rc;

	do {
		if ((rc = p->store->ops->range(p->store, p->channel, last, REPLAY_PAGE, page, &n, &rg,
		    &why))) {
			snprintf(r->why, sizeof r->why, "%s", evstore_why_name(why));
			return -EIO;
		}
		rc = 0;
		if (rg.gap) {
			r->gap = 1;
			rc = send_gap(p, b, last, &rg);
		}
		for (i = 0; i < n; i++) {
			if (!rc && !(rc = send_event(p, b, r, page[i])))
				*last = page[i]->id;
			event_unref(page[i]);
		}
		if (rc)
			return rc;
	} while (n == REPLAY_PAGE);
	return 0;
}

int stream_run(const struct stream_params *p, struct stream_result *r)
{
	struct sse_buf b = { 0 };
	struct evid last = p->after;
	struct event *ev;
	int rc, has_last = p->has_after;

	memset(r, 0, sizeof *r);
	r->end = STREAM_GONE;
	if (sse_retry(&b, p->retry_ms) || sse_comment(&b, "relay stream open")) {
		r->end = STREAM_NOMEM;
		goto out;
	}
	if (flush(p, &b))
		goto out;
	if (has_last && (rc = replay(p, &b, r, &last))) {
		r->end = rc == -EIO ? STREAM_STORE : rc == -ENOMEM ? STREAM_NOMEM : STREAM_GONE;
		goto out;
	}
	for (;;) {
		switch (hub_next(p->hub, p->sub, p->heartbeat_ms, &ev)) {
		case HUB_EVENT:
			/* The queue began before the replay: skip what it sent. */
			if (has_last && evid_cmp(&ev->id, &last) <= 0) {
				event_unref(ev);
				continue;
			}
			rc = send_event(p, &b, r, ev);
			last = ev->id;
			has_last = 1;
			event_unref(ev);
			if (rc) {
				r->end = rc == -ENOMEM ? STREAM_NOMEM : STREAM_GONE;
				goto out;
			}
			break;
		case HUB_TIMEOUT:
			if (sse_comment(&b, "ping") || flush(p, &b))
				goto out;
			r->heartbeats++;
			break;
		case HUB_DROPPED:
			r->end = STREAM_DROPPED;
			snprintf(r->why, sizeof r->why, "%s", hub_drop_reason(p->sub));
			goto out;
		case HUB_DRAIN:
			r->end = STREAM_DRAINED;
			if (!sse_retry(&b, p->retry_ms))
				flush(p, &b);
			goto out;
		}
	}
out:
	sse_free(&b);
	return 0;
}

const char *stream_end_name(enum stream_end end)
{
	switch (end) {
	case STREAM_GONE: return "client_gone";
	case STREAM_DROPPED: return "dropped";
	case STREAM_DRAINED: return "drained";
	case STREAM_STORE: return "store_error";
	case STREAM_NOMEM: return "out_of_memory";
	}
	return "unknown";
}
