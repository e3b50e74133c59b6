/*
 * connect_fwd.c — one forward of one event with libcurl, and the retry
 * delays (contract in connect_fwd.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "../common/clock.h"
#include "connect_fwd.h"
#include "connect_req.h"

enum connect_fwd_verdict connect_fwd_verdict_for(long status)
{
	if (status >= 200 && status <= 299)
		return CONNECT_FWD_DELIVERED;
	if (status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599))
		return CONNECT_FWD_RETRY;
	return CONNECT_FWD_PERMANENT;
}

/* The target's answer body is not ours to keep. */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

int connect_fwd_send(CURL *h, const char *base, const struct connect_event *ev, long timeout_ms,
                     struct connect_fwd_result *res)
{
	struct curl_slist *hl = NULL, *t;
	char **lines = NULL, *url = NULL;
	size_t n = 0, i;
	curl_off_t ra = -1;
	int64_t t0;
	int rc;

	memset(res, 0, sizeof *res);
	res->retry_after_ms = -1;
	rc = connect_req_url(base, ev->path, ev->query, &url);
	if (rc)
		goto out;
	rc = connect_req_headers(ev, &lines, &n);
	if (rc)
		goto out;
	for (i = 0; i < n; i++) {
		t = curl_slist_append(hl, lines[i]);
		if (!t) {
			rc = -ENOMEM;
			goto out;
		}
		hl = t;
	}
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, res->error);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	/* The method as it came: libcurl sends it verbatim. A body goes with
	 * any method that had one, and with POST/PUT/PATCH even when empty
	 * (Content-Length: 0, as the sender's request had). */
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, ev->method);
	if (!strcmp(ev->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (ev->body_len || !strcmp(ev->method, "POST") || !strcmp(ev->method, "PUT") ||
	           !strcmp(ev->method, "PATCH")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)ev->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, ev->body_len ? (const char *)ev->body : "");
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, ev->method);
	}
	t0 = clock_mono_ms();
	res->curl = curl_easy_perform(h);
	res->elapsed_ms = clock_mono_ms() - t0;
	if (res->curl == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
		if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			res->retry_after_ms = ra > CONNECT_FWD_RETRY_AFTER_MAX_MS / 1000 ?
			                      CONNECT_FWD_RETRY_AFTER_MAX_MS : (long long)ra * 1000;
	} else {
		res->status = 0;
		if (!res->error[0])
			strncpy(res->error, curl_easy_strerror(res->curl), sizeof res->error - 1);
	}
	res->verdict = connect_fwd_verdict_for(res->status);
	rc = 0;
out:
	/* The handle must not keep pointers into what is freed here. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hl);
	connect_req_lines_free(lines, n);
	free(url);
	return rc;
}

long long connect_fwd_delay_ms(unsigned attempt, long long min_ms, long long max_ms,
                               long long retry_after_ms)
{
	long long d = min_ms > 0 ? min_ms : 1;
	unsigned char r[2];
	unsigned i;

	if (retry_after_ms >= 0)
		return retry_after_ms > CONNECT_FWD_RETRY_AFTER_MAX_MS ? CONNECT_FWD_RETRY_AFTER_MAX_MS :
		                                                         retry_after_ms;
	for (i = 1; i < attempt && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	if (getrandom(r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
		d -= d * ((r[0] << 8 | r[1]) % 2501) / 10000;
	return d;
}
