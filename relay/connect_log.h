/*
 * connect_log.h — the client's log lines, on stderr (journald takes them
 * under systemd): one line per thing that happened, text
 *   2026-12-02T05:00:00.123Z info forwarded id=1-0 method=POST path="/x" ...
 * or JSON
 *   {"ts":"2026-12-02T05:00:00.123Z","level":"info","event":"forwarded",...}
 * Owns the two formats and the quoting in each (a text value with a space,
 * quote, backslash or control byte is quoted and escaped; JSON strings are
 * escaped, bytes >= 0x80 as \u00XX so a line is always valid UTF-8 JSON).
 * A line is at most CONNECT_LOG_MAX bytes; longer values are cut.
 */
#ifndef CONNECT_LOG_H
#define CONNECT_LOG_H
#include <stddef.h>

#define CONNECT_LOG_MAX 2048

struct connect_log {
	char buf[CONNECT_LOG_MAX + 8];
	size_t n;
	int json;
};

/* Choose the format for the whole process: 1 for JSON, 0 for text. */
void connect_log_format(int json);

/* Start a line at LEVEL ("info", "warn", "error") for EVENT. */
void connect_log_begin(struct connect_log *l, const char *level, const char *event);

/* Add KEY=VALUE (a string, possibly NULL: then skipped) or a number. */
void connect_log_str(struct connect_log *l, const char *key, const char *value);
void connect_log_int(struct connect_log *l, const char *key, long long value);

/* Write the line (with a newline) to stderr in one write. */
void connect_log_end(struct connect_log *l);
#endif
