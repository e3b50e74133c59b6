/*
 * fuzz_runner_query.c — libFuzzer harness for the query-string token path
 * (jwt.token.query): the intake takes the request's query string (a C
 * string), decodes the configured parameter with runner/query.c's
 * query_param into a buffer of VJWT_MAX_TOKEN + 1 bytes, and verifies the
 * result as a bearer token.
 *
 * query_param behaves as CivetWeb's mg_get_var: the two are run side by
 * side (a differential) on the same input, with that buffer and with a
 * small one, and must agree on found / not found / too long and on every
 * decoded byte. What comes out is also ours to pin down:
 * an independent decoder of the first "name=value" pair (name compared
 * case-insensitively, as CivetWeb does; '+' is a space; %XX a byte) must
 * agree on found / not found / too long (-2: more than VJWT_MAX_TOKEN bytes,
 * never a truncated token) and on every decoded byte. The decoded token then
 * goes through vjwt_verify with an HS256 policy (as a C string, so a "%00"
 * ends it); an accepted token must carry the policy's issuer and subject and
 * a live exp.
 */
#include <errno.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <civetweb.h>

#include "../../runner/query.h"
#include "../../runner/verify_jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000
#define NAME "access_token"

static const char secret[] = "fuzz-query-hs256-secret-0123456789";

static const struct vjwt_policy pol = {
	VJWT_HS256, VJWT_KEY_HMAC, (unsigned char *)secret, sizeof secret - 1,
	(char *)"hookdeck", (char *)"runner", (char *)"deploy", NULL, 0, 30, 0
};

static int hexval(int c)
{
	c = tolower(c);
	return c >= '0' && c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Independent: the decoded first NAME= value in Q; -1 absent, else length
 * (which may exceed CAP; only CAP bytes are written). */
static long decode_first(const char *q, char *out, size_t cap)
{
	const char *p = q, *amp, *v;
	size_t nl = strlen(NAME), n = 0;

	for (;; p = amp + 1) {
		amp = strchr(p, '&');
		if (!amp)
			amp = p + strlen(p);
		if ((size_t)(amp - p) > nl && p[nl] == '=' && !strncasecmp(p, NAME, nl))
			break;
		if (!*amp)
			return -1;
	}
	for (v = p + nl + 1; v < amp; v++, n++) {
		char c = *v;
		if (c == '%' && amp - v > 2 && isxdigit((unsigned char)v[1]) &&
		    isxdigit((unsigned char)v[2])) {
			c = (char)(hexval((unsigned char)v[1]) << 4 | hexval((unsigned char)v[2]));
			v += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (n < cap)
			out[n] = c;
	}
	return (long)n;
}

/* query_param must say what mg_get_var says, with a DSTLEN-byte buffer. */
static void differential(const char *q, size_t dstlen)
{
	static char a[VJWT_MAX_TOKEN + 1], b[VJWT_MAX_TOKEN + 1];
	size_t len = 0;
	int n = mg_get_var(q, strlen(q), NAME, a, dstlen);
	int rc = query_param(q, strlen(q), NAME, b, dstlen, &len);

	if (n == -1) {
		if (rc != -ENOENT || b[0] != '\0')
			abort();
	} else if (n == -2) {
		if (rc != -ERANGE)
			abort();
	} else if (rc != 0 || len != (size_t)n || memcmp(a, b, len + 1) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[VJWT_MAX_TOKEN + 1], want[VJWT_MAX_TOKEN + 1];
	size_t got = 0;
	char *q;
	long w;
	int n;

	if (size > 4 * VJWT_MAX_TOKEN || !(q = malloc(size + 1)))
		return 0;
	memcpy(q, data, size);
	q[size] = '\0'; /* CivetWeb's query_string: a C string */

	differential(q, sizeof buf);
	differential(q, 1 + size % 17);
	n = query_param(q, strlen(q), NAME, buf, sizeof buf, &got);
	n = n == 0 ? (int)got : n == -ENOENT ? -1 : -2;
	w = decode_first(q, want, sizeof want);
	if (w < 0) {
		if (n != -1)
			abort();
	} else if (w > VJWT_MAX_TOKEN) {
		if (n != -2) /* too long: refused whole, never cut */
			abort();
	} else if (n != w || memcmp(buf, want, (size_t)w) != 0 || buf[n] != '\0') {
		abort();
	}

	if (n >= 0) {
		cJSON *c = NULL;
		enum vjwt_reason why = VJWT_NREASONS;
		int rc = vjwt_verify(&pol, buf, NOW, &c, &why);
		if ((rc != 0 && rc != -EACCES) || (rc == 0) != (c != NULL) ||
		    (rc == 0) != (why == VJWT_OK) || why > VJWT_CLAIM)
			abort();
		if (rc == 0) {
			const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "exp");
			const cJSON *iss = cJSON_GetObjectItemCaseSensitive(c, "iss");
			const cJSON *sub = cJSON_GetObjectItemCaseSensitive(c, "sub");
			if (!cJSON_IsNumber(exp) || exp->valuedouble + pol.leeway_s < NOW ||
			    !cJSON_IsString(iss) || strcmp(iss->valuestring, pol.iss) != 0 ||
			    !cJSON_IsString(sub) || strcmp(sub->valuestring, pol.sub) != 0)
				abort();
		}
		cJSON_Delete(c);
	}
	free(q);
	return 0;
}
