/*
 * sseparse.h — (common/: the relay's `connect` client and the runner's
 * `jobs follow` share it) an incremental, bounded parser for a text/event-stream
 * (Server-Sent Events), as the WHATWG HTML "EventSource" section
 * interprets one. Owns the line splitting (LF, CRLF and lone CR, also when
 * a CRLF pair is split across two chunks), the fields (`id`, `event`,
 * `data`, `retry`; others ignored), comments (a line starting with ':'),
 * one leading U+FEFF BOM dropped, and dispatching an event on a blank line.
 * Bytes are taken as they come: nothing here decodes or checks UTF-8.
 *
 * Per the spec: one space after the field's colon is dropped; `data` lines
 * are joined with LF and the final LF removed; an event whose data buffer
 * is empty is not dispatched (its type is reset); `id` sets the last event
 * id buffer unless the value holds a NUL, and that buffer persists across
 * events (an event without `id` carries the previous one); `retry` counts
 * only when it is all ASCII digits; an event not ended by a blank line
 * before the stream ends is never dispatched.
 *
 * Bounds: a line longer than max_line bytes or an event whose data grows
 * past max_event bytes stops the parser (-EMSGSIZE, reason in why); it
 * stays stopped until sseparse_reset. Memory grows with what a line or an
 * event needs, never past those bounds.
 */
#ifndef SSEPARSE_H
#define SSEPARSE_H
#include <stddef.h>

#define SSEPARSE_ID_MAX   256     /* bytes of an id we keep (longer: refused) */
#define SSEPARSE_TYPE_MAX 64      /* bytes of an event type */

enum sseparse_why {
	SSEPARSE_OK = 0,
	SSEPARSE_LINE_TOO_LONG,   /* a line over max_line bytes */
	SSEPARSE_EVENT_TOO_BIG,   /* an event's data over max_event bytes */
	SSEPARSE_FIELD_TOO_LONG,  /* an id over SSEPARSE_ID_MAX or a type over SSEPARSE_TYPE_MAX */
	SSEPARSE_STOPPED,         /* fed after an earlier refusal */
	SSEPARSE_CALLBACK,        /* the callback returned non-zero */
};

/* One dispatched event. Pointers are valid only during the callback.
 * data is NUL-terminated (data_len bytes, which may hold NULs). */
struct sseparse_event {
	const char *type;         /* "message" when the event set none */
	const char *id;           /* the last event id buffer ("" for none) */
	const char *data;
	size_t data_len;
};

/* What the stream said besides events: callbacks may read these. */
struct sseparse {
	size_t max_line, max_event;
	char *line; size_t line_len, line_cap;
	char *data; size_t data_len, data_cap;
	char type[SSEPARSE_TYPE_MAX + 1];
	char id[SSEPARSE_ID_MAX + 1];        /* the last event id buffer */
	long long retry_ms;                  /* last valid retry field, -1 for none */
	unsigned long long comments;         /* comment lines seen (heartbeats) */
	unsigned long long events;           /* events dispatched */
	int cr_seen;                         /* the previous byte ended a line with CR */
	int bom_done;                        /* the first line was checked for a BOM */
	enum sseparse_why stopped;
};

/* Called for each dispatched event; a non-zero return stops the feed and
 * is returned by sseparse_feed as -ECANCELED. */
typedef int (*sseparse_cb)(void *arg, const struct sseparse_event *ev);

/* Set up P for a new stream: MAX_LINE bytes of a line (its end not
 * counted), MAX_EVENT bytes of an event's data (both at least 1). 0 or
 * -EINVAL. Nothing is allocated until bytes come. */
int sseparse_init(struct sseparse *p, size_t max_line, size_t max_event);

/* Forget the stream so far (a new connection): pending line, event data,
 * type, the stopped state and the BOM check. The last event id and retry
 * persist, as EventSource keeps them across reconnections. */
void sseparse_reset(struct sseparse *p);

/* Feed N bytes of BUF. Complete events are passed to CB(ARG, ev) in
 * order. 0; -EMSGSIZE with *WHY (may be NULL) saying which bound was
 * exceeded; -ECANCELED when CB stopped it (SSEPARSE_CALLBACK); -ENOMEM.
 * After any error the parser stays stopped (-EMSGSIZE, SSEPARSE_STOPPED)
 * until sseparse_reset. */
int sseparse_feed(struct sseparse *p, const char *buf, size_t n, sseparse_cb cb, void *arg,
                  enum sseparse_why *why);

/* Text for WHY ("line too long", ...). */
const char *sseparse_why_text(enum sseparse_why why);

/* Free what P holds (P may be reused after sseparse_init). */
void sseparse_free(struct sseparse *p);
#endif
