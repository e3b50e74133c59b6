/*
 * relay_evstore_mem.c — unit tests for the in-memory event store
 * (relay/evstore_mem.c) and the event JSON (relay/event.c): ids from the
 * clock as Redis gives them, delivery in id order, the count, byte and age
 * bounds, resume after an id, the gap when history was trimmed past it,
 * the channel cap; the JSON of an event (order and repeats of headers,
 * escapes, base64 body); and the hub's per-subscriber queue caps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../relay/event.h"
#include "../../relay/evstore_mem.h"
#include "../../relay/hub.h"
#include "t.h"

static int64_t fake_now;
static int64_t clock_fake(void) { return fake_now; }

struct seen {
	struct evid ids[64];
	char chans[64][16];
	size_t n;
};

static void on_deliver(void *ctx, const char *channel, struct event *ev)
{
	struct seen *s = ctx;

	if (s->n < 64) {
		s->ids[s->n] = ev->id;
		snprintf(s->chans[s->n], sizeof s->chans[0], "%s", channel);
		s->n++;
	}
}

static struct evstore *open_mem(size_t events, size_t bytes, int64_t age, size_t chans,
    struct seen *seen)
{
	struct evstore_mem_config c = { events, bytes, age, chans, 0, clock_fake };
	struct evstore *s = NULL;

	T_EQ_INT(evstore_mem_open(&c, on_deliver, seen, &s), 0);
	return s;
}

static const char tail[] = "\"channel\":\"c\",\"body\":\"\",\"received_ms\":1}";

static struct evid put(struct evstore *s, const char *ch)
{
	struct evid id = { 0, 0 };
	enum evstore_why why;

	T_EQ_INT(s->ops->publish(s, ch, tail, strlen(tail), &id, &why), 0);
	return id;
}

static void test_mem_ids_and_delivery(void)
{
	struct seen seen = { 0 };
	struct evstore *s = open_mem(10, 1 << 20, 0, 4, &seen);
	struct evid a, b, c, d;

	fake_now = 1000;
	a = put(s, "c");
	b = put(s, "c");
	fake_now = 999; /* the clock went back */
	c = put(s, "c");
	fake_now = 2000;
	d = put(s, "other");
	T_CHECK(a.ms == 1000 && a.seq == 0);
	T_CHECK(b.ms == 1000 && b.seq == 1);
	T_CHECK(c.ms == 1000 && c.seq == 2);
	T_CHECK(d.ms == 2000 && d.seq == 0);
	T_EQ_INT(seen.n, 4);
	T_CHECK(evid_cmp(&seen.ids[2], &c) == 0);
	T_EQ_STR(seen.chans[3], "other");
	s->ops->close(s);
}

static void test_mem_resume_and_gap(void)
{
	struct seen seen = { 0 };
	struct evstore *s = open_mem(3, 1 << 20, 0, 4, &seen);
	struct event *out[8];
	struct evstore_range r;
	enum evstore_why why;
	struct evid ids[5], zero = { 0, 0 };
	size_t n, i;

	fake_now = 5000;
	for (i = 0; i < 5; i++)
		ids[i] = put(s, "c");
	/* Kept: ids[2..4]. After ids[2]: ids[3], ids[4], no gap. */
	T_EQ_INT(s->ops->range(s, "c", &ids[2], 8, out, &n, &r, &why), 0);
	T_EQ_INT(n, 2);
	T_CHECK(n == 2 && evid_cmp(&out[0]->id, &ids[3]) == 0 && evid_cmp(&out[1]->id, &ids[4]) == 0);
	T_CHECK(n == 2 && !strncmp(out[0]->json, "{\"id\":\"5000-3\",\"channel\"", 24));
	T_EQ_INT(r.gap, 0);
	for (i = 0; i < n; i++)
		event_unref(out[i]);
	/* After ids[1], the newest trimmed one: nothing was lost after it. */
	T_EQ_INT(s->ops->range(s, "c", &ids[1], 8, out, &n, &r, &why), 0);
	T_EQ_INT(n, 3);
	T_EQ_INT(r.gap, 0);
	for (i = 0; i < n; i++)
		event_unref(out[i]);
	/* After ids[0]: ids[1] went, a gap; the oldest kept is ids[2]. */
	T_EQ_INT(s->ops->range(s, "c", &ids[0], 8, out, &n, &r, &why), 0);
	T_EQ_INT(n, 3);
	T_EQ_INT(r.gap, 1);
	T_CHECK(r.has_oldest && evid_cmp(&r.oldest, &ids[2]) == 0);
	for (i = 0; i < n; i++)
		event_unref(out[i]);
	/* From the very start, with MAX smaller than what is kept. */
	T_EQ_INT(s->ops->range(s, "c", &zero, 2, out, &n, &r, &why), 0);
	T_EQ_INT(n, 2);
	T_EQ_INT(r.gap, 1);
	for (i = 0; i < n; i++)
		event_unref(out[i]);
	/* After the newest: nothing. An unknown channel: nothing, no gap. */
	T_EQ_INT(s->ops->range(s, "c", &ids[4], 8, out, &n, &r, &why), 0);
	T_EQ_INT(n, 0);
	T_EQ_INT(s->ops->range(s, "nope", &zero, 8, out, &n, &r, &why), 0);
	T_EQ_INT(n, 0);
	T_EQ_INT(r.gap, 0);
	T_EQ_INT(r.has_oldest, 0);
	s->ops->close(s);
}

