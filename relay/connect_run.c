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
#include "connect_log.h"
#include "connect_run.h"
#include "connect_stream.h"

enum handled { HANDLED, STOPPED };

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
	struct connect_log l;
	char err[512];

	if (connect_state_save(cfg->state_path, id, err, sizeof err)) {
		c->state_errors++;
		connect_log_begin(&l, "error", "state_write_failed");
		connect_log_str(&l, "id", id);
		connect_log_str(&l, "error", err);
		connect_log_end(&l);
	}
	/* In memory it advances anyway: the stream must not go back. */
	snprintf(last_id, CONNECT_STATE_ID_MAX + 1, "%s", id);
}

static void log_result(const char *level, const char *what, const struct connect_event *ev,
                       const char *id, const struct connect_fwd_result *r, unsigned attempts)
{
	struct connect_log l;

	connect_log_begin(&l, level, what);
	connect_log_str(&l, "id", id);
	connect_log_str(&l, "method", ev->method);
	connect_log_str(&l, "path", ev->path);
	if (r->status)
		connect_log_int(&l, "status", r->status);
	else
		connect_log_str(&l, "error", r->error);
	connect_log_int(&l, "attempts", attempts);
	connect_log_int(&l, "ms", r->elapsed_ms);
	connect_log_end(&l);
}

/* Forward EV until delivered or refused for good. */
static enum handled forward(const struct connect_cfg *cfg, CURL *h, const struct connect_event *ev,
                            const char *id, volatile sig_atomic_t *stop, struct connect_counts *c)
{
	struct connect_fwd_result r;
	struct connect_log l;
	unsigned attempt = 0;
	long long delay;

	for (;;) {
		attempt++;
		if (attempt > 1)
			c->retries++;
		if (connect_fwd_send(h, cfg->target, ev, (long)cfg->forward_timeout_ms, &r)) {
			memset(&r, 0, sizeof r);
			snprintf(r.error, sizeof r.error, "the target URL could not be built");
			log_result("error", "forward_failed", ev, id, &r, attempt);
			c->failed++;
			return HANDLED;
		}
		if (r.verdict == CONNECT_FWD_DELIVERED) {
			log_result("info", "forwarded", ev, id, &r, attempt);
			c->forwarded++;
			return HANDLED;
		}
		if (r.verdict == CONNECT_FWD_PERMANENT) {
			log_result("error", "forward_failed", ev, id, &r, attempt);
			c->failed++;
			return HANDLED;
		}
		delay = connect_fwd_delay_ms(attempt, cfg->retry_min_ms, cfg->retry_max_ms,
		                             r.retry_after_ms);
		connect_log_begin(&l, "warn", "forward_retry");
		connect_log_str(&l, "id", id);
		connect_log_str(&l, "method", ev->method);
		connect_log_str(&l, "path", ev->path);
		if (r.status)
			connect_log_int(&l, "status", r.status);
		else
			connect_log_str(&l, "error", r.error);
		connect_log_int(&l, "attempt", attempt);
		if (r.retry_after_ms >= 0)
			connect_log_int(&l, "retry_after_ms", r.retry_after_ms);
		connect_log_int(&l, "delay_ms", delay);
		connect_log_end(&l);
		if (*stop || nap(delay, stop))
			return STOPPED;
	}
}

static void log_gap(const struct connect_stream_ev *e, struct connect_counts *c)
{
	char after[CONNECT_STATE_ID_MAX + 1], oldest[CONNECT_STATE_ID_MAX + 1];
	struct connect_log l;

	c->gaps++;
	connect_log_begin(&l, "error", "gap");
	connect_log_str(&l, "id", e->id);
	if (connect_event_gap(e->data, e->data_len, after, oldest, sizeof after) == 0) {
		connect_log_str(&l, "after", after);
		connect_log_str(&l, "oldest", oldest);
	} else {
		connect_log_str(&l, "data", "(not a gap object)");
	}
	connect_log_str(&l, "what", "the server trimmed events this client never received");
	connect_log_int(&l, "gaps", (long long)c->gaps);
	connect_log_end(&l);
}

