/*
 * connect_run.c — the client's subscribe / forward / remember loop
 * (contract and the guarantees it keeps in connect_run.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "../common/clock.h"
#include "connect_event.h"
#include "connect_fwd.h"
#include "../common/log.h"
#include "connect_run.h"
#include "connect_stream.h"

enum handled { HANDLED, STOPPED };

/* A number as log text, in BUF (24 bytes). */
static const char *num(char *buf, long long v)
{
	snprintf(buf, 24, "%lld", v);
	return buf;
}

/* Sleep MS, in slices, ending early when *STOP is set. 1 when stopped. */
static int nap(long long ms, volatile sig_atomic_t *stop)
{
	int64_t end = clock_mono_ms() + ms;

	while (!*stop) {
		int64_t left = end - clock_mono_ms();
		struct timespec ts;

		if (left <= 0)
			return 0;
		if (left > 100)
			left = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
	}
	return 1;
}

static void save_state(const struct connect_cfg *cfg, char *last_id, const char *id,
                       struct connect_counts *c)
{
	char err[512];

	if (connect_state_save(cfg->state_path, id, err, sizeof err)) {
		c->state_errors++;
		log_event(LOG_ERROR, "state_write_failed", "id", id, "error", err, NULL);
	}
	/* In memory it advances anyway: the stream must not go back. */
	snprintf(last_id, CONNECT_STATE_ID_MAX + 1, "%s", id);
}

/* One line per event done with: id, method, path, the target's status
 * (or the transport error), attempts, time of the last attempt. */
static void log_result(enum log_level level, const char *what, const struct connect_event *ev,
                       const char *id, const struct connect_fwd_result *r, unsigned attempts)
{
	char st[24], at[24], ms[24];

	log_event(level, what, "id", id, "method", ev->method, "path", ev->path,
	          r->status ? "status" : "error", r->status ? num(st, r->status) : r->error,
	          "attempts", num(at, attempts), "ms", num(ms, r->elapsed_ms), NULL);
}

/* Forward EV until delivered or refused for good. */
static enum handled forward(const struct connect_cfg *cfg, CURL *h, const struct connect_event *ev,
                            const char *id, volatile sig_atomic_t *stop, struct connect_counts *c)
{
	struct connect_fwd_result r;
	char n1[24], n2[24], n3[24], n4[24];
	unsigned attempt = 0;
	long long delay;
	int rc;

	for (;;) {
		attempt++;
		if (attempt > 1)
			c->retries++;
		rc = connect_fwd_send(h, cfg->target, ev, (long)cfg->forward_timeout_ms, &r);
		if (rc == -ENOMEM) {
			/* Not the event's fault: try it again, as for a transport error. */
			memset(&r, 0, sizeof r);
			r.retry_after_ms = -1;
			r.verdict = CONNECT_FWD_RETRY;
			snprintf(r.error, sizeof r.error, "out of memory");
		} else if (rc) {
			memset(&r, 0, sizeof r);
			snprintf(r.error, sizeof r.error, "the target URL could not be built");
			log_result(LOG_ERROR, "forward_failed", ev, id, &r, attempt);
			c->failed++;
			return HANDLED;
		}
		if (r.verdict == CONNECT_FWD_DELIVERED) {
			log_result(LOG_INFO, "forwarded", ev, id, &r, attempt);
			c->forwarded++;
			return HANDLED;
		}
		if (r.verdict == CONNECT_FWD_PERMANENT) {
			log_result(LOG_ERROR, "forward_failed", ev, id, &r, attempt);
			c->failed++;
			return HANDLED;
		}
		delay = connect_fwd_delay_ms(attempt, cfg->retry_min_ms, cfg->retry_max_ms,
		                             r.retry_after_ms);
		log_event(LOG_WARN, "forward_retry", "id", id, "method", ev->method, "path", ev->path,
		          r.status ? "status" : "error", r.status ? num(n1, r.status) : r.error,
		          "attempt", num(n2, attempt), "delay_ms", num(n3, delay),
		          /* last: a NULL key ends the list when there is no hint */
		          r.retry_after_ms >= 0 ? "retry_after_ms" : NULL, num(n4, r.retry_after_ms),
		          NULL);
		if (*stop || nap(delay, stop))
			return STOPPED;
	}
}

