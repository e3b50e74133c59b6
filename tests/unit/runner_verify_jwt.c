/*
 * runner_verify_jwt.c — unit tests for runner/verify_jwt.c: algorithms, keys
 * and signatures (the claims and the token's shape are in
 * runner_verify_jwt_claims.c, the fixtures in vjwttest.h). Tokens come from
 * an independent implementation (PyJWT, and Python's hmac for hand-shaped
 * payloads) as well as from vjwt_sign; throwaway RSA/EC keys are made with the
 * openssl CLI in a mkdtemp directory at start-up. Python gets its inputs
 * through files and environment variables, never through the shell line;
 * it is Debian's /usr/bin/python3, where tests/deps.sh puts python3-jwt.
 */
#include "vjwttest.h"

/* PyJWT decodes TOKEN with the key in file KEY; returns its "sub" claim. */
static char *pydecode(const char *alg, const char *key, const char *token)
{
	if (spit(tpath("tok.txt"), token) != 0)
		return NULL;
	setenv("VJ_ALG", alg, 1);
	setenv("VJ_KEY", tpath(key), 1);
	setenv("VJ_TOK", tpath("tok.txt"), 1);
	return py("import jwt, os, sys\n"
	    "k = open(os.environ[\"VJ_KEY\"], \"rb\").read()\n"
	    "t = open(os.environ[\"VJ_TOK\"]).read()\n"
	    "c = jwt.decode(t, k, algorithms=[os.environ[\"VJ_ALG\"]], audience=\"runner\")\n"
	    "sys.stdout.write(c[\"sub\"])\n");
}

static char *b64url(const char *s)
{
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(s), i, o = 0;
	char *r = malloc(n / 3 * 4 + 5);
	const unsigned char *u = (const unsigned char *)s;

	if (!r)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		r[o++] = al[u[i] >> 2];
		r[o++] = al[((u[i] & 3) << 4) | (u[i + 1] >> 4)];
		r[o++] = al[((u[i + 1] & 15) << 2) | (u[i + 2] >> 6)];
		r[o++] = al[u[i + 2] & 63];
	}
	if (n - i == 1) {
		r[o++] = al[u[i] >> 2];
		r[o++] = al[(u[i] & 3) << 4];
	} else if (n - i == 2) {
		r[o++] = al[u[i] >> 2];
		r[o++] = al[((u[i] & 3) << 4) | (u[i + 1] >> 4)];
		r[o++] = al[(u[i + 1] & 15) << 2];
	}
	r[o] = 0;
	return r;
}

/* ---- tests ---- */

static void test_tables(void)
{
	T_EQ_INT(vjwt_alg_bit("HS256"), VJWT_HS256);
	T_EQ_INT(vjwt_alg_bit("RS384"), VJWT_RS384);
	T_EQ_INT(vjwt_alg_bit("ES512"), VJWT_ES512);
	T_EQ_INT(vjwt_alg_bit("none"), 0);
	T_EQ_INT(vjwt_alg_bit("hs256"), 0);
	T_EQ_INT(vjwt_alg_bit("PS256"), 0);
	T_EQ_INT(vjwt_alg_bit(""), 0);
	T_EQ_INT(vjwt_alg_bit(NULL), 0);
	T_EQ_INT(vjwt_alg_kind(VJWT_HS512), VJWT_KEY_HMAC);
	T_EQ_INT(vjwt_alg_kind(VJWT_RS256), VJWT_KEY_RSA);
	T_EQ_INT(vjwt_alg_kind(VJWT_ES384), VJWT_KEY_EC);
	T_EQ_INT(vjwt_alg_kind(0), 0);
	T_EQ_INT(vjwt_alg_kind(VJWT_HS256 | VJWT_RS256), 0);
	T_EQ_STR(vjwt_reason_name(VJWT_OK), "ok");
	T_EQ_STR(vjwt_reason_name(VJWT_MALFORMED), "malformed");
	T_EQ_STR(vjwt_reason_name(VJWT_ALG), "alg");
	T_EQ_STR(vjwt_reason_name(VJWT_SIGNATURE), "signature");
	T_EQ_STR(vjwt_reason_name(VJWT_EXPIRED), "expired");
	T_EQ_STR(vjwt_reason_name(VJWT_NO_EXP), "no_exp");
	T_EQ_STR(vjwt_reason_name(VJWT_NOT_YET), "not_yet_valid");
	T_EQ_STR(vjwt_reason_name(VJWT_ISS), "iss");
	T_EQ_STR(vjwt_reason_name(VJWT_AUD), "aud");
	T_EQ_STR(vjwt_reason_name(VJWT_SUB), "sub");
	T_EQ_STR(vjwt_reason_name(VJWT_CLAIM), "claim");
	T_EQ_STR(vjwt_reason_name(VJWT_ERROR), "error");
	T_EQ_STR(vjwt_reason_name((enum vjwt_reason)99), "unknown");
	T_EQ_STR(vjwt_reason_name((enum vjwt_reason)-99), "unknown");
	T_EQ_STR(vjwt_reason_name(VJWT_NREASONS), "unknown");
}