/* One event out of the stream. */
static enum handled handle(const struct connect_cfg *cfg, CURL *h, const struct connect_stream_ev *e,
                           char *last_id, volatile sig_atomic_t *stop, struct connect_counts *c)
{
	struct connect_event ev;
	struct connect_log l;
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
		connect_log_begin(&l, "error", "event_refused");
		connect_log_str(&l, "id", e->id);
		connect_log_str(&l, "error", err);
		connect_log_end(&l);
		if (connect_state_id_ok(e->id))
			save_state(cfg, last_id, e->id, c);
		return HANDLED;
	}
	id = e->id[0] ? e->id : ev.id;
	if (last_id[0]) {
		int cmp = connect_state_id_cmp(id, last_id);

		if (cmp == -1 || cmp == 0) {
			c->skipped++;
			connect_log_begin(&l, "warn", "skipped_already_forwarded");
			connect_log_str(&l, "id", id);
			connect_log_str(&l, "last_id", last_id);
			connect_log_end(&l);
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
	struct connect_log l;

	if (silent) {
		connect_log_begin(&l, "warn", "stream_silent");
		connect_log_int(&l, "silent_ms", silent_ms);
		connect_log_end(&l);
		return;
	}
	connect_log_begin(&l, s->ended_why == CONNECT_STREAM_END_CLOSED ? "warn" : "error",
	                  "stream_ended");
	connect_log_str(&l, "why", why[s->ended_why]);
	if (s->ended_why == CONNECT_STREAM_END_TRANSPORT)
		connect_log_str(&l, "error", s->error);
	if (s->ended_why == CONNECT_STREAM_END_REFUSED) {
		connect_log_int(&l, "status", s->status);
		connect_log_str(&l, "content_type", s->content_type);
		connect_log_str(&l, "body", s->body);
	}
	if (s->ended_why == CONNECT_STREAM_END_PARSE)
		connect_log_str(&l, "bound", sseparse_why_text(s->parse_why));
	connect_log_int(&l, "events", (long long)s->events);
	connect_log_end(&l);
}

/* One subscription, until it ends, goes silent or *STOP. 1 when the
 * stream was worth keeping (events came, or it lived a while), so the
 * reconnect backoff starts over. */
static int follow(const struct connect_cfg *cfg, CURL *h, char *last_id, long long *retry_hint,
                  volatile sig_atomic_t *stop, struct connect_counts *c, int *nomem)
{
	struct connect_stream s;
	struct connect_stream_ev *e;
	struct connect_log l;
	char err[256];
	int64_t opened = clock_mono_ms(), now;
	int good = 0, silent = 0;
	enum connect_stream_state st;

	if (connect_stream_open(&s, cfg->source, cfg->token, last_id, cfg->max_event_bytes,
	                        cfg->max_event_bytes, err, sizeof err)) {
		connect_log_begin(&l, "error", "subscribe_failed");
		connect_log_str(&l, "error", err);
		connect_log_end(&l);
		*nomem = 1;
		return 0;
	}
	connect_log_begin(&l, "info", "subscribing");
	connect_log_str(&l, "source", cfg->source);
	connect_log_str(&l, "last_event_id", last_id[0] ? last_id : NULL);
	connect_log_end(&l);
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
	connect_stream_close(&s);
	return good;
}

int connect_run(const struct connect_cfg *cfg, char *last_id, volatile sig_atomic_t *stop,
                struct connect_counts *counts)
{
	long long retry_hint = -1, base, delay;
	unsigned failures = 0, i;
	unsigned char r[2];
	struct connect_log l;
	CURL *h = curl_easy_init();
	int nomem = 0;

	if (!h) {
		connect_log_begin(&l, "error", "out_of_memory");
		connect_log_end(&l);
		return -ENOMEM;
	}
	while (!*stop) {
		if (follow(cfg, h, last_id, &retry_hint, stop, counts, &nomem))
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
		if (nomem) {
			delay = cfg->reconnect_max_ms;
			nomem = 0;
		}
		failures++;
		counts->reconnects++;
		connect_log_begin(&l, "info", "reconnect_wait");
		connect_log_int(&l, "delay_ms", delay);
		connect_log_int(&l, "failures", failures);
		connect_log_end(&l);
		if (nap(delay, stop))
			break;
	}
	curl_easy_cleanup(h);
	return 0;
}
