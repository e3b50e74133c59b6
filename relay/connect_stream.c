/*
 * connect_stream.c — one SSE subscription over libcurl's multi interface
 * (contract in connect_stream.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/clock.h"
#include "connect_stream.h"

static int enqueue(void *arg, const struct sseparse_event *e)
{
	struct connect_stream *s = arg;
	struct connect_stream_ev *ev;

	ev = malloc(sizeof *ev + e->data_len + 1);
	if (!ev)
		return 1;
	ev->next = NULL;
	snprintf(ev->type, sizeof ev->type, "%s", e->type);
	snprintf(ev->id, sizeof ev->id, "%s", e->id);
	ev->data_len = e->data_len;
	memcpy(ev->data, e->data, e->data_len);
	ev->data[e->data_len] = 0;
	if (s->tail)
		s->tail->next = ev;
	else
		s->head = ev;
	s->tail = ev;
	s->queued++;
	s->queued_bytes += e->data_len;
	s->events++;
	return 0;
}

/* First bytes of the body: is this the stream we asked for? */
static void check_answer(struct connect_stream *s)
{
	char *ct = NULL;

	s->checked = 1;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
	curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(s->content_type, sizeof s->content_type, "%s", ct ? ct : "");
	s->accepted = s->status == 200 && ct && !strncasecmp(ct, "text/event-stream", 17);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct connect_stream *s = arg;
	size_t len = size * n, k;
	enum sseparse_why why = SSEPARSE_OK;
	int rc;

	if (!s->checked)
		check_answer(s);
	s->last_byte_ms = clock_mono_ms();
	if (!s->accepted) {
		k = sizeof s->body - 1 - s->body_len;
		if (k > len)
			k = len;
		memcpy(s->body + s->body_len, p, k);
		s->body_len += k;
		s->body[s->body_len] = 0;
		/* Enough to log; the rest is not worth waiting for. */
		return s->body_len + 1 >= sizeof s->body ? 0 : len;
	}
	if (s->queued >= CONNECT_STREAM_QUEUE_MAX || s->queued_bytes >= CONNECT_STREAM_QUEUE_BYTES) {
		s->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	rc = sseparse_feed(&s->parser, p, len, enqueue, s, &why);
	if (rc) {
		s->parse_why = why;
		s->ended_why = rc == -EMSGSIZE ? CONNECT_STREAM_END_PARSE : CONNECT_STREAM_END_NOMEM;
		return 0;
	}
	return len;
}

int connect_stream_open(struct connect_stream *s, const char *url, const char *token,
                        const char *last_id, size_t max_line, size_t max_event, char *err,
                        size_t errlen)
{
	char line[SSEPARSE_ID_MAX + 4200];
	struct curl_slist *t;
	const char *fixed[] = {"Accept: text/event-stream", "Cache-Control: no-cache"};
	size_t i;
	int rc = -ENOMEM, n;

	memset(s, 0, sizeof *s);
	s->retry_after_ms = -1;
	s->last_byte_ms = clock_mono_ms();
	if (sseparse_init(&s->parser, max_line, max_event)) {
		snprintf(err, errlen, "bad parser bounds");
		return -EINVAL;
	}
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		if (!(t = curl_slist_append(s->hdrs, fixed[i])))
			goto out;
		s->hdrs = t;
	}
	if (last_id && *last_id) {
		snprintf(line, sizeof line, "Last-Event-ID: %s", last_id);
		if (!(t = curl_slist_append(s->hdrs, line)))
			goto out;
		s->hdrs = t;
	}
	if (token) {
		n = snprintf(line, sizeof line, "Authorization: Bearer %s", token);
		t = n > 0 && (size_t)n < sizeof line ? curl_slist_append(s->hdrs, line) : NULL;
		explicit_bzero(line, sizeof line);
		if (!t) {
			snprintf(err, errlen, "the token does not fit in a header line");
			goto out;
		}
		s->hdrs = t;
	}
	s->multi = curl_multi_init();
	s->easy = curl_easy_init();
	if (!s->multi || !s->easy)
		goto out;
	rc = -EINVAL;
	if (curl_easy_setopt(s->easy, CURLOPT_URL, url) ||
	    curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs) ||
	    curl_easy_setopt(s->easy, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(s->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) ||
	    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L) ||
	    curl_easy_setopt(s->easy, CURLOPT_TCP_KEEPALIVE, 1L) ||
	    curl_easy_setopt(s->easy, CURLOPT_ERRORBUFFER, s->error) ||
	    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_data) ||
	    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s)) {
		snprintf(err, errlen, "libcurl refused the source URL or an option");
		goto out;
	}
	if (curl_multi_add_handle(s->multi, s->easy)) {
		snprintf(err, errlen, "libcurl: cannot add the transfer");
		goto out;
	}
	return 0;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	connect_stream_close(s);
	return rc;
}

