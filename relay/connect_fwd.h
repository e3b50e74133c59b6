/*
 * connect_fwd.h — forwarding one decoded event to the target with libcurl,
 * once, and saying what to do next. Owns the libcurl options of a forward:
 * the original method (HEAD without reading a body), the exact body bytes
 * with a recomputed Content-Length, the header lines of connect_req.h
 * (libcurl's Accept, Content-Type and Expect switched off), HTTP/1.1,
 * http/https only, no redirects followed, the path passed as it is (no dot
 * segment removal), a deadline; and the verdict on the outcome: a 2xx is
 * delivered; a transport error, 408, 429 and 5xx are retried; any other
 * status (3xx, 4xx) is a permanent failure. Also owns the retry delays:
 * exponential backoff with jitter and a cap, or the target's Retry-After.
 */
#ifndef CONNECT_FWD_H
#define CONNECT_FWD_H
#include <stddef.h>

#include <curl/curl.h>

#include "connect_event.h"

#define CONNECT_FWD_RETRY_AFTER_MAX_MS (3600LL * 1000)   /* a longer Retry-After is cut here */

enum connect_fwd_verdict {
	CONNECT_FWD_DELIVERED,    /* 2xx */
	CONNECT_FWD_RETRY,        /* transport error, 408, 429, 5xx */
	CONNECT_FWD_PERMANENT,    /* any other status */
};

struct connect_fwd_result {
	long status;                       /* HTTP status, 0 when none came */
	CURLcode curl;                     /* CURLE_OK when a status came */
	char error[CURL_ERROR_SIZE];       /* libcurl's message for a transport error */
	long long retry_after_ms;          /* the target's Retry-After, -1 for none */
	long long elapsed_ms;
	enum connect_fwd_verdict verdict;
};

/* The verdict for an HTTP STATUS (0: no answer, a transport error). */
enum connect_fwd_verdict connect_fwd_verdict_for(long status);

/* Send EV once to BASE (a checked target base URL) on the easy handle H
 * (reused between forwards so the connection is kept alive; reset here),
 * within TIMEOUT_MS. 0 with *RES filled (whatever the target said), or
 * -ENOMEM / -EINVAL (the URL could not be built: a permanent failure). */
int connect_fwd_send(CURL *h, const char *base, const struct connect_event *ev, long timeout_ms,
                     struct connect_fwd_result *res);

/* The delay before retry number ATTEMPT (1 for the first retry):
 * MIN_MS * 2^(ATTEMPT-1), capped at MAX_MS, then a random 0..25 % taken
 * off so that clients retrying together spread out; RETRY_AFTER_MS >= 0
 * (the target's hint) is used instead, capped at
 * CONNECT_FWD_RETRY_AFTER_MAX_MS. */
long long connect_fwd_delay_ms(unsigned attempt, long long min_ms, long long max_ms,
                               long long retry_after_ms);
#endif
