/*
 * connect_event.h — one `webhook` event of the relay's stream, decoded:
 * the `data:` JSON the server writes for a stored request
 *   {"id":"<id>","channel":"c","method":"POST","path":"/x/y","query":"a=1",
 *    "headers":[["Name","value"],...],"body":"<base64 std>","received_ms":N}
 * into the request the client forwards. Owns checking every member before
 * anything is sent: a method that is an HTTP token, a path that starts with
 * '/', no control bytes in the path or the query, header names that are
 * tokens and values without CR, LF or NUL, bounded counts and sizes, and a
 * body that is valid padded standard base64. The headers keep their order
 * and repeats; the body is the exact bytes. Header bytes are exact too:
 * the relay writes a byte that is not part of well-formed UTF-8 as an
 * escape \u0080..\u00ff, which is read back here as that one byte (not
 * as the UTF-8 of U+0080..U+00FF).
 *
 * Also decodes the `gap` event's data {"after":"<id>","oldest":"<id>"}.
 */
#ifndef CONNECT_EVENT_H
#define CONNECT_EVENT_H
#include <stddef.h>

#define CONNECT_EVENT_METHOD_MAX  32
#define CONNECT_EVENT_ID_MAX      256
#define CONNECT_EVENT_PATH_MAX    8192      /* path and query each */
#define CONNECT_EVENT_HDRS_MAX    256       /* headers in one request */
#define CONNECT_EVENT_HDR_BYTES   65536     /* all names and values together */
#define CONNECT_EVENT_NAME_MAX    256       /* bytes of one header name */

struct connect_hdr {
	char *name;
	char *value;
};

struct connect_event {
	char id[CONNECT_EVENT_ID_MAX + 1];
	char method[CONNECT_EVENT_METHOD_MAX + 1];
	char *path;                  /* starts with '/' */
	char *query;                 /* "" for none */
	struct connect_hdr *hdrs;
	size_t nhdrs;
	unsigned char *body;         /* body_len bytes (NUL after them; may be NULL when 0) */
	size_t body_len;
	long long received_ms;       /* -1 when absent */
};

/* Decode JSON (LEN bytes) into *EV (which the caller zeroes or frees
 * first). 0, -EINVAL with ERR naming the member that is wrong, or -ENOMEM.
 * On failure *EV holds nothing to free. */
int connect_event_decode(const char *json, size_t len, struct connect_event *ev, char *err,
                         size_t errlen);

/* Free what EV holds and zero it. */
void connect_event_free(struct connect_event *ev);

/* Decode a gap event's JSON: the ids AFTER and OLDEST (each CAP bytes, at
 * least 1), "" for a member that is absent. 0 or -EINVAL (not an object,
 * or a member that is not a string or is too long). */
int connect_event_gap(const char *json, size_t len, char *after, char *oldest, size_t cap);

/* 1 when S (N bytes) is an HTTP token (RFC 9110 tchar, at least one). */
int connect_event_is_token(const char *s, size_t n);
#endif
