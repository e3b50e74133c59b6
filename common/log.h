/*
 * log.c — the daemon's log: one line per event on stderr (journald or the
 * container runtime keeps it). Owns the format ("text" for people: time,
 * level, event, key=value pairs; "json" for machines: one object per line
 * with stable keys "ts", "level", "event" and the pairs), the level filter,
 * and escaping. Each line goes out in one write(2), so lines from threads
 * never interleave. Callers pass only what may be shown: never secrets or
 * tokens.
 */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT = 0, LOG_JSON };

/* Parse "debug|info|warn|error" and "text|json"; 0 or -EINVAL. */
int log_level_parse(const char *s, enum log_level *out);
int log_format_parse(const char *s, enum log_format *out);
void log_setup(enum log_level level, enum log_format format);

/* log_event(LOG_INFO, "request", "hook", id, "status", "200", NULL):
 * EVENT then NULL-terminated key, value pairs (values are strings; a NULL
 * value is shown as null/-). */
void log_event(enum log_level level, const char *event, ...) __attribute__((sentinel));
#endif