static void test_mem_bytes_and_age(void)
{
	struct seen seen = { 0 };
	size_t one = strlen(tail) + strlen("{\"id\":\"1000-0\",");
	struct evstore *s = open_mem(100, 2 * one + 2, 10000, 4, &seen);
	struct event *out[8];
	struct evstore_range r;
	enum evstore_why why;
	struct evid zero = { 0, 0 };
	size_t n, i;

	fake_now = 1000;
	put(s, "c");
	put(s, "c");
	put(s, "c");
	T_EQ_INT(s->ops->range(s, "c", &zero, 8, out, &n, &r, &why), 0);
	T_EQ_INT(n, 2); /* the byte cap holds two */
	T_EQ_INT(r.gap, 1);
	for (i = 0; i < n; i++)
		event_unref(out[i]);
	fake_now = 1000 + 10001; /* older than 10 s: gone */
	s->ops->prune(s);
	T_EQ_INT(s->ops->range(s, "c", &zero, 8, out, &n, &r, &why), 0);
	T_EQ_INT(n, 0);
	T_EQ_INT(r.gap, 1);
	s->ops->close(s);
}

static void test_mem_channel_cap(void)
{
	struct seen seen = { 0 };
	struct evstore *s = open_mem(4, 1 << 20, 0, 2, &seen);
	enum evstore_why why = EVSTORE_OK;
	struct evid id;

	fake_now = 1;
	put(s, "a");
	put(s, "b");
	T_EQ_INT(s->ops->publish(s, "c", tail, strlen(tail), &id, &why), -ENOSPC);
	T_EQ_INT(why, EVSTORE_CHANNELS);
	T_EQ_INT(seen.n, 2);
	put(s, "a"); /* a known channel still takes events */
	T_EQ_INT(seen.n, 3);
	s->ops->close(s);
}

static void test_mem_total_bytes(void)
{
	struct evstore_mem_config cfg = { 100, 1 << 20, 0, 4, 0, clock_fake };
	struct evstore *s = NULL;
	struct event *out[16];
	struct evstore_range r;
	enum evstore_why why;
	struct evid zero = { 0, 0 };
	size_t one = strlen(tail) + strlen("{\"id\":\"7000-0\","), n, i, na, nb;

	cfg.max_total_bytes = 5 * one;
	T_EQ_INT(evstore_mem_open(&cfg, NULL, NULL, &s), 0);
	fake_now = 7000;
	for (i = 0; i < 4; i++)
		put(s, "a");
	put(s, "b");
	put(s, "b"); /* over the cap: "a", the largest, loses its oldest */
	T_EQ_INT(s->ops->range(s, "a", &zero, 16, out, &n, &r, &why), 0);
	na = n;
	T_EQ_INT(r.gap, 1);
	for (i = 0; i < n; i++)
		event_unref(out[i]);
	T_EQ_INT(s->ops->range(s, "b", &zero, 16, out, &n, &r, &why), 0);
	nb = n;
	T_EQ_INT(r.gap, 0);
	for (i = 0; i < n; i++)
		event_unref(out[i]);
	T_EQ_INT(na, 3);
	T_EQ_INT(nb, 2);
	s->ops->close(s);
}