static void collect(struct connect_stream *s)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(s->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		s->done = 1;
		s->result = m->data.result;
		if (!s->checked)
			check_answer(s);
		if (s->ended_why != CONNECT_STREAM_END_NONE)
			continue;            /* the write callback said why */
		if (s->checked && !s->accepted && s->status) {
			curl_off_t ra = -1;

			s->ended_why = CONNECT_STREAM_END_REFUSED;
			if (curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
				s->retry_after_ms = ra > 86400 ? 86400000LL : (long long)ra * 1000;
		}
		else if (s->result != CURLE_OK)
			s->ended_why = CONNECT_STREAM_END_TRANSPORT;
		else
			s->ended_why = CONNECT_STREAM_END_CLOSED;
		if (s->ended_why == CONNECT_STREAM_END_TRANSPORT && !s->error[0])
			snprintf(s->error, sizeof s->error, "%s", curl_easy_strerror(s->result));
	}
}

enum connect_stream_state connect_stream_poll(struct connect_stream *s, int wait_ms)
{
	int running = 0;

	if (s->head)
		return CONNECT_STREAM_EVENT;
	if (s->done)
		return CONNECT_STREAM_ENDED;
	if (s->paused && s->queued < CONNECT_STREAM_QUEUE_MAX / 2 &&
	    s->queued_bytes < CONNECT_STREAM_QUEUE_BYTES / 2) {
		s->paused = 0;
		curl_easy_pause(s->easy, CURLPAUSE_CONT);
	}
	curl_multi_perform(s->multi, &running);
	collect(s);
	if (!s->head && !s->done) {
		curl_multi_poll(s->multi, NULL, 0, wait_ms, NULL);
		curl_multi_perform(s->multi, &running);
		collect(s);
	}
	if (s->head)
		return CONNECT_STREAM_EVENT;
	return s->done ? CONNECT_STREAM_ENDED : CONNECT_STREAM_IDLE;
}

struct connect_stream_ev *connect_stream_pop(struct connect_stream *s)
{
	struct connect_stream_ev *ev = s->head;

	if (!ev)
		return NULL;
	s->head = ev->next;
	if (!s->head)
		s->tail = NULL;
	s->queued--;
	s->queued_bytes -= ev->data_len;
	ev->next = NULL;
	return ev;
}

void connect_stream_touch(struct connect_stream *s)
{
	s->last_byte_ms = clock_mono_ms();
}

long long connect_stream_retry_hint(const struct connect_stream *s)
{
	return s->parser.retry_ms;
}

void connect_stream_close(struct connect_stream *s)
{
	struct connect_stream_ev *ev;
	struct curl_slist *l;

	if (s->multi && s->easy)
		curl_multi_remove_handle(s->multi, s->easy);
	if (s->easy)
		curl_easy_cleanup(s->easy);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	s->easy = NULL;
	s->multi = NULL;
	for (l = s->hdrs; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
	while ((ev = connect_stream_pop(s)))
		free(ev);
	sseparse_free(&s->parser);
}
