/*
 * verify_jwt.c — JWT authorization of a webhook request, on libjwt 1.10.
 * Owns: the token's header pre-check (bounded, untrusted: base64url + JSON),
 * the pinned algorithm policy, signature verification through libjwt, and
 * every claim rule. Also mints tokens (for `sign` and tests).
 *
 * Contract:
 *  - The token's "alg" must be in the policy's allowed set AND fit the key
 *    kind: HS* only with an HMAC secret, RS* only with an RSA public key,
 *    ES* only with an EC public key. "none" is never accepted. This check runs
 *    on our own parse of the header BEFORE libjwt sees the key, so an
 *    HS256 token "signed" with the RSA public key PEM is refused
 *    (libjwt 1.10 would otherwise use the token's alg as given).
 *  - After libjwt verifies, its alg is compared again with the pre-checked one.
 *  - "exp" is required (a number); now > exp + leeway fails. "nbf" and "iat",
 *    when present, must be numbers and not later than now + leeway.
 *  - iss / sub must equal the policy's when set; aud matches when the token's
 *    aud (a string, or an array of strings) contains the policy's value.
 *  - Every configured custom claim must be present and equal: a string claim
 *    compares as the string, a number or boolean by its JSON text.
 *  - A payload that repeats a top-level claim name is refused (two parsers
 *    must never disagree about "sub").
 *  - With single_use, a "jti" claim is required (VJWT_NO_JTI otherwise);
 *    remembering which ids were used is the caller's (the store's) job.
 *  - Tokens longer than VJWT_MAX_TOKEN are refused unread.
 * Nothing here logs; the reason string goes to the log, never the token.
 */
#ifndef VERIFY_JWT_H
#define VERIFY_JWT_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define VJWT_MAX_TOKEN 8192

enum vjwt_key_kind { VJWT_KEY_HMAC = 1, VJWT_KEY_RSA, VJWT_KEY_EC };

/* Allowed algorithms, as a bit set. */
enum {
	VJWT_HS256 = 1 << 0, VJWT_HS384 = 1 << 1, VJWT_HS512 = 1 << 2,
	VJWT_RS256 = 1 << 3, VJWT_RS384 = 1 << 4, VJWT_RS512 = 1 << 5,
	VJWT_ES256 = 1 << 6, VJWT_ES384 = 1 << 7, VJWT_ES512 = 1 << 8,
};

struct vjwt_claim {
	char *name;
	char *value;
};

struct vjwt_policy {
	unsigned algs;             /* VJWT_* bit set, non-empty */
	enum vjwt_key_kind kind;
	unsigned char *key;        /* HMAC secret bytes, or public key PEM */
	size_t keylen;
	char *iss, *aud, *sub;     /* NULL: not checked */
	struct vjwt_claim *claims; /* configured custom claims */
	size_t nclaims;
	int leeway_s;              /* for exp, nbf, iat */
	int single_use;            /* a "jti" is required (vjwt_jti); the caller records it */
};

/* Why vjwt_verify decided as it did (its out-parameter). */
enum vjwt_reason {
	VJWT_OK = 0,      /* verified */
	VJWT_MALFORMED,   /* not three base64url parts, bad JSON, too long, duplicate claims */
	VJWT_ALG,         /* alg missing, "none", not allowed, or not fitting the key */
	VJWT_SIGNATURE,   /* signature does not verify */
	VJWT_EXPIRED,     /* exp in the past */
	VJWT_NO_EXP,      /* exp missing or not a number */
	VJWT_NOT_YET,     /* nbf or iat in the future */
	VJWT_ISS,
	VJWT_AUD,
	VJWT_SUB,
	VJWT_CLAIM,       /* a configured custom claim missing or different */
	VJWT_NO_JTI,      /* single_use: "jti" missing, not a string, or not 1..VJWT_MAX_JTI
			   * printable ASCII bytes */
	VJWT_ERROR,       /* not decided: no memory */
	VJWT_NREASONS
};

#define VJWT_MAX_JTI 200

/* One algorithm name ("HS256"…) to its bit; 0 for an unknown name. */
unsigned vjwt_alg_bit(const char *name);
/* Which key kinds an algorithm bit needs. */
enum vjwt_key_kind vjwt_alg_kind(unsigned bit);
/* Key kind of a PEM public key (RSA or EC) via OpenSSL; -EINVAL when the bytes
 * are not a public key PEM of either kind. */
int vjwt_pem_kind(const unsigned char *pem, size_t len, enum vjwt_key_kind *out);

/* Verify TOKEN (NUL-terminated) at unix time NOW. On success returns 0 and,
 * when CLAIMS is non-NULL, hands over the payload object (*claims, caller
 * frees with cJSON_Delete). A refused token (a NULL one included) is -EACCES;
 * -ENOMEM when memory ran out. *claims is NULL on every failure. *WHY (when
 * WHY is non-NULL) always gets the reason: VJWT_OK, the refusal's reason, or
 * VJWT_ERROR. */
int vjwt_verify(const struct vjwt_policy *p, const char *token, int64_t now, cJSON **claims,
    enum vjwt_reason *why);

/* Stable name of a reason for logs/metrics: "ok", "malformed", "alg",
 * "signature", "expired", "no_exp", "not_yet_valid", "iss", "aud", "sub",
 * "claim", "no_jti", "error" (VJWT_ERROR); "unknown" out of range. */
const char *vjwt_reason_name(enum vjwt_reason why);

/* The verified CLAIMS' "jti" when it is a usable single-use id (a string of
 * 1..VJWT_MAX_JTI printable ASCII bytes, no space), else NULL. Points into
 * CLAIMS. */
const char *vjwt_jti(const cJSON *claims);

/* Mint a token: ALG is a name ("HS256"…), KEY the HMAC secret or the PRIVATE
 * key PEM, CLAIMS_JSON a JSON object of claims. *out is malloc'ed.
 * 0 or -EINVAL/-ENOMEM. */
int vjwt_sign(const char *alg, const unsigned char *key, size_t keylen,
    const char *claims_json, char **out);

/* Free what a policy owns (wiping the key) and zero it. */
void vjwt_policy_clear(struct vjwt_policy *p);
#endif