static void test_hs_ok(void)
{
	struct vjwt_policy p;
	const char *algs[] = { "HS256", "HS384", "HS512" };
	cJSON *c = NULL;
	char *t;
	size_t i;

	mkpol(&p, VJWT_HS256 | VJWT_HS384 | VJWT_HS512, VJWT_KEY_HMAC, "hs.key");
	for (i = 0; i < 3; i++)
		T_EQ_INT(ver_py(&p, algs[i], "hs.key", good_claims()), 0);
	t = pyjwt("HS256", "hs.key", good_claims(), NULL);
	T_CHECK(t != NULL);
	T_EQ_INT(vjwt_verify(&p, t ? t : "", NOW, &c, NULL), 0);
	T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "sub")), "deploy");
	cJSON_Delete(c);
	T_EQ_INT(vjwt_verify(&p, t ? t : "", NOW, NULL, NULL), 0);
	free(t);
	vjwt_policy_clear(&p);
	T_CHECK(p.key == NULL && p.keylen == 0 && p.claims == NULL && p.algs == 0);
}

static void test_rs_ok(void)
{
	struct vjwt_policy p;

	mkpol(&p, VJWT_RS256 | VJWT_RS384 | VJWT_RS512, VJWT_KEY_RSA, "rsa.pub");
	T_EQ_INT(ver_py(&p, "RS256", "rsa.pem", good_claims()), 0);
	T_EQ_INT(ver_py(&p, "RS384", "rsa.pem", good_claims()), 0);
	T_EQ_INT(ver_py(&p, "RS512", "rsa.pem", good_claims()), 0);
	vjwt_policy_clear(&p);
}

static void test_es_ok(void)
{
	struct vjwt_policy p;

	mkpol(&p, VJWT_ES256, VJWT_KEY_EC, "ec256.pub");
	T_EQ_INT(ver_py(&p, "ES256", "ec256.pem", good_claims()), 0);
	vjwt_policy_clear(&p);
	mkpol(&p, VJWT_ES384, VJWT_KEY_EC, "ec384.pub");
	T_EQ_INT(ver_py(&p, "ES384", "ec384.pem", good_claims()), 0);
	vjwt_policy_clear(&p);
	mkpol(&p, VJWT_ES512, VJWT_KEY_EC, "ec521.pub");
	T_EQ_INT(ver_py(&p, "ES512", "ec521.pem", good_claims()), 0);
	vjwt_policy_clear(&p);
}

