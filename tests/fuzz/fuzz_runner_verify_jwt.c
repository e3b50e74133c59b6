/*
 * fuzz_runner_verify_jwt.c — libFuzzer harness for runner/verify_jwt.c.
 *
 * The input, NUL-terminated, is a bearer token verified at a fixed "now"
 * against three fixed policies: HS256 (secret below, iss/aud/sub and two
 * custom claims), RS256 and ES256 (embedded throwaway PUBLIC keys; their
 * private halves were discarded after signing the seeds). Properties checked,
 * aborting on violation:
 *  - the result is 0 or -EACCES (its reason one of VJWT_MALFORMED ..
 *    VJWT_CLAIM), and claims are handed over exactly on success;
 *  - an accepted token really carries the policy's iss/sub and a live exp;
 *  - when the input is a JSON object that vjwt_sign accepts as claims, the
 *    token it mints with the HS256 secret never fails as "alg" or "signature".
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../runner/verify_jwt.h"

#define NOW 1700000000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "fuzz-hs256-secret-0123456789abcdef";

static const char rsa_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAo0H3m3idnsRFt9MNH+MN\n"
	"1QxGerw3RnCYTrQMjiOwLTkPFGqzHjqunDQJPGH6XS/STMpvo2PYn3Yi2nFxIL0R\n"
	"ZW/s3elF8r5Zptp7J55iRqhyhlTUuyBwD4rrn92fJuiBNH/SqMZWJ/ipLkvWgG6v\n"
	"tv6L7VF6Wrae1lu7G0EnsIucx7YVpdU03SoY38s0T7LU7jw1DxpbYfwaWljaHeCn\n"
	"y9rPW8sm/lYExcAozvc5qrgEB1J2ydRj+1M3gbrdlqeTfXNUdcXtvE6dnBOipzuZ\n"
	"7LMCP5TzHXMMkQRfeddV4ZSfUV6FJlhMgW7ERti+DvoTOLiUicogpWdc/qW5SmjA\n"
	"SQIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

static const char ec_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeqZkEbDo0oQhDNSfCe9j2y8XVPIb\n"
	"MxarKu1+a/L6hBcQKoLzMTL5eInJS7EYcM1jfEN4PBKUqc+zJG8dZ7Nx5g==\n"
	"-----END PUBLIC KEY-----\n";

static struct vjwt_claim custom[] = {
	{ (char *)"env", (char *)"prod" },
	{ (char *)"level", (char *)"3" },
};

static const struct vjwt_policy pols[] = {
	{ VJWT_HS256, VJWT_KEY_HMAC, (unsigned char *)secret, sizeof secret - 1,
	  (char *)"hookdeck", (char *)"runner", (char *)"deploy", custom, 2, 30, 0 },
	{ VJWT_RS256, VJWT_KEY_RSA, (unsigned char *)rsa_pub, sizeof rsa_pub - 1,
	  (char *)"hookdeck", (char *)"runner", (char *)"deploy", NULL, 0, 30, 0 },
	{ VJWT_ES256 | VJWT_HS256, VJWT_KEY_EC, (unsigned char *)ec_pub, sizeof ec_pub - 1,
	  (char *)"hookdeck", NULL, NULL, NULL, 0, 0, 0 },
};

static void check_accepted(const struct vjwt_policy *p, const cJSON *c)
{
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "exp");
	const cJSON *iss = cJSON_GetObjectItemCaseSensitive(c, "iss");
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(c, "sub");

	if (!cJSON_IsObject(c) || !cJSON_IsNumber(exp) || exp->valuedouble + p->leeway_s < NOW)
		abort();
	if (p->iss && (!cJSON_IsString(iss) || strcmp(iss->valuestring, p->iss) != 0))
		abort();
	if (p->sub && (!cJSON_IsString(sub) || strcmp(sub->valuestring, p->sub) != 0))
		abort();
}

static void verify_one(const struct vjwt_policy *p, const char *tok)
{
	cJSON *c = NULL;
	enum vjwt_reason why = VJWT_NREASONS;
	int rc = vjwt_verify(p, tok, NOW, &c, &why);

	if (rc != 0 && rc != -EACCES)
		abort();
	if ((rc == 0) != (why == VJWT_OK) || why > VJWT_CLAIM || !vjwt_reason_name(why))
		abort();
	if ((rc == 0) != (c != NULL))
		abort();
	if (rc == 0)
		check_accepted(p, c);
	cJSON_Delete(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *tok, *minted = NULL;
	enum vjwt_reason why = VJWT_NREASONS;
	size_t i;
	int rc;

	if (!(tok = malloc(size + 1)))
		return 0;
	memcpy(tok, data, size);
	tok[size] = 0;
	for (i = 0; i < sizeof pols / sizeof pols[0]; i++)
		verify_one(&pols[i], tok);
	if (size && tok[0] == '{' && size <= VJWT_MAX_TOKEN && !memchr(data, 0, size) &&
	    vjwt_sign("HS256", (const unsigned char *)secret, sizeof secret - 1, tok, &minted) == 0) {
		rc = vjwt_verify(&pols[0], minted, NOW, NULL, &why);
		if (rc == -EACCES && (why == VJWT_ALG || why == VJWT_SIGNATURE))
			abort();
	}
	free(minted);
	free(tok);
	return 0;
}