static void test_event_json(void)
{
	static const struct event_hdr h[] = { { "X-A", "1" }, { "X-A", "2" },
		{ "Q", "say \"hi\"\\\x01\xc3\xa9\xff" } };
	static const unsigned char body[] = { 0, 0xff, 'a' };
	struct event_req rq = { "ch", "POST", "/p", NULL, h, 3, body, 3, 42 };
	struct evid id = { 7, 1 };
	struct event *ev = NULL;
	char *t = NULL;
	size_t len = 0;

	T_EQ_INT(event_tail(&rq, &t, &len), 0);
	T_EQ_INT(event_new(&id, t, len, &ev), 0);
	T_EQ_STR(ev ? ev->json : NULL, "{\"id\":\"7-1\",\"channel\":\"ch\",\"method\":\"POST\","
	    "\"path\":\"/p\",\"query\":\"\",\"headers\":[[\"X-A\",\"1\"],[\"X-A\",\"2\"],"
	    "[\"Q\",\"say \\\"hi\\\"\\\\\\u0001\xc3\xa9\\u00ff\"]],\"body\":\"AP9h\","
	    "\"received_ms\":42}");
	T_EQ_INT(ev ? ev->len : 0, ev ? strlen(ev->json) : 1);
	T_EQ_INT(event_new(&id, "not a tail", 10, &ev), -EINVAL);
	event_unref(ev);
	free(t);
}

static int drops;
static char drop_label[128], drop_reason[128];

static void on_drop(void *ctx, const char *channel, const char *label, const char *reason)
{
	(void)ctx;
	(void)channel;
	drops++;
	snprintf(drop_label, sizeof drop_label, "%s", label);
	snprintf(drop_reason, sizeof drop_reason, "%s", reason);
}

static void test_hub_queue_caps(void)
{
	struct hub_config c = { 2, 3, 1 << 20, on_drop, NULL };
	struct hub *h = NULL;
	struct hub_sub *a = NULL, *b = NULL, *x = NULL;
	struct event *ev = NULL, *got = NULL;
	struct evid id = { 1, 0 };
	int i;

	T_EQ_INT(hub_new(&c, &h), 0);
	T_EQ_INT(event_new(&id, tail, strlen(tail), &ev), 0);
	T_EQ_INT(hub_join(h, "c", "a", &a), 0);
	T_EQ_INT(hub_join(h, "c", "b", &b), 0);
	T_EQ_INT(hub_join(h, "c", "x", &x), -EBUSY);
	/* A reads as it goes; B never does and is dropped at the 4th event. */
	for (i = 0; i < 4; i++) {
		T_EQ_INT(hub_deliver(h, "c", ev), i == 3 ? 1 : 0);
		T_EQ_INT(hub_next(h, a, 0, &got), HUB_EVENT);
		event_unref(got);
	}
	T_EQ_INT(hub_next(h, b, 0, &got), HUB_DROPPED);
	T_CHECK(strstr(hub_drop_reason(b), "queue full") != NULL);
	T_EQ_INT(hub_next(h, a, 10, &got), HUB_TIMEOUT);
	T_EQ_INT(hub_deliver(h, "other", ev), 0);
	T_EQ_INT(hub_next(h, a, 0, &got), HUB_TIMEOUT);
	hub_leave(h, b);
	T_EQ_INT(hub_count(h), 1);
	hub_drain(h);
	T_EQ_INT(hub_next(h, a, 1000, &got), HUB_DRAIN);
	T_EQ_INT(hub_join(h, "c", NULL, &x), -ESHUTDOWN);
	T_EQ_INT(drops, 1);
	T_EQ_STR(drop_label, "b");
	T_CHECK(strstr(drop_reason, "queue full: 3 events") != NULL);
	T_EQ_INT(ev->refs, 1); /* every queue's reference was given back */
	hub_free(h);
	event_unref(ev);
}

int main(void)
{
	T_RUN(test_mem_ids_and_delivery);
	T_RUN(test_mem_resume_and_gap);
	T_RUN(test_mem_bytes_and_age);
	T_RUN(test_mem_channel_cap);
	T_RUN(test_mem_total_bytes);
	T_RUN(test_event_json);
	T_RUN(test_hub_queue_caps);
	return T_EXIT();
}
