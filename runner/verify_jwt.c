/*
 * verify_jwt.c — JWT authorization of a webhook request (contract in
 * verify_jwt.h). Owns: the bounded parse of the untrusted token (length cap,
 * exactly three base64url parts, header and payload as JSON objects without
 * repeated member names), the pinned algorithm policy checked on our own parse
 * of the header before libjwt 1.10 sees the key, signature verification
 * through libjwt, every claim rule (exp/nbf/iat with leeway, iss, aud, sub,
 * custom claims), the PEM key-kind probe (OpenSSL) and minting tokens.
 *
 * Why the pre-parse: libjwt 1.10 takes the algorithm from the token itself and
 * will happily run HMAC with an RSA public key PEM as the secret, and it keeps
 * the last of repeated JSON members while cJSON keeps the first. So the token
 * is refused before libjwt unless our parse is unambiguous, the alg is allowed
 * and fits the key kind; after libjwt verifies, its alg must still agree.
 * Claims are then read from our own cJSON parse of the very bytes libjwt
 * verified.
 *
 * Decisions beyond the header contract:
 *  - base64url must be canonical (no padding, no whitespace, unused trailing
 *    bits zero); decoded JSON must not contain NUL bytes or "\u0000" escapes
 *    (they would truncate strings in cJSON while other parsers keep them).
 *  - Every repeated header member is refused (not just "alg"), and so is a
 *    "crit" header: we implement no JWS extension.
 *  - nbf / iat present but not a finite number: VJWT_MALFORMED. exp that is
 *    not a finite number: VJWT_NO_EXP.
 *  - A policy without a key (or keylen > INT_MAX) fits no alg: VJWT_ALG.
 *  - vjwt_pem_kind refuses any bytes that contain a private key PEM block:
 *    a policy holds public keys only.
 *  - Whatever libjwt itself refuses after our checks passed (its parser is
 *    jansson: a "typ" other than JWT, numbers that overflow, invalid UTF-8)
 *    is reported as VJWT_SIGNATURE: it was not verified.
 *  - With the policy's aud unset, the token's aud is not looked at.
 * Nothing here logs.
 */
#include "verify_jwt.h"
#include "../common/b64.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

struct alg_info {
	const char *name;
	unsigned bit;
	enum vjwt_key_kind kind;
	jwt_alg_t jalg;
};

static const struct alg_info algs[] = {
	{ "HS256", VJWT_HS256, VJWT_KEY_HMAC, JWT_ALG_HS256 },
	{ "HS384", VJWT_HS384, VJWT_KEY_HMAC, JWT_ALG_HS384 },
	{ "HS512", VJWT_HS512, VJWT_KEY_HMAC, JWT_ALG_HS512 },
	{ "RS256", VJWT_RS256, VJWT_KEY_RSA, JWT_ALG_RS256 },
	{ "RS384", VJWT_RS384, VJWT_KEY_RSA, JWT_ALG_RS384 },
	{ "RS512", VJWT_RS512, VJWT_KEY_RSA, JWT_ALG_RS512 },
	{ "ES256", VJWT_ES256, VJWT_KEY_EC, JWT_ALG_ES256 },
	{ "ES384", VJWT_ES384, VJWT_KEY_EC, JWT_ALG_ES384 },
	{ "ES512", VJWT_ES512, VJWT_KEY_EC, JWT_ALG_ES512 },
};
#define NALGS (sizeof algs / sizeof algs[0])

static const struct alg_info *alg_by_bit(unsigned bit)
{
	size_t i;

	for (i = 0; i < NALGS; i++)
		if (algs[i].bit == bit)
			return &algs[i];
	return NULL;
}

unsigned vjwt_alg_bit(const char *name)
{
	size_t i;

	if (!name)
		return 0;
	for (i = 0; i < NALGS; i++)
		if (strcmp(algs[i].name, name) == 0)
			return algs[i].bit;
	return 0;
}

enum vjwt_key_kind vjwt_alg_kind(unsigned bit)
{
	const struct alg_info *a = alg_by_bit(bit);

	return a ? a->kind : (enum vjwt_key_kind)0;
}

