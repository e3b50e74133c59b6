/*
 * runner_verify_jwt.c — unit tests for runner/verify_jwt.c. Tokens come from
 * an independent implementation (PyJWT, and Python's hmac for hand-shaped
 * payloads) as well as from vjwt_sign; throwaway RSA/EC keys are made with the
 * openssl CLI in a mkdtemp directory at start-up. Python gets its inputs
 * through files and environment variables, never through the shell line;
 * it is Debian's /usr/bin/python3, where tests/deps.sh puts python3-jwt.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jwt.h>

#include "../../runner/verify_jwt.h"
#include "t.h"

#define NOW 1700000000LL
#define BASE "\"iss\":\"hookdeck\",\"aud\":\"runner\",\"sub\":\"deploy\",\"env\":\"prod\",\"level\":3"
#define HDR_HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static char tdir[] = "/tmp/vjwt-test-XXXXXX";
static char path_buf[8][512];
static int setup_ok;

/* ---- small helpers ---- */

static const char *tpath(const char *name)
{
	static unsigned n;
	char *p = path_buf[n++ % 8];

	snprintf(p, sizeof path_buf[0], "%s/%s", tdir, name);
	return p;
}

/* printf into one of a few rotating buffers */
__attribute__((format(printf, 1, 2))) static const char *fmt(const char *f, ...);
static const char *fmt(const char *f, ...)
{
	static char bufs[4][16384];
	static unsigned n;
	char *b = bufs[n++ % 4];
	va_list ap;

	va_start(ap, f);
	vsnprintf(b, sizeof bufs[0], f, ap);
	va_end(ap);
	return b;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, f) == (size_t)n) {
		b[n] = 0;
		*len = (size_t)n;
	} else {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static int spit(const char *path, const char *s)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fwrite(s, 1, strlen(s), f) == strlen(s) ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static int sh(const char *cmd)
{
	return system(cmd);
}

/* Runs a Python snippet (no single quotes in it), returns its stdout. */
static char *py(const char *script)
{
	char cmd[4096], *out = NULL;
	size_t cap = 0, len = 0, n;
	FILE *f;
	char buf[4096];

	snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c '%s'", script);
	if (!(f = popen(cmd, "r")))
		return NULL;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (len + n + 1 > cap) {
			char *o = realloc(out, cap = (len + n + 1) * 2);
			if (!o)
				break;
			out = o;
		}
		memcpy(out + len, buf, n);
		len += n;
	}
	if (pclose(f) != 0 || !out) {
		free(out);
		return NULL;
	}
	out[len] = 0;
	return out;
}

/* PyJWT: encode CLAIMS (JSON text) with ALG and the key in file KEY;
 * HDR: extra header fields as JSON text, or NULL. */
static char *pyjwt(const char *alg, const char *key, const char *claims, const char *hdr)
{
	if (spit(tpath("claims.json"), claims) != 0)
		return NULL;
	setenv("VJ_ALG", alg, 1);
	setenv("VJ_KEY", tpath(key), 1);
	setenv("VJ_CLAIMS", tpath("claims.json"), 1);
	setenv("VJ_HDR", hdr ? hdr : "", 1);
	return py("import jwt, json, os, sys\n"
	    "k = open(os.environ[\"VJ_KEY\"], \"rb\").read()\n"
	    "c = json.load(open(os.environ[\"VJ_CLAIMS\"]))\n"
	    "h = os.environ[\"VJ_HDR\"]\n"
	    "sys.stdout.write(jwt.encode(c, k, algorithm=os.environ[\"VJ_ALG\"],"
	    " headers=json.loads(h) if h else None))\n");
}

/* Python hmac: a token whose header and payload are exactly HDR and PAYLOAD
 * (raw JSON text, duplicates and all), HMAC-signed with the key in file KEY. */
static char *pyraw(const char *alg, const char *key, const char *hdr, const char *payload)
{
	if (spit(tpath("raw.hdr"), hdr) != 0 || spit(tpath("raw.pl"), payload) != 0)
		return NULL;
	setenv("VJ_ALG", alg, 1);
	setenv("VJ_KEY", tpath(key), 1);
	setenv("VJ_RAWH", tpath("raw.hdr"), 1);
	setenv("VJ_RAWP", tpath("raw.pl"), 1);
	return py("import base64, hashlib, hmac, os, sys\n"
	    "e = lambda b: base64.urlsafe_b64encode(b).rstrip(b\"=\").decode()\n"
	    "k = open(os.environ[\"VJ_KEY\"], \"rb\").read()\n"
	    "si = e(open(os.environ[\"VJ_RAWH\"], \"rb\").read()) + \".\" + "
	    "e(open(os.environ[\"VJ_RAWP\"], \"rb\").read())\n"
	    "d = {\"HS256\": hashlib.sha256, \"HS384\": hashlib.sha384, \"HS512\": hashlib.sha512}"
	    "[os.environ[\"VJ_ALG\"]]\n"
	    "sys.stdout.write(si + \".\" + e(hmac.new(k, si.encode(), d).digest()))\n");
}

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

