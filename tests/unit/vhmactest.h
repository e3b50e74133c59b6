/*
 * vhmactest.h — fixtures shared by the tests/unit/runner_verify_hmac*.c
 * programs: a header source over name/value pairs, the published test
 * vectors (GitHub docs, Standard Webhooks reference libraries), and the
 * Standard Webhooks header setter. Header-only, like t.h.
 */
#ifndef VHMACTEST_H
#define VHMACTEST_H
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../../runner/verify_hmac.h"
#include "t.h"

/* ---- a small header source over name/value pairs ---- */

#define MAXH 8
struct hdrs {
	const char *name[MAXH];
	const char *value[MAXH];
	int n;
};

static const char *hdrs_get(void *ctx, const char *name)
{
	struct hdrs *h = ctx;
	int i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->name[i], name) == 0)
			return h->value[i];
	return NULL;
}

static void hset(struct hdrs *h, const char *name, const char *value)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->name[i], name) == 0) {
			h->value[i] = value;
			return;
		}
	if (h->n < MAXH) {
		h->name[h->n] = name;
		h->value[h->n++] = value;
	}
}

static struct hdr_src src(struct hdrs *h)
{
	struct hdr_src s = { hdrs_get, h };
	return s;
}

#define B(s) ((const unsigned char *)(s))

/* vhmac_verify folded into one number to assert on: 0 when verified, the
 * reason (> 0) of a refusal, which must come as -EACCES, or the negative
 * errno of an error, which must come with VHMAC_ERROR. -1000 when the return
 * and the reason disagree. */
static int verify(enum vhmac_scheme s, const struct vhmac_secret *secrets, size_t nsecrets,
    const unsigned char *body, size_t len, const struct hdr_src *h, int64_t now, int tol)
{
	enum vhmac_reason why = VHMAC_NREASONS;
	int rc = vhmac_verify(s, secrets, nsecrets, body, len, h, now, tol, &why);

	if (rc == 0)
		return why == VHMAC_OK ? 0 : -1000;
	if (rc == -EACCES)
		return why > VHMAC_OK && why < VHMAC_ERROR ? (int)why : -1000;
	return rc < 0 && why == VHMAC_ERROR ? rc : -1000;
}

/* Published vectors. */
#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY "Hello, World!"
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS 1614265330
#define SW_TS_S "1614265330"
#define SW_BODY "{\"test\": 2432232314}"
#define SW_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define SW_BADSIG "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="

static void std_headers(struct hdrs *h, const char *id, const char *ts, const char *sig)
{
	h->n = 0;
	if (id)
		hset(h, "webhook-id", id);
	if (ts)
		hset(h, "webhook-timestamp", ts);
	if (sig)
		hset(h, "webhook-signature", sig);
}
#endif