const char *vjwt_reason_name(enum vjwt_reason why)
{
	static const char *const names[VJWT_NREASONS] = {
		[VJWT_OK] = "ok",
		[VJWT_MALFORMED] = "malformed",
		[VJWT_ALG] = "alg",
		[VJWT_SIGNATURE] = "signature",
		[VJWT_EXPIRED] = "expired",
		[VJWT_NO_EXP] = "no_exp",
		[VJWT_NOT_YET] = "not_yet_valid",
		[VJWT_ISS] = "iss",
		[VJWT_AUD] = "aud",
		[VJWT_SUB] = "sub",
		[VJWT_CLAIM] = "claim",
		[VJWT_NO_JTI] = "no_jti",
		[VJWT_ERROR] = "error",
	};

	if ((unsigned)why >= VJWT_NREASONS)
		return "unknown";
	return names[why];
}

/* A JWT's parts: base64url (RFC 4648 §5), unpadded, canonical. */
#define B64URL_JWT (B64_URL | B64_NOPAD | B64_CANONICAL)

/* ---- JSON parts ---- */

/* 0 when no two members of OBJ share a name (case-sensitive), else -EINVAL. */
static int no_duplicates(const cJSON *obj)
{
	const cJSON *a, *b;

	for (a = obj->child; a; a = a->next) {
		if (!a->string)
			return -EINVAL;
		for (b = a->next; b; b = b->next)
			if (!b->string || strcmp(a->string, b->string) == 0)
				return -EINVAL;
	}
	return 0;
}

/* Decode one base64url part into a JSON object with unique member names.
 * 0, -EINVAL (not such a part) or -ENOMEM. */
static int parse_part(const char *s, size_t n, cJSON **out)
{
	unsigned char *raw = NULL;
	size_t len = 0;
	cJSON *obj = NULL;
	int rc = -EINVAL;

	if (n == 0 || b64_check(s, n, B64URL_JWT) != 0)
		goto out;
	if ((rc = b64_decode_alloc(s, n, B64URL_JWT, &raw, &len)) != 0)
		goto out;
	rc = -EINVAL;
	if (memchr(raw, 0, len) || memmem(raw, len, "\\u0000", 6))
		goto out;
	/* require_null_terminated: the length must include the NUL. */
	obj = cJSON_ParseWithLengthOpts((const char *)raw, len + 1, NULL, 1);
	if (!cJSON_IsObject(obj) || no_duplicates(obj) != 0)
		goto out;
	*out = obj;
	obj = NULL;
	rc = 0;
out:
	cJSON_Delete(obj);
	free(raw);
	return rc;
}

/* Split into exactly three parts; lengths of header and payload. 0 or
 * -EINVAL. */
static int split3(const char *t, size_t len, size_t *hlen, size_t *plen, size_t *slen)
{
	const char *d1, *d2;

	if (!(d1 = memchr(t, '.', len)))
		return -EINVAL;
	if (!(d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - t))))
		return -EINVAL;
	if (memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - t)))
		return -EINVAL;
	*hlen = (size_t)(d1 - t);
	*plen = (size_t)(d2 - d1 - 1);
	*slen = len - (size_t)(d2 + 1 - t);
	return 0;
}

/* The header's alg as a bit: VJWT_OK, or why not (VJWT_ALG, VJWT_MALFORMED). */
static enum vjwt_reason header_alg(const cJSON *hdr, unsigned *bit)
{
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(hdr, "alg");

	if (cJSON_GetObjectItemCaseSensitive(hdr, "crit"))
		return VJWT_MALFORMED;
	if (!cJSON_IsString(alg) || !alg->valuestring)
		return VJWT_ALG;
	if (!(*bit = vjwt_alg_bit(alg->valuestring)))
		return VJWT_ALG;
	return VJWT_OK;
}

/* ---- claims ---- */

/* A finite number claim into *v, *present telling whether the claim is
 * there at all. 0, or -EINVAL when present but not a finite number. */
static int num_claim(const cJSON *pl, const char *name, double *v, int *present)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(pl, name);

	*present = it != NULL;
	if (!it)
		return 0;
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
		return -EINVAL;
	*v = it->valuedouble;
	return 0;
}

static int str_claim_eq(const cJSON *pl, const char *name, const char *want)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(pl, name);

	return cJSON_IsString(it) && it->valuestring && strcmp(it->valuestring, want) == 0;
}

