/*
 * runner_verify_jwt_claims.c — unit tests for runner/verify_jwt.c: the time
 * claims (exp, nbf, iat), iss/aud/sub, single-use jti, custom claims,
 * duplicate members and malformed tokens. Fixtures in vjwttest.h.
 */
#include "vjwttest.h"

static void test_exp(void)
{
	struct vjwt_policy p;
	const char *hs = "hs.key";
	int rc;

	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, hs);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld}", NOW - 100)), VJWT_EXPIRED);
	T_EQ_INT(ver_py(&p, "HS256", hs, "{" BASE "}"), VJWT_NO_EXP);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":\"%lld\"}", NOW + 600)), VJWT_NO_EXP);
	T_EQ_INT(ver_py(&p, "HS256", hs, "{" BASE ",\"exp\":null}"), VJWT_NO_EXP);
	T_EQ_INT(ver_py(&p, "HS256", hs, "{" BASE ",\"exp\":true}"), VJWT_NO_EXP);
	T_EQ_INT(ver_py(&p, "HS256", hs, "{" BASE ",\"exp\":[1]}"), VJWT_NO_EXP);
	/* leeway 30: exp at now, and up to 30 s ago, still passes */
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld}", NOW)), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld}", NOW - 20)), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld}", NOW - 30)), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld}", NOW - 31)), VJWT_EXPIRED);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld.5}", NOW)), 0);
	p.leeway_s = 0;
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld}", NOW - 1)), VJWT_EXPIRED);
	/* a huge exponent overflows a double: never a usable exp. libjwt's own
	 * JSON parser refuses the number first, so today this is "signature". */
	rc = ver_raw(&p, HDR_HS256, "{" BASE ",\"exp\":1e999}");
	T_CHECK(rc == VJWT_SIGNATURE || rc == VJWT_NO_EXP);
	vjwt_policy_clear(&p);
}

static void test_nbf_iat(void)
{
	struct vjwt_policy p;
	const char *hs = "hs.key";
	long long e = NOW + 600;

	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, hs);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"nbf\":%lld}", e, NOW + 100)), VJWT_NOT_YET);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"nbf\":%lld}", e, NOW + 30)), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"nbf\":%lld}", e, NOW + 31)), VJWT_NOT_YET);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"nbf\":%lld}", e, NOW - 5)), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"iat\":%lld}", e, NOW + 100)), VJWT_NOT_YET);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"iat\":%lld}", e, NOW + 20)), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"iat\":%lld}", e, NOW + 31)), VJWT_NOT_YET);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"nbf\":\"%lld\"}", e, NOW)), VJWT_MALFORMED);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"iat\":\"%lld\"}", e, NOW)), VJWT_MALFORMED);
	p.leeway_s = 0;
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"nbf\":%lld}", e, NOW + 1)), VJWT_NOT_YET);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"nbf\":%lld}", e, NOW)), 0);
	vjwt_policy_clear(&p);
}

static void test_iss_aud_sub(void)
{
	struct vjwt_policy p;
	const char *hs = "hs.key";
	long long e = NOW + 600;
	const char *rest = "\"env\":\"prod\",\"level\":3";

	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, hs);
#define C3(iss, aud, sub) fmt("{%s,\"exp\":%lld,\"iss\":" iss ",\"aud\":" aud ",\"sub\":" sub "}", rest, e)
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"hookdeck\"", "\"runner\"", "\"deploy\"")), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"other\"", "\"runner\"", "\"deploy\"")), VJWT_ISS);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"Hookdeck\"", "\"runner\"", "\"deploy\"")), VJWT_ISS);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("1", "\"runner\"", "\"deploy\"")), VJWT_ISS);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"aud\":\"runner\",\"sub\":\"deploy\"}", rest, e)), VJWT_ISS);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"hookdeck\"", "\"other\"", "\"deploy\"")), VJWT_AUD);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"hookdeck\"", "[\"a\",\"runner\"]", "\"deploy\"")), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"hookdeck\"", "[\"a\",\"b\"]", "\"deploy\"")), VJWT_AUD);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"hookdeck\"", "[]", "\"deploy\"")), VJWT_AUD);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"hookdeck\"", "[\"runner\",1]", "\"deploy\"")), VJWT_AUD);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"hookdeck\"", "{\"runner\":1}", "\"deploy\"")), VJWT_AUD);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"iss\":\"hookdeck\",\"sub\":\"deploy\"}", rest, e)), VJWT_AUD);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"hookdeck\"", "\"runner\"", "\"root\"")), VJWT_SUB);
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"hookdeck\"", "\"runner\"", "null")), VJWT_SUB);
	/* unset policy fields are not checked */
	free(p.aud);
	free(p.sub);
	p.aud = p.sub = NULL;
	T_EQ_INT(ver_py(&p, "HS256", hs, C3("\"hookdeck\"", "\"elsewhere\"", "\"root\"")), 0);
