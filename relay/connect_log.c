/*
 * connect_log.c — the client's log lines (contract in connect_log.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "connect_log.h"

static int log_json;

void connect_log_format(int json)
{
	log_json = json;
}

static void put(struct connect_log *l, const char *s, size_t n)
{
	if (l->n + n > CONNECT_LOG_MAX)
		n = CONNECT_LOG_MAX - l->n;
	memcpy(l->buf + l->n, s, n);
	l->n += n;
}

static void puts_(struct connect_log *l, const char *s)
{
	put(l, s, strlen(s));
}

static void put_json_str(struct connect_log *l, const char *s)
{
	char esc[8];

	put(l, "\"", 1);
	for (; *s && l->n + 8 < CONNECT_LOG_MAX; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(l, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			put(l, esc, 6);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
	put(l, "\"", 1);
}

static void put_text_val(struct connect_log *l, const char *s)
{
	char esc[8];
	const char *p;
	int quote = !*s;

	for (p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == '"' || *p == '\\' || (unsigned char)*p >= 0x7f)
			quote = 1;
	if (!quote) {
		puts_(l, s);
		return;
	}
	put(l, "\"", 1);
	for (; *s && l->n + 8 < CONNECT_LOG_MAX; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(l, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", c);
			put(l, esc, 4);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
	put(l, "\"", 1);
}

void connect_log_begin(struct connect_log *l, const char *level, const char *event)
{
	struct timespec ts;
	struct tm tm;
	char t[64];
	size_t k;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	k = strftime(t, sizeof t - 8, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + k, sizeof t - k, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
	l->n = 0;
	l->json = log_json;
	if (l->json) {
		puts_(l, "{\"ts\":\"");
		puts_(l, t);
		puts_(l, "\",\"level\":");
		put_json_str(l, level);
		puts_(l, ",\"event\":");
		put_json_str(l, event);
	} else {
		puts_(l, t);
		puts_(l, " ");
		puts_(l, level);
		puts_(l, " ");
		puts_(l, event);
	}
}

void connect_log_str(struct connect_log *l, const char *key, const char *value)
{
	/* No room for the key and a bit of the value: the field is left out,
	 * so a JSON line stays whole. */
	if (!value || l->n + strlen(key) + 16 > CONNECT_LOG_MAX)
		return;
	if (l->json) {
		puts_(l, ",");
		put_json_str(l, key);
		puts_(l, ":");
		put_json_str(l, value);
	} else {
		puts_(l, " ");
		puts_(l, key);
		puts_(l, "=");
		put_text_val(l, value);
	}
}

void connect_log_int(struct connect_log *l, const char *key, long long value)
{
	char v[32];

	snprintf(v, sizeof v, "%lld", value);
	if (l->n + strlen(key) + strlen(v) + 8 > CONNECT_LOG_MAX)
		return;
	if (l->json) {
		puts_(l, ",");
		put_json_str(l, key);
		puts_(l, ":");
		puts_(l, v);
	} else {
		puts_(l, " ");
		puts_(l, key);
		puts_(l, "=");
		puts_(l, v);
	}
}

void connect_log_end(struct connect_log *l)
{
	ssize_t w;
	size_t off = 0;

	if (l->json) {
		/* A cut line still closes its object (the last string may be cut). */
		if (l->n > CONNECT_LOG_MAX - 2)
			l->n = CONNECT_LOG_MAX - 2;
		l->buf[l->n++] = '}';
	}
	l->buf[l->n++] = '\n';
	while (off < l->n) {
		w = write(2, l->buf + off, l->n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}