/* vjwt_sign output verifies here and, independently, in PyJWT. */
static void test_sign_roundtrip(void)
{
	static const struct { const char *alg, *priv, *pub; unsigned bit; enum vjwt_key_kind kind; } c[] = {
		{ "HS256", "hs.key", "hs.key", VJWT_HS256, VJWT_KEY_HMAC },
		{ "HS512", "hs.key", "hs.key", VJWT_HS512, VJWT_KEY_HMAC },
		{ "RS256", "rsa.pem", "rsa.pub", VJWT_RS256, VJWT_KEY_RSA },
		{ "ES256", "ec256.pem", "ec256.pub", VJWT_ES256, VJWT_KEY_EC },
		{ "ES384", "ec384.pem", "ec384.pub", VJWT_ES384, VJWT_KEY_EC },
	};
	/* PyJWT checks exp against the real clock: far future */
	const char *claims = "{" BASE ",\"exp\":4102444800}";
	size_t i;

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		struct vjwt_policy p;
		unsigned char *key;
		size_t klen = 0;
		char *t = NULL, *sub;

		key = slurp(tpath(c[i].priv), &klen);
		T_CHECK(key != NULL);
		T_EQ_INT(vjwt_sign(c[i].alg, key, klen, claims, &t), 0);
		free(key);
		mkpol(&p, c[i].bit, c[i].kind, c[i].pub);
		T_EQ_INT(ver(&p, t), 0);
		vjwt_policy_clear(&p);
		sub = t ? pydecode(c[i].alg, c[i].pub, t) : NULL;
		T_EQ_STR(sub, "deploy");
		free(sub);
		free(t);
	}
}

static void test_sign_errors(void)
{
	const unsigned char k[] = "secret";
	unsigned char *pub;
	size_t plen = 0;
	char *t = (char *)1;

	T_EQ_INT(vjwt_sign("none", k, 6, "{}", &t), -EINVAL);
	T_CHECK(t == NULL);
	T_EQ_INT(vjwt_sign("HS257", k, 6, "{}", &t), -EINVAL);
	T_EQ_INT(vjwt_sign("HS256", k, 0, "{}", &t), -EINVAL);
	T_EQ_INT(vjwt_sign("HS256", k, 6, "[1]", &t), -EINVAL);
	T_EQ_INT(vjwt_sign("HS256", k, 6, "{\"a\":", &t), -EINVAL);
	T_EQ_INT(vjwt_sign("HS256", k, 6, "{\"a\":1,\"a\":2}", &t), -EINVAL);
	T_EQ_INT(vjwt_sign("HS256", k, 6, "{} x", &t), -EINVAL);
	T_EQ_INT(vjwt_sign("HS256", k, 6, "{}", NULL), -EINVAL);
	pub = slurp(tpath("rsa.pub"), &plen);
	T_EQ_INT(vjwt_sign("RS256", pub, plen, "{}", &t), -EINVAL); /* a public key cannot sign */
	T_CHECK(t == NULL);
	T_EQ_INT(vjwt_sign("RS256", k, 6, "{}", &t), -EINVAL);
	free(pub);
}

static void test_alg_none(void)
{
	struct vjwt_policy p;
	char *pl = b64url(good_claims());
	char *t;

	mkpol(&p, 0x1ff, VJWT_KEY_HMAC, "hs.key");
	t = strdup(fmt("eyJhbGciOiJub25lIn0.%s.", pl));
	T_EQ_INT(ver(&p, t), VJWT_ALG);
	free(t);
	/* typ'd none, and with a real HMAC signature tacked on */
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"none\",\"typ\":\"JWT\"}", good_claims()), VJWT_ALG);
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"None\"}", good_claims()), VJWT_ALG);
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"NONE\"}", good_claims()), VJWT_ALG);
	T_EQ_INT(ver_raw(&p, "{\"typ\":\"JWT\"}", good_claims()), VJWT_ALG);
	T_EQ_INT(ver_raw(&p, "{\"alg\":256}", good_claims()), VJWT_ALG);
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"PS256\"}", good_claims()), VJWT_ALG);
	T_EQ_INT(ver_raw(&p, "{\"alg\":\"hs256\"}", good_claims()), VJWT_ALG);
	free(pl);
	vjwt_policy_clear(&p);
}

static void test_alg_not_allowed(void)
{
	struct vjwt_policy p;

	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, "hs.key");
	T_EQ_INT(ver_py(&p, "HS384", "hs.key", good_claims()), VJWT_ALG);
	T_EQ_INT(ver_py(&p, "HS512", "hs.key", good_claims()), VJWT_ALG);
	vjwt_policy_clear(&p);
	mkpol(&p, VJWT_RS512, VJWT_KEY_RSA, "rsa.pub");
	T_EQ_INT(ver_py(&p, "RS256", "rsa.pem", good_claims()), VJWT_ALG);
	vjwt_policy_clear(&p);
}

