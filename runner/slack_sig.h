/*
 * slack_sig.c — Slack's v0 request signature (prefix slacksig_). Owns the
 * bounded reading of the two untrusted headers X-Slack-Request-Timestamp and
 * X-Slack-Signature, computing
 *   "v0=" hex(HMAC-SHA256(signing secret, "v0:" timestamp ":" raw body))
 * with OpenSSL, the constant-time comparison (CRYPTO_memcmp), and the replay
 * window: the timestamp must lie within SLACKSIG_WINDOW_S of now, in either
 * direction. Also produces signatures (tests, tools). Nothing here logs.
 */
#ifndef SLACK_SIG_H
#define SLACK_SIG_H
#include <stddef.h>
#include <stdint.h>

#define SLACKSIG_WINDOW_S 300  /* Slack's five minutes, both directions */
#define SLACKSIG_HDR_TS "X-Slack-Request-Timestamp"
#define SLACKSIG_HDR_SIG "X-Slack-Signature"
#define SLACKSIG_LEN 67        /* "v0=" and 64 hex digits, without the NUL */

/* Why slacksig_verify decided as it did. */
enum slacksig_reason {
	SLACKSIG_OK = 0,    /* verified */
	SLACKSIG_MISSING,   /* a header is absent */
	SLACKSIG_MALFORMED, /* a header is not a decimal time / not "v0=" + 64 hex */
	SLACKSIG_STALE,     /* the timestamp is more than the window from now */
	SLACKSIG_MISMATCH,  /* well-formed and fresh, but not signed with the secret */
	SLACKSIG_ERROR,     /* not decided: caller error or no memory */
	SLACKSIG_NREASONS
};

/* Verify a request: TS and SIG are the two header values (NULL when absent),
 * BODY the LEN raw body bytes exactly as received, SECRET the signing secret
 * (SECRETLEN bytes), NOW unix seconds. Returns 0 when verified, -EACCES when
 * refused, -EINVAL for a caller error (no secret) or -ENOMEM. *WHY (when
 * non-NULL) always gets the reason. The checks run in this order: present,
 * well-formed, fresh, then the MAC. */
int slacksig_verify(const unsigned char *secret, size_t secretlen, const char *ts,
    const char *sig, const unsigned char *body, size_t len, int64_t now,
    enum slacksig_reason *why);

/* The X-Slack-Signature value for BODY at time TS, NUL-terminated in OUT
 * (at least SLACKSIG_LEN + 1 bytes). 0, -EINVAL, -ENOSPC or -ENOMEM. */
int slacksig_sign(const unsigned char *secret, size_t secretlen, int64_t ts,
    const unsigned char *body, size_t len, char *out, size_t outlen);

/* Stable name of a reason for logs and metrics: "ok", "missing",
 * "malformed", "stale", "mismatch"; "error" for anything else. */
const char *slacksig_reason_name(enum slacksig_reason why);
#endif