static int aud_ok(const cJSON *pl, const char *want)
{
	const cJSON *aud = cJSON_GetObjectItemCaseSensitive(pl, "aud"), *e;
	int found = 0;

	if (cJSON_IsString(aud))
		return aud->valuestring && strcmp(aud->valuestring, want) == 0;
	if (!cJSON_IsArray(aud))
		return 0;
	cJSON_ArrayForEach(e, aud) {
		if (!cJSON_IsString(e) || !e->valuestring)
			return 0; /* an array of strings, nothing else */
		if (strcmp(e->valuestring, want) == 0)
			found = 1;
	}
	return found;
}

/* A number as JSON text, the way cJSON prints it: integers plainly, others
 * with the fewest digits (15, else 17) that read back the same. */
static void num_text(double d, char *buf, size_t n)
{
	if (d == 0) {
		snprintf(buf, n, "0");
	} else if (d > -1e15 && d < 1e15 && d == (double)(int64_t)d) {
		snprintf(buf, n, "%lld", (long long)d);
	} else {
		snprintf(buf, n, "%1.15g", d);
		if (strtod(buf, NULL) != d)
			snprintf(buf, n, "%1.17g", d);
	}
}

/* Custom claim NAME equals WANT: a string as the string, a number or boolean
 * by its JSON text; anything else never matches. */
static int custom_claim_eq(const cJSON *pl, const char *name, const char *want)
{
	const cJSON *it;
	char txt[64];

	if (!name || !want)
		return 0;
	it = cJSON_GetObjectItemCaseSensitive(pl, name);
	if (cJSON_IsString(it))
		return it->valuestring && strcmp(it->valuestring, want) == 0;
	if (cJSON_IsTrue(it))
		return strcmp(want, "true") == 0;
	if (cJSON_IsFalse(it))
		return strcmp(want, "false") == 0;
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
		return 0;
	num_text(it->valuedouble, txt, sizeof txt);
	return strcmp(txt, want) == 0;
}

/* Every claim rule: VJWT_OK, or the first rule the payload breaks. */
static enum vjwt_reason check_claims(const struct vjwt_policy *p, const cJSON *pl, int64_t now)
{
	double t = 0, dnow = (double)now, lw = p->leeway_s > 0 ? (double)p->leeway_s : 0;
	size_t i;
	int have;

	if (num_claim(pl, "exp", &t, &have) != 0 || !have)
		return VJWT_NO_EXP;
	if (dnow > t + lw)
		return VJWT_EXPIRED;
	if (num_claim(pl, "nbf", &t, &have) != 0)
		return VJWT_MALFORMED;
	if (have && t > dnow + lw)
		return VJWT_NOT_YET;
	if (num_claim(pl, "iat", &t, &have) != 0)
		return VJWT_MALFORMED;
	if (have && t > dnow + lw)
		return VJWT_NOT_YET;
	if (p->iss && !str_claim_eq(pl, "iss", p->iss))
		return VJWT_ISS;
	if (p->aud && !aud_ok(pl, p->aud))
		return VJWT_AUD;
	if (p->sub && !str_claim_eq(pl, "sub", p->sub))
		return VJWT_SUB;
	for (i = 0; i < p->nclaims; i++)
		if (!p->claims || !custom_claim_eq(pl, p->claims[i].name, p->claims[i].value))
			return VJWT_CLAIM;
	if (p->single_use && !vjwt_jti(pl))
		return VJWT_NO_JTI;
	return VJWT_OK;
}

const char *vjwt_jti(const cJSON *claims)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(claims, "jti");
	const char *c;

	if (!cJSON_IsString(j) || !j->valuestring || !j->valuestring[0] ||
	    strlen(j->valuestring) > VJWT_MAX_JTI)
		return NULL;
	for (c = j->valuestring; *c; c++)
		if ((unsigned char)*c < 0x21 || (unsigned char)*c > 0x7e)
			return NULL;
	return j->valuestring;
}

/* ---- verify ---- */

int vjwt_verify(const struct vjwt_policy *p, const char *token, int64_t now, cJSON **claims,
    enum vjwt_reason *why)
{
	const struct alg_info *a;
	cJSON *hdr = NULL, *pl = NULL;
	jwt_t *jwt = NULL;
	size_t len, hlen, plen, slen;
	unsigned bit = 0;
	enum vjwt_reason r = VJWT_MALFORMED;
	int rc;

