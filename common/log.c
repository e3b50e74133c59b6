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

void log_event(enum log_level level, const char *event, ...)
{
	struct line l;
	struct timespec ts;
	struct tm tm;
	char when[64];
	const char *k, *v;
	va_list ap;

	if (level < min_level)
		return;
	l.n = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
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
