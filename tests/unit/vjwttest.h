/*
 * vjwttest.h — fixtures shared by the tests/unit/runner_verify_jwt*.c
 * programs: a mkdtemp directory with throwaway HMAC, RSA, EC and Ed25519
 * keys made by the openssl CLI (test_setup, removed by test_cleanup), tokens
 * from an independent implementation (PyJWT, and Python's hmac for
 * hand-shaped payloads; inputs through files and environment variables,
 * never the shell line), and policy and verification shorthands.
 * Header-only, like t.h.
 */
#ifndef VJWTTEST_H
#define VJWTTEST_H
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

/* verify TOKEN (may be NULL: counts as a harness failure) against P */
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

static void test_cleanup(void)
{
	T_EQ_INT(sh(fmt("rm -rf %s", tdir)), 0);
}

/* Run fixture FN (test_setup, test_cleanup) in a program other than
 * runner_verify_jwt, which reports it as a test: silent when it passes, so
 * each test is counted once; a FAIL line when it does not. */
#define VJWT_FIXTURE(fn) do { t_failed_ = 0; t_why_[0] = 0; fn(); if (t_failed_) { \
	printf("FAIL %s: %s\n", #fn, t_why_); t_any_failed_ = 1; } fflush(stdout); } while (0)
#endif