#undef C3
	vjwt_policy_clear(&p);
}

/* single_use: a jti must be there and usable as a store key; without the
 * policy flag it is not looked at. vjwt_jti returns it (PyJWT's tokens). */
static void test_single_use_jti(void)
{
	struct vjwt_policy p;
	const char *hs = "hs.key";
	long long e = NOW + 600;
	char *t, big[VJWT_MAX_JTI + 2];
	cJSON *c = NULL;

	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, hs);
#define J(jti) fmt("{" BASE ",\"exp\":%lld,\"jti\":" jti "}", e)
	T_EQ_INT(ver_py(&p, "HS256", hs, J("42")), 0); /* not single-use: not looked at */
	p.single_use = 1;
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld}", e)), VJWT_NO_JTI);
	T_EQ_INT(ver_py(&p, "HS256", hs, J("42")), VJWT_NO_JTI);
	T_EQ_INT(ver_py(&p, "HS256", hs, J("\"\"")), VJWT_NO_JTI);
	T_EQ_INT(ver_py(&p, "HS256", hs, J("\"a b\"")), VJWT_NO_JTI);
	T_EQ_INT(ver_py(&p, "HS256", hs, J("\"a\\u0001\"")), VJWT_NO_JTI);
	T_EQ_INT(ver_py(&p, "HS256", hs, J("[\"x\"]")), VJWT_NO_JTI);
	T_EQ_INT(ver_py(&p, "HS256", hs, J("\"run-7f3a\"")), 0);
	memset(big, 'j', sizeof big - 1);
	big[sizeof big - 1] = 0;
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"jti\":\"%s\"}", e, big)),
	    VJWT_NO_JTI);
	big[VJWT_MAX_JTI] = 0;
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"jti\":\"%s\"}", e, big)), 0);
	/* an expired token stays expired, jti or not */
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{" BASE ",\"exp\":%lld,\"jti\":\"x\"}", (long long)NOW - 100)),
	    VJWT_EXPIRED);
	t = pyjwt("HS256", hs, J("\"run-7f3a\""), NULL);
	T_CHECK(t != NULL);
	if (t && vjwt_verify(&p, t, NOW, &c, NULL) == 0) {
		T_EQ_STR(vjwt_jti(c), "run-7f3a");
		cJSON_Delete(c);
	} else {
		T_CHECK(!"a single-use token with a jti verifies");
	}
	free(t);
	T_EQ_STR(vjwt_reason_name(VJWT_NO_JTI), "no_jti");
#undef J
	vjwt_policy_clear(&p);
}

