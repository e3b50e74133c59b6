/*
 * event.c — one relayed request as an event. Owns the event's one-line JSON
 * (the SSE data line), in one vocabulary:
 *   {"id":"<ms>-<seq>","channel":"c","method":"POST","path":"/x/y",
 *    "query":"a=1","headers":[["Name","value"],...],"body":"<base64>",
 *    "received_ms":N}
 * Headers keep their order and repeats; the body is standard base64, so any
 * bytes round-trip. Strings are escaped for JSON; a byte that is not part of
 * well-formed UTF-8 is written as \u00XX (its Latin-1 code point).
 * A store keeps the JSON without its id (the "tail", everything after
 * {"id":"…",) because Redis gives the id only once the event is added; an
 * event in memory is the id and the whole JSON, shared by reference count
 * between the store and every subscriber queue that holds it.
 */
#ifndef RELAY_EVENT_H
#define RELAY_EVENT_H
#include <stddef.h>
#include <stdint.h>

#include "evid.h"

struct event_hdr {
	const char *name, *value;
};

/* What a publish stored, before it has an id. */
struct event_req {
	const char *channel, *method, *path, *query; /* query may be NULL: "" */
	const struct event_hdr *headers;
	size_t nheaders;
	const unsigned char *body;
	size_t body_len;
	int64_t received_ms;  /* wall clock */
};

struct event {
	struct evid id;
	char idstr[EVID_STR_MAX];
	char *json;            /* the whole one-line JSON, NUL-terminated */
	size_t len;
	int refs;              /* atomic */
};

/* The JSON tail of RQ (malloc'ed, NUL-terminated, *LEN without the NUL).
 * 0, -ENOMEM. */
int event_tail(const struct event_req *rq, char **out, size_t *len);

/* An event with ID and TAIL (LEN bytes): one reference, the caller's.
 * 0, -ENOMEM, -EINVAL when TAIL does not look like a tail (a store's
 * corrupt record). */
int event_new(const struct evid *id, const char *tail, size_t len, struct event **out);

/* Take and drop a reference (thread-safe); the last drop frees it. NULL:
 * nothing. */
void event_ref(struct event *ev);
void event_unref(struct event *ev);
#endif
