/*
 * connect_req.h — what the client sends for one event, without libcurl:
 * the target URL (TARGET_BASE_URL + the original path + '?' query) and the
 * header lines handed to libcurl. Owns the header filter: hop-by-hop
 * headers (Connection and every name it lists, Keep-Alive, Proxy-*, TE,
 * Trailer, Transfer-Encoding, Upgrade), the ones libcurl recomputes (Host,
 * Content-Length) and Expect (libcurl must not wait for a 100 Continue) are
 * dropped; every other header goes in its original order, repeats kept.
 * libcurl's own defaults are switched off with empty lines ("Accept:",
 * "Content-Type:", "Expect:") when the event has no such header, so the
 * target sees the sender's headers and not libcurl's.
 */
#ifndef CONNECT_REQ_H
#define CONNECT_REQ_H
#include <stddef.h>

#include "connect_event.h"

/* 0 when BASE is an absolute http:// or https:// URL with a host and no
 * query or fragment; -EINVAL with ERR saying why, as a phrase to follow
 * the URL's name ("must start with http:// or https://"). */
int connect_req_base_check(const char *base, char *err, size_t errlen);

/* BASE (checked, one trailing '/' dropped) + PATH + ('?' QUERY when QUERY
 * is not empty) into a malloc'ed *OUT. Bytes a URL cannot carry as they are
 * (controls, space, non-ASCII, and " < > \ ^ ` { | } #, and '?' in the
 * path) are percent-encoded; everything else, '%' included, is kept, so an
 * already-encoded path stays as it was. 0, -EINVAL (BASE), -ENOMEM. */
int connect_req_url(const char *base, const char *path, const char *query, char **out);

/* 1 when the header NAME is not forwarded for EV (hop-by-hop, recomputed,
 * Expect, or listed in one of EV's Connection headers). */
int connect_req_dropped(const struct connect_event *ev, const char *name);

/* The header lines for libcurl, in order: each forwarded header as
 * "Name: value" ("Name;" for an empty value, libcurl's spelling), then the
 * empty lines that switch off libcurl's defaults the event does not
 * override. *LINES is a malloc'ed array of *N malloc'ed strings. 0 or
 * -ENOMEM (nothing to free then). */
int connect_req_headers(const struct connect_event *ev, char ***lines, size_t *n);

/* Free what connect_req_headers gave. */
void connect_req_lines_free(char **lines, size_t n);
#endif