/* The classic key confusion: HS256 keyed with the RSA public key PEM. */
static void test_hs_with_rsa_pubkey(void)
{
	struct vjwt_policy p;
	unsigned char *pub;
	size_t plen = 0;
	char *t = NULL, *t2;
	jwt_t *j = NULL;

	pub = slurp(tpath("rsa.pub"), &plen);
	T_CHECK(pub != NULL);
	T_EQ_INT(vjwt_sign("HS256", pub, plen, good_claims(), &t), 0);
	/* libjwt 1.10 alone accepts it: the pre-check is what stands between */
	T_EQ_INT(jwt_decode(&j, t ? t : "", pub, (int)plen), 0);
	if (j)
		jwt_free(j);
	mkpol(&p, VJWT_RS256, VJWT_KEY_RSA, "rsa.pub");
	T_EQ_INT(ver(&p, t), VJWT_ALG);
	p.algs = VJWT_RS256 | VJWT_HS256; /* even if config wrongly allows HS256 */
	T_EQ_INT(ver(&p, t), VJWT_ALG);
	t2 = pyraw("HS256", "rsa.pub", HDR_HS256, good_claims()); /* made by Python too */
	T_EQ_INT(ver(&p, t2), VJWT_ALG);
	free(t2);
	vjwt_policy_clear(&p);
	free(t);
	free(pub);
}

static void test_alg_wrong_key_kind(void)
{
	struct vjwt_policy p;

	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, "hs.key");
	T_EQ_INT(ver_py(&p, "RS256", "rsa.pem", good_claims()), VJWT_ALG);
	p.algs = VJWT_HS256 | VJWT_RS256 | VJWT_ES256;
	T_EQ_INT(ver_py(&p, "RS256", "rsa.pem", good_claims()), VJWT_ALG);
	T_EQ_INT(ver_py(&p, "ES256", "ec256.pem", good_claims()), VJWT_ALG);
	vjwt_policy_clear(&p);
	mkpol(&p, VJWT_RS256 | VJWT_ES256, VJWT_KEY_RSA, "rsa.pub");
	T_EQ_INT(ver_py(&p, "ES256", "ec256.pem", good_claims()), VJWT_ALG);
	vjwt_policy_clear(&p);
	/* a policy without a key fits nothing */
	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, "hs.key");
	explicit_bzero(p.key, p.keylen);
	free(p.key);
	p.key = NULL;
	p.keylen = 0;
	T_EQ_INT(ver_py(&p, "HS256", "hs.key", good_claims()), VJWT_ALG);
	vjwt_policy_clear(&p);
}

static void test_bad_signature(void)
{
	struct vjwt_policy p;
	char *t, *t2, *dot;
	size_t n;

	mkpol(&p, VJWT_HS256, VJWT_KEY_HMAC, "hs.key");
	t = pyjwt("HS256", "hs.key", good_claims(), NULL);
	T_CHECK(t != NULL);
	if (t) {
		n = strlen(t);
		t[n - 10] = t[n - 10] == 'A' ? 'B' : 'A';
		T_EQ_INT(ver(&p, t), VJWT_SIGNATURE);
		t[strrchr(t, '.') - t + 1] = 0; /* empty signature */
		T_EQ_INT(ver(&p, t), VJWT_SIGNATURE);
	}
	free(t);
	T_EQ_INT(ver_py(&p, "HS256", "hs2.key", good_claims()), VJWT_SIGNATURE);
	/* another payload under the first token's signature */
	t = pyjwt("HS256", "hs.key", good_claims(), NULL);
	t2 = pyjwt("HS256", "hs.key", fmt("{" BASE ",\"exp\":%lld,\"admin\":true}", NOW + 600), NULL);
	T_CHECK(t && t2);
	if (t && t2) {
		char *spliced = strdup(t2);
		dot = strrchr(spliced, '.');
		*dot = 0;
		T_EQ_INT(ver(&p, fmt("%s%s", spliced, strrchr(t, '.'))), VJWT_SIGNATURE);
		free(spliced);
	}
	free(t);
	free(t2);
	vjwt_policy_clear(&p);
	mkpol(&p, VJWT_RS256, VJWT_KEY_RSA, "rsa.pub");
	T_EQ_INT(ver_py(&p, "RS256", "rsa2.pem", good_claims()), VJWT_SIGNATURE);
	t = pyjwt("RS256", "rsa.pem", good_claims(), NULL);
	if (t) {
		n = strlen(t);
		t[n - 20] = t[n - 20] == 'x' ? 'y' : 'x';
	}
	T_EQ_INT(ver(&p, t), VJWT_SIGNATURE);
	free(t);
	vjwt_policy_clear(&p);
	mkpol(&p, VJWT_ES256, VJWT_KEY_EC, "ec256.pub");
	t = pyjwt("ES256", "ec256.pem", good_claims(), NULL);
	if (t) {
		n = strlen(t);
		t[n - 20] = t[n - 20] == 'x' ? 'y' : 'x';
	}
	T_EQ_INT(ver(&p, t), VJWT_SIGNATURE);
	free(t);
	vjwt_policy_clear(&p);
}

