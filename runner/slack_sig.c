/*
 * slack_sig.c — Slack's v0 request signature (contract in slack_sig.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "slack_sig.h"

#define MAC_LEN 32
#define TS_MAX_DIGITS 12 /* far beyond any real time; bounds the parse */

static const char *const reason_names[SLACKSIG_NREASONS] = {
	[SLACKSIG_OK] = "ok",
	[SLACKSIG_MISSING] = "missing",
	[SLACKSIG_MALFORMED] = "malformed",
	[SLACKSIG_STALE] = "stale",
	[SLACKSIG_MISMATCH] = "mismatch",
	[SLACKSIG_ERROR] = "error",
};

const char *slacksig_reason_name(enum slacksig_reason why)
{
	if ((unsigned)why >= SLACKSIG_NREASONS)
		return "error";
	return reason_names[why];
}

/* The header's timestamp: 1 to TS_MAX_DIGITS decimal digits, nothing else. */
static int parse_ts(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= TS_MAX_DIGITS || s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "v0=" and exactly 64 hex digits into MAC_LEN bytes. */
static int parse_sig(const char *s, unsigned char mac[MAC_LEN])
{
	size_t i;

	if (strncmp(s, "v0=", 3) != 0)
		return -EINVAL;
	s += 3;
	for (i = 0; i < MAC_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	return s[2 * MAC_LEN] == '\0' ? 0 : -EINVAL;
}

/* HMAC-SHA256(SECRET, "v0:" TS ":" BODY) into MAC. */
static int mac_of(const unsigned char *secret, size_t secretlen, int64_t ts,
    const unsigned char *body, size_t len, unsigned char mac[MAC_LEN])
{
	EVP_MAC *alg = NULL;
	EVP_MAC_CTX *ctx = NULL;
	char digest[] = "SHA256", pre[40];
	OSSL_PARAM params[2];
	size_t outl = 0;
	int n, rc = -ENOMEM;

	n = snprintf(pre, sizeof pre, "v0:%" PRId64 ":", ts);
	if (n < 0 || (size_t)n >= sizeof pre)
		return -EINVAL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!(alg = EVP_MAC_fetch(NULL, "HMAC", NULL)) || !(ctx = EVP_MAC_CTX_new(alg)))
		goto out;
	if (!EVP_MAC_init(ctx, secret, secretlen, params) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)pre, (size_t)n) ||
	    (len && !EVP_MAC_update(ctx, body, len)) ||
	    !EVP_MAC_final(ctx, mac, &outl, MAC_LEN) || outl != MAC_LEN)
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(ctx); /* OpenSSL clears the key schedule */
	EVP_MAC_free(alg);
	if (rc)
		explicit_bzero(mac, MAC_LEN);
	return rc;
}

int slacksig_verify(const unsigned char *secret, size_t secretlen, const char *ts,
    const char *sig, const unsigned char *body, size_t len, int64_t now,
    enum slacksig_reason *why)
{
	unsigned char want[MAC_LEN], got[MAC_LEN];
	enum slacksig_reason r = SLACKSIG_ERROR;
	int64_t t = 0;
	int rc = -EINVAL;

	if (!secret || secretlen == 0 || (!body && len))
		goto out;
	rc = -EACCES;
	r = SLACKSIG_MISSING;
	if (!ts || !sig)
		goto out;
	r = SLACKSIG_MALFORMED;
	if (parse_ts(ts, &t) || parse_sig(sig, got))
		goto out;
	r = SLACKSIG_STALE;
	if (t > now + SLACKSIG_WINDOW_S || t < now - SLACKSIG_WINDOW_S)
		goto out;
	if ((rc = mac_of(secret, secretlen, t, body, len, want))) {
		r = SLACKSIG_ERROR;
		goto out;
	}
	rc = -EACCES;
	r = SLACKSIG_MISMATCH;
	if (CRYPTO_memcmp(want, got, MAC_LEN) != 0)
		goto out;
	rc = 0;
	r = SLACKSIG_OK;
out:
	explicit_bzero(want, sizeof want);
	if (why)
		*why = r;
	return rc;
}

int slacksig_sign(const unsigned char *secret, size_t secretlen, int64_t ts,
    const unsigned char *body, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[MAC_LEN];
	size_t i;
	int rc;

	if (!secret || secretlen == 0 || !out || (!body && len) || ts < 0)
		return -EINVAL;
	if (outlen < SLACKSIG_LEN + 1)
		return -ENOSPC;
	if ((rc = mac_of(secret, secretlen, ts, body, len, mac)))
		return rc;
	memcpy(out, "v0=", 3);
	for (i = 0; i < MAC_LEN; i++) {
		out[3 + 2 * i] = hex[mac[i] >> 4];
		out[4 + 2 * i] = hex[mac[i] & 15];
	}
	out[SLACKSIG_LEN] = '\0';
	explicit_bzero(mac, sizeof mac);
	return 0;
}