static void log_gap(const struct connect_stream_ev *e, struct connect_counts *c)
{
	char after[CONNECT_STATE_ID_MAX + 1], oldest[CONNECT_STATE_ID_MAX + 1];
	char n[24];
	int ok;

	c->gaps++;
	ok = connect_event_gap(e->data, e->data_len, after, oldest, sizeof after) == 0;
	log_event(LOG_ERROR, "gap", "id", e->id, "after", ok ? after : "(not a gap object)",
	          "oldest", ok ? oldest : NULL,
	          "what", "the server trimmed events this client never received: they are lost",
	          "gaps", num(n, (long long)c->gaps), NULL);
}

/* One event out of the stream. */
static enum handled handle(const struct connect_cfg *cfg, CURL *h, const struct connect_stream_ev *e,
                           char *last_id, volatile sig_atomic_t *stop, struct connect_counts *c)
{
	struct connect_event ev;
	char err[256];
	const char *id;
	enum handled rc;

	if (!strcmp(e->type, "gap")) {
		log_gap(e, c);
		return HANDLED;
	}
	if (strcmp(e->type, "webhook"))
		return HANDLED;          /* other types are not ours */
	if (connect_event_decode(e->data, e->data_len, &ev, err, sizeof err)) {
		c->failed++;
		log_event(LOG_ERROR, "event_refused", "id", e->id, "error", err, NULL);
		if (connect_state_id_ok(e->id))
			save_state(cfg, last_id, e->id, c);
		return HANDLED;
	}
	/* The event's own id: an SSE event without an `id:` line would carry
	 * the previous one (EventSource keeps it), and then look forwarded. */
	id = connect_state_id_ok(ev.id) ? ev.id : e->id;
	if (last_id[0]) {
		int cmp = connect_state_id_cmp(id, last_id);

		if (cmp == -1 || cmp == 0) {
			c->skipped++;
			log_event(LOG_WARN, "skipped_already_forwarded", "id", id, "last_id", last_id, NULL);
			connect_event_free(&ev);
			return HANDLED;
		}
	}
	rc = forward(cfg, h, &ev, id, stop, c);
	if (rc == HANDLED && connect_state_id_ok(id))
		save_state(cfg, last_id, id, c);
	connect_event_free(&ev);
	return rc;
}

static void log_end(const struct connect_stream *s, int silent, long long silent_ms)
{
	static const char *const why[] = {
		[CONNECT_STREAM_END_NONE] = "stopped", [CONNECT_STREAM_END_CLOSED] = "closed by the server",
		[CONNECT_STREAM_END_TRANSPORT] = "connection error",
		[CONNECT_STREAM_END_REFUSED] = "refused by the server",
		[CONNECT_STREAM_END_PARSE] = "the stream broke a bound",
		[CONNECT_STREAM_END_NOMEM] = "out of memory",
	};
	char n1[24], n2[24];
	int refused = s->ended_why == CONNECT_STREAM_END_REFUSED;
	enum log_level lv = s->ended_why == CONNECT_STREAM_END_CLOSED ? LOG_WARN : LOG_ERROR;
	const char *w = why[s->ended_why], *ev;

	if (silent) {
		log_event(LOG_WARN, "stream_silent", "silent_ms", num(n1, silent_ms), NULL);
		return;
	}
	ev = num(n1, (long long)s->events);

	if (refused)
		log_event(lv, "stream_ended", "why", w, "events", ev, "status", num(n2, s->status),
		          "content_type", s->content_type, "body", s->body, NULL);
	else if (s->ended_why == CONNECT_STREAM_END_TRANSPORT)
		log_event(lv, "stream_ended", "why", w, "events", ev, "error", s->error, NULL);
	else if (s->ended_why == CONNECT_STREAM_END_PARSE)
		log_event(lv, "stream_ended", "why", w, "events", ev, "bound",
		          sseparse_why_text(s->parse_why), NULL);
	else
		log_event(lv, "stream_ended", "why", w, "events", ev, NULL);
}

/* One subscription, until it ends, goes silent or *STOP. 1 when the
 * stream was worth keeping (events came, or it lived a while), so the
 * reconnect backoff starts over. */