static void test_custom_claims(void)
{
	struct vjwt_policy p;
	const char *hs = "hs.key";
	const char *b = "\"iss\":\"hookdeck\",\"aud\":\"runner\",\"sub\":\"deploy\"";
	long long e = NOW + 600;
	struct vjwt_claim *c;

	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, hs);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"level\":3}", b, e)), VJWT_CLAIM);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"env\":\"dev\",\"level\":3}", b, e)), VJWT_CLAIM);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"Env\":\"prod\",\"level\":3}", b, e)), VJWT_CLAIM);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":4}", b, e)), VJWT_CLAIM);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":\"3\"}", b, e)), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":[3]}", b, e)), VJWT_CLAIM);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":null}", b, e)), VJWT_CLAIM);
	T_EQ_INT(ver_raw(&p, HDR_HS256, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":3.0}", b, e)), 0);
	T_EQ_INT(ver_raw(&p, HDR_HS256, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":3.5}", b, e)), VJWT_CLAIM);
	/* booleans and a non-integer number by their JSON text */
	c = realloc(p.claims, 4 * sizeof *c);
	T_CHECK(c != NULL);
	if (!c)
		return;
	p.claims = c;
	c[2].name = strdup("ci");
	c[2].value = strdup("true");
	c[3].name = strdup("ratio");
	c[3].value = strdup("0.25");
	p.nclaims = 4;
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":3,\"ci\":true,\"ratio\":0.25}", b, e)), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":3,\"ci\":\"true\",\"ratio\":\"0.25\"}", b, e)), 0);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":3,\"ci\":false,\"ratio\":0.25}", b, e)), VJWT_CLAIM);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":3,\"ci\":1,\"ratio\":0.25}", b, e)), VJWT_CLAIM);
	T_EQ_INT(ver_py(&p, "HS256", hs, fmt("{%s,\"exp\":%lld,\"env\":\"prod\",\"level\":3,\"ci\":true,\"ratio\":0.26}", b, e)), VJWT_CLAIM);
	vjwt_policy_clear(&p);
}

static void test_duplicates(void)
{
	struct vjwt_policy p;
	long long e = NOW + 600;
	char *t;
	jwt_t *j = NULL;

	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, "hs.key");
	/* validly signed, but "sub" twice: two parsers could disagree */
	t = pyraw("HS256", "hs.key", HDR_HS256,
	    fmt("{" BASE ",\"exp\":%lld,\"sub\":\"root\"}", e));
	T_CHECK(t != NULL);
	T_EQ_INT(jwt_decode(&j, t ? t : "", p.key, (int)p.keylen), 0); /* libjwt takes it */
	if (j)
		jwt_free(j);
	T_EQ_INT(ver(&p, t), VJWT_MALFORMED);
	free(t);
	T_EQ_INT(ver_raw(&p, HDR_HS256, fmt("{" BASE ",\"exp\":%lld,\"exp\":%lld}", e, e + 1)), VJWT_MALFORMED);
	T_EQ_INT(ver_raw(&p, HDR_HS256, fmt("{\"level\":3," BASE ",\"exp\":%lld}", e)), VJWT_MALFORMED);
	/* names differing in case are different claims */
	T_EQ_INT(ver_raw(&p, HDR_HS256, fmt("{" BASE ",\"exp\":%lld,\"Sub\":\"root\"}", e)), 0);
	/* header: "alg" twice, any other member twice */
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"HS256\",\"alg\":\"HS256\"}", good_claims()), VJWT_MALFORMED);
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"none\",\"alg\":\"HS256\"}", good_claims()), VJWT_MALFORMED);
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}", good_claims()), VJWT_MALFORMED);
	vjwt_policy_clear(&p);
}

