/*
 * verify_hmac.c — webhook signatures over the raw request body, one scheme per
 * hook, several secrets at once (rotation). Owns: decoding the signature
 * headers (bounded, untrusted), computing HMAC-SHA256 with OpenSSL, and
 * comparing in constant time. Also produces signatures (for `sign` and tests).
 *
 * Schemes:
 *  VHMAC_HOOKDECK  x-hookdeck-signature = base64(HMAC-SHA256(secret, body));
 *                  x-hookdeck-signature-2 (rotation) is accepted as well.
 *  VHMAC_GITHUB    X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(secret, body)).
 *  VHMAC_STANDARD  Standard Webhooks: webhook-id, webhook-timestamp (unix s),
 *                  webhook-signature = space-separated "v1,<base64>" list over
 *                  "<id>.<timestamp>.<body>"; secret "whsec_<base64>";
 *                  |now - timestamp| must be <= tolerance.
 * A request verifies when any presented signature matches any secret.
 * Nothing here logs; callers log the reason string (never secrets).
 */
#ifndef VERIFY_HMAC_H
#define VERIFY_HMAC_H
#include <stddef.h>
#include <stdint.h>
#include "hdr.h"

enum vhmac_scheme { VHMAC_HOOKDECK = 1, VHMAC_GITHUB, VHMAC_STANDARD };

/* Why vhmac_verify decided as it did (its out-parameter). */
enum vhmac_reason {
	VHMAC_OK = 0,        /* verified */
	VHMAC_MISSING,       /* no signature header (or, standard: id/timestamp absent) */
	VHMAC_MALFORMED,     /* header present but not decodable / too long */
	VHMAC_MISMATCH,      /* well-formed, no secret matches */
	VHMAC_STALE,         /* standard: timestamp outside tolerance */
	VHMAC_ERROR,         /* not decided: a caller error or no memory */
	VHMAC_NREASONS
};

struct vhmac_secret {
	unsigned char *key; /* raw key bytes, owned; wiped by vhmac_secret_clear */
	size_t len;
	/* Room for the HMAC-SHA256 context keyed with KEY (made by
	 * vhmac_secret_from_string, freed by vhmac_secret_clear): keyed on the
	 * first verification, then copied for each one instead of redoing the
	 * key schedule. NULL (a secret built by hand, or no memory at load):
	 * keyed on each call. */
	void *keyed;
};

/* Scheme from its config name: "hookdeck", "github", "standard-webhooks".
 * Returns 0 and sets *out, or -EINVAL. */
int vhmac_scheme_parse(const char *name, enum vhmac_scheme *out);
const char *vhmac_scheme_name(enum vhmac_scheme s);

/* Turn a resolved secret string into key bytes. For VHMAC_STANDARD a
 * "whsec_" prefix is required and the rest is base64-decoded; other schemes
 * use the bytes as they are. Empty secrets are refused. Also makes room
 * for the keyed context (OUT->keyed; nothing of OpenSSL's is touched until
 * the first verification, so an idle daemon does not map its code). 0 or
 * -EINVAL/-ENOMEM. */
int vhmac_secret_from_string(enum vhmac_scheme s, const char *str, struct vhmac_secret *out);
void vhmac_secret_clear(struct vhmac_secret *sec); /* explicit_bzero + free, keyed context too */

/* Verify BODY (LEN bytes, exactly as received). NOW is unix seconds,
 * TOLERANCE_S the standard-webhooks window. Returns 0 when verified, -EACCES
 * when the request is refused, -EINVAL for a caller error (unknown scheme,
 * NULL arrays) or -ENOMEM. *WHY (when WHY is non-NULL) always gets the
 * reason: VHMAC_OK, the refusal's reason, or VHMAC_ERROR. */
int vhmac_verify(enum vhmac_scheme s, const struct vhmac_secret *secrets, size_t nsecrets,
    const unsigned char *body, size_t len, const struct hdr_src *h, int64_t now,
    int tolerance_s, enum vhmac_reason *why);

/* Stable name of a reason for logs and metrics: "ok", "missing", "malformed",
 * "mismatch", "stale"; "error" for VHMAC_ERROR and anything out of range. */
const char *vhmac_reason_name(enum vhmac_reason why);

/* The header a scheme signs into (for `sign`): "x-hookdeck-signature",
 * "X-Hub-Signature-256" or "webhook-signature". */
const char *vhmac_header_name(enum vhmac_scheme s);

/* 1 when NAME (any case) is a header some scheme carries a signature in
 * (GitHub's older X-Hub-Signature too): such headers are never stored. */
int vhmac_is_signature_header(const char *name);

/* Compute the signature header value for BODY with SECRET: base64,
 * "sha256=<hex>", or "v1,<base64>" over "<msg_id>.<ts>.<body>" (MSG_ID and
 * TS only used by VHMAC_STANDARD). Writes a NUL-terminated string into OUT.
 * 0, -EINVAL, or -ENOSPC when OUTLEN is too small. */
int vhmac_sign(enum vhmac_scheme s, const struct vhmac_secret *secret,
    const unsigned char *body, size_t len, const char *msg_id, int64_t ts,
    char *out, size_t outlen);
#endif