/* A policy owning malloc'ed copies, as config would build it. */
static void mkpol(struct vjwt_policy *p, unsigned algs, enum vjwt_key_kind kind, const char *keyfile)
{
	memset(p, 0, sizeof *p);
	p->algs = algs;
	p->kind = kind;
	p->key = slurp(tpath(keyfile), &p->keylen);
	p->iss = strdup("hookdeck");
	p->aud = strdup("runner");
	p->sub = strdup("deploy");
	p->claims = calloc(2, sizeof *p->claims);
	if (p->claims) {
		p->nclaims = 2;
		p->claims[0].name = strdup("env");
		p->claims[0].value = strdup("prod");
		p->claims[1].name = strdup("level");
		p->claims[1].value = strdup("3");
	}
	p->leeway_s = 30;
}

static const char *good_claims(void)
{
	return fmt("{" BASE ",\"exp\":%lld,\"iat\":%lld}", NOW + 600, NOW - 10);
}

/* vjwt_verify's return and reason folded into one number to assert on: 0
 * when verified, the reason (> 0) of a refusal, which must come as -EACCES,
 * or the negative errno of an error, which must come with VJWT_ERROR. -1000
 * when the return and the reason disagree. */
static int verdict(int rc, enum vjwt_reason why)
{
	if (rc == 0)
		return why == VJWT_OK ? 0 : -1000;
	if (rc == -EACCES)
		return why > VJWT_OK && why < VJWT_ERROR ? (int)why : -1000;
	return rc < 0 && why == VJWT_ERROR ? rc : -1000;
}

/* verify TOKEN (may be NULL: counts as a harness failure) against P */
static int ver(const struct vjwt_policy *p, const char *token)
{
	cJSON *c = (cJSON *)1;
	enum vjwt_reason why = VJWT_NREASONS;
	int rc;

	if (!token)
		return 999;
	rc = vjwt_verify(p, token, NOW, &c, &why);
	rc = verdict(rc, why);
	if (rc == 0) {
		if (!cJSON_IsObject(c))
			rc = 998;
		cJSON_Delete(c);
	} else if (c != NULL) {
		rc = 997; /* claims must be NULL on failure */
	}
	return rc;
}

/* verify and free an HS256 token made by pyraw from a payload */
static int ver_raw(const struct vjwt_policy *p, const char *hdr, const char *payload)
{
	char *t = pyraw("HS256", "hs.key", hdr, payload);
	int rc = ver(p, t);

	free(t);
	return rc;
}

static int ver_py(const struct vjwt_policy *p, const char *alg, const char *key, const char *claims)
{
	char *t = pyjwt(alg, key, claims, NULL);
	int rc = ver(p, t);

	free(t);
	return rc;
}

/* ---- tests ---- */

static void test_setup(void)
{
	int rc, have_pyjwt;

	/* PyJWT missing? run tests/deps.sh (python3-jwt, python3-cryptography) */
	have_pyjwt = sh("/usr/bin/python3 -c 'import jwt, cryptography' 2>/dev/null") == 0;
	T_CHECK(have_pyjwt);
	T_CHECK(mkdtemp(tdir) != NULL);
	T_EQ_INT(spit(tpath("hs.key"), "hookdeck-test-secret-0123456789abcdef"), 0);
	T_EQ_INT(spit(tpath("hs2.key"), "another-secret-entirely-9876543210"), 0);
	rc = sh(fmt("cd %s"
	    " && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null"
	    " && openssl pkey -in rsa.pem -pubout -out rsa.pub"
	    " && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2.pem 2>/dev/null"
	    " && openssl pkey -in rsa2.pem -pubout -out rsa2.pub"
	    " && for c in 256 384 521; do"
	    " openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-$c -out ec$c.pem"
	    " && openssl pkey -in ec$c.pem -pubout -out ec$c.pub || exit 1; done"
	    " && openssl genpkey -algorithm ED25519 -out ed.pem"
	    " && openssl pkey -in ed.pem -pubout -out ed.pub", tdir));
	T_EQ_INT(rc, 0);
	setup_ok = !t_failed_;
}
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

static void test_cleanup(void)
{
	T_EQ_INT(sh(fmt("rm -rf %s", tdir)), 0);
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
		T_RUN(test_exp);
		T_RUN(test_nbf_iat);
		T_RUN(test_iss_aud_sub);
		T_RUN(test_custom_claims);
	T_RUN(test_single_use_jti);
		T_RUN(test_duplicates);
		T_RUN(test_malformed);
		T_RUN(test_pem_kind);
	}
	T_RUN(test_cleanup);
	return T_EXIT();
}