static void test_pem_kind(void)
{
	static const struct { const char *file; int rc; enum vjwt_key_kind kind; } c[] = {
		{ "rsa.pub", 0, VJWT_KEY_RSA },
		{ "ec256.pub", 0, VJWT_KEY_EC },
		{ "ec384.pub", 0, VJWT_KEY_EC },
		{ "ec521.pub", 0, VJWT_KEY_EC },
		/* decision: a private key is refused; a policy holds public keys only */
		{ "rsa.pem", -EINVAL, 0 },
		{ "ec256.pem", -EINVAL, 0 },
		{ "ed.pub", -EINVAL, 0 },  /* neither RSA nor EC */
		{ "hs.key", -EINVAL, 0 },
	};
	size_t i, len;
	enum vjwt_key_kind k;
	unsigned char *pem, *both;
	size_t plen = 0, qlen = 0;
	unsigned char *priv;
	const char *fake = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";

	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		len = 0;
		k = 0;
		pem = slurp(tpath(c[i].file), &len);
		T_CHECK(pem != NULL);
		T_EQ_INT(vjwt_pem_kind(pem, len, &k), c[i].rc);
		if (c[i].rc == 0)
			T_EQ_INT(k, c[i].kind);
		free(pem);
	}
	T_EQ_INT(vjwt_pem_kind((const unsigned char *)"", 0, &k), -EINVAL);
	T_EQ_INT(vjwt_pem_kind(NULL, 10, &k), -EINVAL);
	T_EQ_INT(vjwt_pem_kind((const unsigned char *)fake, strlen(fake), &k), -EINVAL);
	/* a public key with a private key in the same bytes is refused too */
	pem = slurp(tpath("rsa.pub"), &plen);
	priv = slurp(tpath("rsa.pem"), &qlen);
	both = malloc(plen + qlen + 1);
	T_CHECK(pem && priv && both);
	if (pem && priv && both) {
		memcpy(both, pem, plen);
		memcpy(both + plen, priv, qlen);
		T_EQ_INT(vjwt_pem_kind(both, plen + qlen, &k), -EINVAL);
		/* truncated public key */
		T_EQ_INT(vjwt_pem_kind(pem, plen / 2, &k), -EINVAL);
	}
	if (priv)
		explicit_bzero(priv, qlen);
	free(both);
	free(priv);
	free(pem);
}

int main(void)
{
	T_RUN(test_setup);
	T_RUN(test_tables);
	if (setup_ok) {
		T_RUN(test_hs_ok);
		T_RUN(test_rs_ok);
		T_RUN(test_es_ok);
		T_RUN(test_sign_roundtrip);
		T_RUN(test_sign_errors);
		T_RUN(test_alg_none);
		T_RUN(test_alg_not_allowed);
		T_RUN(test_hs_with_rsa_pubkey);
		T_RUN(test_alg_wrong_key_kind);
		T_RUN(test_bad_signature);
		T_RUN(test_pem_kind);
	}
	T_RUN(test_cleanup);
	return T_EXIT();
}
