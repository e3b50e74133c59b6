/*
 * log.c — one line per event, text or JSON (contract in log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LINE_MAX_BYTES 8192

static enum log_level min_level = LOG_INFO;
static enum log_format fmt = LOG_TEXT;
static const char *const level_names[] = { "debug", "info", "warn", "error" };

int log_level_parse(const char *s, enum log_level *out)
{
	int i;

	for (i = 0; i < 4; i++)
		if (s && !strcmp(s, level_names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	return -EINVAL;
}

int log_format_parse(const char *s, enum log_format *out)
{
	if (s && !strcmp(s, "text"))
		*out = LOG_TEXT;
	else if (s && !strcmp(s, "json"))
		*out = LOG_JSON;
	else
		return -EINVAL;
	return 0;
}

void log_setup(enum log_level level, enum log_format format)
{
	min_level = level;
	fmt = format;
}

struct line {
	char b[LINE_MAX_BYTES];
	size_t n;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->n + n > sizeof l->b - 2)
		n = sizeof l->b - 2 - l->n;
	memcpy(l->b + l->n, s, n);
	l->n += n;
}

static void puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* JSON string body, or text value (quoted when it has spaces or quotes). */
static void put_value(struct line *l, const char *v)
{
	const unsigned char *c;
	int quote = fmt == LOG_JSON;

	if (!v) {
		puts_(l, fmt == LOG_JSON ? "null" : "-");
		return;
	}
	if (!quote)
		quote = !*v || strpbrk(v, " \"=\\") != NULL;
	if (quote)
		put(l, "\"", 1);
	for (c = (const unsigned char *)v; *c; c++) {
		char esc[8];
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*c;
			put(l, esc, 2);
		} else if (*c < 0x20 || *c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", *c);
			puts_(l, esc);
		} else {
			put(l, (const char *)c, 1);
		}
	}
	if (quote)
		put(l, "\"", 1);
}

/* The line's UTC time, "2006-01-02T15:04:05.000Z", into WHEN (room for
 * 64). Each thread keeps the text of the last second it formatted, so a
 * busy thread formats a date once a second and the milliseconds by hand
 * (the date's snprintf was the dearest part of a request's log line). */
static void timestamp(char when[64])
{
	static __thread time_t last_sec = -1;
	static __thread char last[32];
	static __thread size_t last_len;
	struct timespec ts;
	struct tm tm;
	long msec;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != last_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		last_len = (size_t)snprintf(last, sizeof last, "%04d-%02d-%02dT%02d:%02d:%02d.",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (last_len >= sizeof last)
			last_len = sizeof last - 1;
		last_sec = ts.tv_sec;
	}
	msec = ts.tv_nsec / 1000000;
	memcpy(when, last, last_len);
	when[last_len] = (char)('0' + msec / 100);
	when[last_len + 1] = (char)('0' + msec / 10 % 10);
	when[last_len + 2] = (char)('0' + msec % 10);
	when[last_len + 3] = 'Z';
	when[last_len + 4] = '\0';
}

void log_event(enum log_level level, const char *event, ...)
{
	struct line l;
	char when[64];
	const char *k, *v;
	va_list ap;

	if (level < min_level)
		return;
	l.n = 0;
	timestamp(when);
	if (fmt == LOG_JSON) {
		puts_(&l, "{\"ts\":\"");
		puts_(&l, when);
		puts_(&l, "\",\"level\":\"");
		puts_(&l, level_names[level]);
		puts_(&l, "\",\"event\":");
		put_value(&l, event);
	} else {
		puts_(&l, when);
		put(&l, " ", 1);
		puts_(&l, level_names[level]);
		put(&l, " ", 1);
		puts_(&l, event);
	}
	va_start(ap, event);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (fmt == LOG_JSON) {
			put(&l, ",", 1);
			put_value(&l, k);
			put(&l, ":", 1);
		} else {
			put(&l, " ", 1);
			puts_(&l, k);
			put(&l, "=", 1);
		}
		put_value(&l, v);
	}
	va_end(ap);
	if (fmt == LOG_JSON)
		put(&l, "}", 1);
	l.b[l.n++] = '\n';
	while (write(STDERR_FILENO, l.b, l.n) < 0 && errno == EINTR)
		;
}
