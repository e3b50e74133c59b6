/*
 * sse.c — the Server-Sent Events writer (the text/event-stream format of
 * the HTML living standard, "Server-sent events"). Owns formatting fields
 * into a growable buffer: "id:", "event:", "data:" (a value with line
 * breaks becomes one data line per line; CR LF, CR and LF all break a line,
 * as a reader splits them), "retry:" and comment lines. Writing the buffer
 * to a connection is the caller's: this file does no I/O, so the relay's
 * subscribe stream and the runner's live job output share it.
 *
 * Errors are 0 or a negative errno; nothing here logs.
 */
#ifndef COMMON_SSE_H
#define COMMON_SSE_H
#include <stddef.h>

/* A growable buffer of formatted stream text; zero-initialise it. MAX (0 =
 * no cap) bounds its length: an append that would pass it fails -E2BIG and
 * leaves the buffer as it was. */
struct sse_buf {
	char *p;
	size_t len, cap, max;
};

/* Append one event: "id: ID" when ID is not NULL, "event: EVENT" when EVENT
 * is not NULL, one "data: " line per line of DATA (LEN bytes; an empty DATA
 * is one empty data line), then the blank line that dispatches it. ID and
 * EVENT must hold no CR, LF or NUL, and DATA no NUL: -EINVAL, buffer
 * unchanged. -ENOMEM, -E2BIG (see MAX). */
int sse_event(struct sse_buf *b, const char *id, const char *event, const char *data, size_t len);

/* Append "retry: MS" and a blank line (a reader's reconnection delay).
 * -ENOMEM, -E2BIG. */
int sse_retry(struct sse_buf *b, unsigned ms);

/* Append the comment ": TEXT" and a blank line (a heartbeat a reader
 * ignores; the blank line makes buffering proxies pass it on). TEXT must
 * hold no CR, LF or NUL: -EINVAL. -ENOMEM, -E2BIG. */
int sse_comment(struct sse_buf *b, const char *text);

/* Forget the contents, keep the memory. */
void sse_reset(struct sse_buf *b);

/* Free the memory; the buffer is then as zero-initialised (MAX kept). */
void sse_free(struct sse_buf *b);
#endif
