/*
 * connect_stream.h — following the relay's SSE stream with libcurl's multi
 * interface, one connection at a time. Owns the subscribe request
 * (Authorization: Bearer, Accept: text/event-stream, Last-Event-ID, no
 * redirects, http/https only), checking the answer (200 and
 * text/event-stream, else the status, the start of the body and any
 * Retry-After are kept for the log and the reconnect delay), feeding the body to sseparse, and a bounded queue of
 * parsed events: when it is full the transfer is paused (TCP pushes back
 * on the server) until the caller has taken events out. The caller
 * forwards events between polls, never inside a libcurl callback.
 *
 * The time of the last byte received is kept for the caller's silence
 * check (heartbeats are comments: any byte counts).
 */
#ifndef CONNECT_STREAM_H
#define CONNECT_STREAM_H
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "../common/sseparse.h"

#define CONNECT_STREAM_QUEUE_MAX   64                  /* events held before pausing */
#define CONNECT_STREAM_QUEUE_BYTES (32u * 1024 * 1024) /* or bytes of their data */

/* One parsed event, taken out with connect_stream_pop. */
struct connect_stream_ev {
	struct connect_stream_ev *next;
	char type[SSEPARSE_TYPE_MAX + 1];
	char id[SSEPARSE_ID_MAX + 1];
	size_t data_len;
	char data[];                    /* data_len bytes and a NUL */
};

enum connect_stream_state {
	CONNECT_STREAM_IDLE,      /* nothing new */
	CONNECT_STREAM_EVENT,     /* an event is queued */
	CONNECT_STREAM_ENDED,     /* the transfer is over: see ended_why */
};

enum connect_stream_end {
	CONNECT_STREAM_END_NONE,
	CONNECT_STREAM_END_CLOSED,     /* the server ended a 200 stream */
	CONNECT_STREAM_END_TRANSPORT,  /* connection error: error[] */
	CONNECT_STREAM_END_REFUSED,    /* not 200 text/event-stream: status, content_type, body */
	CONNECT_STREAM_END_PARSE,      /* the stream broke a parser bound: parse_why */
	CONNECT_STREAM_END_NOMEM,
};

struct connect_stream {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hdrs;
	struct sseparse parser;
	struct connect_stream_ev *head, *tail;
	size_t queued, queued_bytes;
	int paused, checked, accepted, done;
	long status;                    /* HTTP status of the answer, 0 before one */
	char content_type[128];
	char body[256];                 /* start of a refused answer's body */
	long long retry_after_ms;       /* a refused answer's Retry-After, -1 for none */
	size_t body_len;
	enum connect_stream_end ended_why;
	enum sseparse_why parse_why;
	CURLcode result;
	char error[CURL_ERROR_SIZE];
	int64_t last_byte_ms;           /* monotonic: opened, or the last byte */
	unsigned long long events;      /* events queued on this connection */
};

/* Open a subscription to URL with TOKEN (NULL for none) and LAST_ID ("" for
 * none) as Last-Event-ID; MAX_LINE / MAX_EVENT bound the parser. The
 * connection is made by the polls. 0, -ENOMEM or -EINVAL (libcurl refused
 * an option) with ERR. The copy of the token in the request is wiped by
 * connect_stream_close. */
int connect_stream_open(struct connect_stream *s, const char *url, const char *token,
                        const char *last_id, size_t max_line, size_t max_event, char *err,
                        size_t errlen);

/* Run the transfer: what is ready now, else wait up to WAIT_MS for
 * traffic. Resumes a paused transfer when the queue has room. */
enum connect_stream_state connect_stream_poll(struct connect_stream *s, int wait_ms);

/* The oldest queued event (the caller frees it with free()), or NULL. */
struct connect_stream_ev *connect_stream_pop(struct connect_stream *s);

/* Count the time from now as traffic (after the caller spent time
 * forwarding, that time is not the server's silence). */
void connect_stream_touch(struct connect_stream *s);

/* The last valid `retry:` hint of this stream in ms, or -1. */
long long connect_stream_retry_hint(const struct connect_stream *s);

/* Close the connection, drop queued events, wipe and free everything. */
void connect_stream_close(struct connect_stream *s);
#endif