static void test_malformed(void)
{
	struct vjwt_policy p;
	char *t, *big;
	size_t n, pad;
	enum vjwt_reason why = VJWT_NREASONS;
	int found = 0, rc;

	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, "hs.key");
	t = pyjwt("HS256", "hs.key", good_claims(), NULL);
	T_CHECK(t != NULL);
	if (!t)
		return;
	n = strlen(t);
	T_EQ_INT(ver(&p, t), 0);
	T_EQ_INT(ver(&p, fmt("%s.", t)), VJWT_MALFORMED);           /* 4 parts */
	T_EQ_INT(ver(&p, fmt("%s.abc", t)), VJWT_MALFORMED);
	T_EQ_INT(ver(&p, fmt("%.*s", (int)(strrchr(t, '.') - t), t)), VJWT_MALFORMED); /* 2 parts */
	T_EQ_INT(ver(&p, "abc"), VJWT_MALFORMED);
	T_EQ_INT(ver(&p, ".."), VJWT_MALFORMED);
	T_EQ_INT(ver(&p, fmt(".%s", strchr(t, '.') + 1)), VJWT_MALFORMED); /* empty header */
	T_EQ_INT(ver(&p, ""), VJWT_MALFORMED);
	rc = vjwt_verify(&p, NULL, NOW, NULL, &why);
	T_EQ_INT(verdict(rc, why), VJWT_MALFORMED);
	T_EQ_INT(ver(&p, fmt("%s=", t)), VJWT_MALFORMED);            /* padding */
	T_EQ_INT(ver(&p, fmt(" %s", t)), VJWT_MALFORMED);
	T_EQ_INT(ver(&p, fmt("%s\n", t)), VJWT_MALFORMED);
	T_EQ_INT(ver(&p, fmt("%.20s+%s", t, t + 21)), VJWT_MALFORMED); /* '+' in header */
	T_EQ_INT(ver(&p, fmt("%.*s/%s", (int)(n - 5), t, t + n - 4)), VJWT_MALFORMED);
	/* "{}" is "e30"; "e31" has a non-zero unused bit */
	T_EQ_INT(ver(&p, fmt("e31.%s", strchr(t, '.') + 1)), VJWT_MALFORMED);
	/* header / payload not objects or not JSON */
	T_EQ_INT(ver_raw(&p, "[\"HS256\"]", good_claims()), VJWT_MALFORMED);
	T_EQ_INT(ver_raw(&p, "\"HS256\"", good_claims()), VJWT_MALFORMED);
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"HS256\"", good_claims()), VJWT_MALFORMED);
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"HS256\"} x", good_claims()), VJWT_MALFORMED);
	T_EQ_INT(ver_raw(&p, HDR_HS256, "[1,2]"), VJWT_MALFORMED);
	T_EQ_INT(ver_raw(&p, HDR_HS256, "42"), VJWT_MALFORMED);
	T_EQ_INT(ver_raw(&p, HDR_HS256, fmt("{" BASE ",\"exp\":%lld}{}", NOW + 600)), VJWT_MALFORMED);
	/* a NUL escape would truncate strings in one parser and not another */
	T_EQ_INT(ver_raw(&p, HDR_HS256, fmt("{\"iss\":\"hookdeck\",\"aud\":\"runner\",\"sub\":\"deploy\\u0000x\","
	    "\"env\":\"prod\",\"level\":3,\"exp\":%lld}", NOW + 600)), VJWT_MALFORMED);
	/* we implement no JWS extension */
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}", good_claims()), VJWT_MALFORMED);
	free(t);

	/* length cap: garbage over the cap, then real tokens at and over it */
	big = malloc(VJWT_MAX_TOKEN + 2);
	T_CHECK(big != NULL);
	if (big) {
		memset(big, 'a', VJWT_MAX_TOKEN + 1);
		big[VJWT_MAX_TOKEN + 1] = 0;
		T_EQ_INT(ver(&p, big), VJWT_MALFORMED);
		free(big);
	}
	for (pad = 5900; pad < 6300 && found != 3; pad++) {
		char *claims = malloc(pad + 256), *tok = NULL;
		if (!claims)
			break;
		snprintf(claims, pad + 256, "{" BASE ",\"exp\":%lld,\"pad\":\"%0*d\"}", NOW + 600, (int)pad, 0);
		if (vjwt_sign("HS256", p.key, p.keylen, claims, &tok) == 0) {
			n = strlen(tok);
			if (n == VJWT_MAX_TOKEN) {
				T_EQ_INT(ver(&p, tok), 0);
				found |= 1;
			} else if (n > VJWT_MAX_TOKEN) {
				T_EQ_INT(ver(&p, tok), VJWT_MALFORMED);
				found |= 2;
			}
		}
		free(tok);
		free(claims);
	}
	T_EQ_INT(found, 3);
	vjwt_policy_clear(&p);
}

int main(void)
{
	VJWT_FIXTURE(test_setup);
	if (setup_ok) {
		T_RUN(test_exp);
		T_RUN(test_nbf_iat);
		T_RUN(test_iss_aud_sub);
		T_RUN(test_custom_claims);
		T_RUN(test_single_use_jti);
		T_RUN(test_duplicates);
		T_RUN(test_malformed);
	}
	VJWT_FIXTURE(test_cleanup);
	return T_EXIT();
}