static int follow(const struct connect_cfg *cfg, CURL *h, char *last_id, long long *retry_hint,
                  long long *retry_after, volatile sig_atomic_t *stop, struct connect_counts *c,
                  int *nomem)
{
	struct connect_stream s;
	struct connect_stream_ev *e;
	char err[256];
	int64_t opened = clock_mono_ms(), now;
	int good = 0, silent = 0;
	enum connect_stream_state st;

	if (connect_stream_open(&s, cfg->source, cfg->token, last_id, cfg->max_event_bytes,
	                        cfg->max_event_bytes, err, sizeof err)) {
		log_event(LOG_ERROR, "subscribe_failed", "error", err, NULL);
		*nomem = 1;
		return 0;
	}
	log_event(LOG_INFO, "subscribing", "source", cfg->source, "last_event_id",
	          last_id[0] ? last_id : NULL, NULL);
	while (!*stop) {
		st = connect_stream_poll(&s, 200);
		if (connect_stream_retry_hint(&s) >= 0)
			*retry_hint = connect_stream_retry_hint(&s);
		if (st == CONNECT_STREAM_EVENT) {
			while (!*stop && (e = connect_stream_pop(&s))) {
				enum handled hr = handle(cfg, h, e, last_id, stop, c);

				free(e);
				if (hr == STOPPED)
					break;
			}
			connect_stream_touch(&s);
			continue;
		}
		if (st == CONNECT_STREAM_ENDED)
			break;
		now = clock_mono_ms();
		if (now - s.last_byte_ms > cfg->heartbeat_timeout_ms) {
			silent = 1;
			c->silent++;
			break;
		}
	}
	if (!*stop)
		log_end(&s, silent, clock_mono_ms() - s.last_byte_ms);
	good = s.events > 0 || clock_mono_ms() - opened > 10000;
	if (s.ended_why == CONNECT_STREAM_END_REFUSED || s.ended_why == CONNECT_STREAM_END_PARSE)
		good = 0;
	if (s.ended_why == CONNECT_STREAM_END_NOMEM)
		*nomem = 1;
	*retry_after = s.retry_after_ms;
	connect_stream_close(&s);
	return good;
}

int connect_run(const struct connect_cfg *cfg, char *last_id, volatile sig_atomic_t *stop,
                struct connect_counts *counts)
{
	long long retry_hint = -1, retry_after = -1, base, delay;
	unsigned failures = 0, i;
	unsigned char r[2];
	char n1[24], n2[24];
	CURL *h = curl_easy_init();
	int nomem = 0;

	if (!h) {
		log_event(LOG_ERROR, "out_of_memory", NULL);
		return -ENOMEM;
	}
	while (!*stop) {
		if (follow(cfg, h, last_id, &retry_hint, &retry_after, stop, counts, &nomem))
			failures = 0;
		if (*stop)
			break;
		/* Reconnect after the server's hint (or the minimum), doubled for
		 * each failure in a row, capped, minus up to a quarter at random. */
		base = retry_hint >= 0 ? retry_hint : cfg->reconnect_min_ms;
		if (base > cfg->reconnect_max_ms)
			base = cfg->reconnect_max_ms;
		delay = base > 0 ? base : 1;
		for (i = 0; i < failures && delay < cfg->reconnect_max_ms; i++)
			delay *= 2;
		if (delay > cfg->reconnect_max_ms)
			delay = cfg->reconnect_max_ms;
		if (getrandom(r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
			delay -= delay * ((r[0] << 8 | r[1]) % 2501) / 10000;
		/* A refusal's Retry-After (a relay whose store is down) is a
		 * floor, still under the cap. */
		if (retry_after > delay)
			delay = retry_after < cfg->reconnect_max_ms ? retry_after : cfg->reconnect_max_ms;
		if (nomem) {
			delay = cfg->reconnect_max_ms;
			nomem = 0;
		}
		failures++;
		counts->reconnects++;
		log_event(LOG_INFO, "reconnect_wait", "delay_ms", num(n1, delay), "failures",
		          num(n2, failures), NULL);
		if (nap(delay, stop))
			break;
	}
	curl_easy_cleanup(h);
	return 0;
}