	if (claims)
		*claims = NULL;
	if (!token)
		goto out;
	len = strnlen(token, VJWT_MAX_TOKEN + 1);
	if (len == 0 || len > VJWT_MAX_TOKEN)
		goto out;
	if (split3(token, len, &hlen, &plen, &slen) != 0)
		goto out;
	if (b64_check(token + hlen + 1 + plen + 1, slen, B64URL_JWT) != 0)
		goto out;
	if ((rc = parse_part(token, hlen, &hdr)) != 0 ||
	    (rc = parse_part(token + hlen + 1, plen, &pl)) != 0) {
		if (rc == -ENOMEM)
			r = VJWT_ERROR;
		goto out;
	}
	if ((r = header_alg(hdr, &bit)) != VJWT_OK)
		goto out;
	r = VJWT_ALG;
	if (!p || !(p->algs & bit) || !(a = alg_by_bit(bit)) || a->kind != p->kind)
		goto out;
	if (!p->key || p->keylen == 0 || p->keylen > INT_MAX)
		goto out;
	if (jwt_decode(&jwt, token, p->key, (int)p->keylen) != 0 || !jwt) {
		ERR_clear_error();
		r = VJWT_SIGNATURE;
		goto out;
	}
	if (jwt_get_alg(jwt) != a->jalg)
		goto out;
	if ((r = check_claims(p, pl, now)) != VJWT_OK)
		goto out;
	if (claims) {
		*claims = pl;
		pl = NULL;
	}
out:
	if (jwt)
		jwt_free(jwt);
	cJSON_Delete(hdr);
	cJSON_Delete(pl);
	if (why)
		*why = r;
	return r == VJWT_OK ? 0 : r == VJWT_ERROR ? -ENOMEM : -EACCES;
}

/* ---- keys ---- */

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int vjwt_pem_kind(const unsigned char *pem, size_t len, enum vjwt_key_kind *out)
{
	BIO *bio = NULL;
	EVP_PKEY *pk = NULL;
	int rc = -EINVAL;

	if (!pem || !out || len == 0 || len > INT_MAX)
		return -EINVAL;
	if (memmem(pem, len, "PRIVATE KEY", 11))
		return -EINVAL;
	if (!(bio = BIO_new_mem_buf(pem, (int)len))) {
		rc = -ENOMEM;
		goto out;
	}
	if (!(pk = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL)))
		goto out;
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA && EVP_PKEY_is_a(pk, "RSA"))
		*out = VJWT_KEY_RSA;
	else if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC && EVP_PKEY_is_a(pk, "EC"))
		*out = VJWT_KEY_EC;
	else
		goto out;
	rc = 0;
out:
	EVP_PKEY_free(pk);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

/* ---- sign ---- */

int vjwt_sign(const char *alg, const unsigned char *key, size_t keylen,
    const char *claims_json, char **out)
{
	const struct alg_info *a;
	cJSON *c = NULL;
	jwt_t *jwt = NULL;
	char *s = NULL;
	int rc = -EINVAL, e;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!alg || !key || keylen == 0 || keylen > INT_MAX || !claims_json)
		return -EINVAL;
	if (!(a = alg_by_bit(vjwt_alg_bit(alg))))
		return -EINVAL;
	c = cJSON_ParseWithOpts(claims_json, NULL, 1);
	if (!cJSON_IsObject(c) || no_duplicates(c) != 0)
		goto out;
	if ((e = jwt_new(&jwt)) != 0) {
		rc = e == ENOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}
	if (jwt_add_grants_json(jwt, claims_json) != 0)
		goto out;
	if ((e = jwt_set_alg(jwt, a->jalg, key, (int)keylen)) != 0) {
		rc = e == ENOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}
	errno = 0;
	if (!(s = jwt_encode_str(jwt))) {
		rc = errno == ENOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	free(s);
	if (jwt)
		jwt_free(jwt);
	cJSON_Delete(c);
	ERR_clear_error();
	return rc;
}

void vjwt_policy_clear(struct vjwt_policy *p)
{
	size_t i;

	if (!p)
		return;
	if (p->key) {
		explicit_bzero(p->key, p->keylen);
		free(p->key);
	}
	free(p->iss);
	free(p->aud);
	free(p->sub);
	for (i = 0; p->claims && i < p->nclaims; i++) {
		free(p->claims[i].name);
		free(p->claims[i].value);
	}
	free(p->claims);
	explicit_bzero(p, sizeof *p);
}
