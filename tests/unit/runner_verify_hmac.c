/*
 * runner_verify_hmac.c — unit tests for runner/verify_hmac.c: every scheme's
 * success path with each secret of a rotation set, every negative path, the
 * published test vectors (GitHub docs, Standard Webhooks reference libraries),
 * and signatures produced at test time by the independent openssl CLI.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../../runner/verify_hmac.h"
#include "t.h"

/* ---- a small header source over name/value pairs ---- */

#define MAXH 8
struct hdrs {
	const char *name[MAXH];
	const char *value[MAXH];
	int n;
};

static const char *hdrs_get(void *ctx, const char *name)
{
	struct hdrs *h = ctx;
	int i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->name[i], name) == 0)
			return h->value[i];
	return NULL;
}

static void hset(struct hdrs *h, const char *name, const char *value)
{
	int i;

	for (i = 0; i < h->n; i++)
		if (strcasecmp(h->name[i], name) == 0) {
			h->value[i] = value;
			return;
		}
	if (h->n < MAXH) {
		h->name[h->n] = name;
		h->value[h->n++] = value;
	}
}

static struct hdr_src src(struct hdrs *h)
{
	struct hdr_src s = { hdrs_get, h };
	return s;
}

#define B(s) ((const unsigned char *)(s))

/* vhmac_verify folded into one number to assert on: 0 when verified, the
 * reason (> 0) of a refusal, which must come as -EACCES, or the negative
 * errno of an error, which must come with VHMAC_ERROR. -1000 when the return
 * and the reason disagree. */
static int verify(enum vhmac_scheme s, const struct vhmac_secret *secrets, size_t nsecrets,
    const unsigned char *body, size_t len, const struct hdr_src *h, int64_t now, int tol)
{
	enum vhmac_reason why = VHMAC_NREASONS;
	int rc = vhmac_verify(s, secrets, nsecrets, body, len, h, now, tol, &why);

	if (rc == 0)
		return why == VHMAC_OK ? 0 : -1000;
	if (rc == -EACCES)
		return why > VHMAC_OK && why < VHMAC_ERROR ? (int)why : -1000;
	return rc < 0 && why == VHMAC_ERROR ? rc : -1000;
}

/* Published vectors. */
#define GH_SECRET "It's a Secret to Everybody"
#define GH_BODY "Hello, World!"
#define GH_SIG "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
#define SW_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SW_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SW_TS 1614265330
#define SW_TS_S "1614265330"
#define SW_BODY "{\"test\": 2432232314}"
#define SW_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define SW_BADSIG "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="

/* A rotation set of three secrets for SCHEME. */
static int secrets3(enum vhmac_scheme s, struct vhmac_secret sec[3])
{
	static const char *plain[3] = { "new-secret", GH_SECRET, "old \"$ecret\" with 'quotes'" };
	static const char *whsec[3] = { "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==", SW_SECRET,
		"whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" };
	int i, rc = 0;

	memset(sec, 0, 3 * sizeof *sec);
	for (i = 0; i < 3 && rc == 0; i++)
		rc = vhmac_secret_from_string(s, s == VHMAC_STANDARD ? whsec[i] : plain[i], &sec[i]);
	return rc;
}

static void clear3(struct vhmac_secret sec[3])
{
	int i;

	for (i = 0; i < 3; i++)
		vhmac_secret_clear(&sec[i]);
}

/* ---- names, parsing ---- */

static void test_scheme_names(void)
{
	enum vhmac_scheme s = 0;

	T_EQ_INT(vhmac_scheme_parse("hookdeck", &s), 0);
	T_EQ_INT(s, VHMAC_HOOKDECK);
	T_EQ_INT(vhmac_scheme_parse("github", &s), 0);
	T_EQ_INT(s, VHMAC_GITHUB);
	T_EQ_INT(vhmac_scheme_parse("standard-webhooks", &s), 0);
	T_EQ_INT(s, VHMAC_STANDARD);
	T_EQ_INT(vhmac_scheme_parse("GitHub", &s), -EINVAL);
	T_EQ_INT(vhmac_scheme_parse("", &s), -EINVAL);
	T_EQ_INT(vhmac_scheme_parse(NULL, &s), -EINVAL);
	T_EQ_STR(vhmac_scheme_name(VHMAC_HOOKDECK), "hookdeck");
	T_EQ_STR(vhmac_scheme_name(VHMAC_GITHUB), "github");
	T_EQ_STR(vhmac_scheme_name(VHMAC_STANDARD), "standard-webhooks");
	T_EQ_STR(vhmac_header_name(VHMAC_HOOKDECK), "x-hookdeck-signature");
	T_EQ_STR(vhmac_header_name(VHMAC_GITHUB), "X-Hub-Signature-256");
	T_EQ_STR(vhmac_header_name(VHMAC_STANDARD), "webhook-signature");
	T_CHECK(vhmac_header_name((enum vhmac_scheme)99) == NULL);
}

static void test_reasons(void)
{
	T_EQ_STR(vhmac_reason_name(VHMAC_OK), "ok");
	T_EQ_STR(vhmac_reason_name(VHMAC_MISSING), "missing");
	T_EQ_STR(vhmac_reason_name(VHMAC_MALFORMED), "malformed");
	T_EQ_STR(vhmac_reason_name(VHMAC_MISMATCH), "mismatch");
	T_EQ_STR(vhmac_reason_name(VHMAC_STALE), "stale");
	T_EQ_STR(vhmac_reason_name(VHMAC_ERROR), "error");
	T_EQ_STR(vhmac_reason_name((enum vhmac_reason)-22), "error");
	T_EQ_STR(vhmac_reason_name(VHMAC_NREASONS), "error");
}

static void test_secret_from_string(void)
{
	struct vhmac_secret sec = { 0 };
	/* `printf %s MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | openssl base64 -d -A | od -An -tx1` */
	static const unsigned char want[24] = { 0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a,
		0xab, 0x4f, 0x08, 0xd4, 0x3c, 0x3f, 0x08, 0x2c, 0xf6, 0x48, 0xa3, 0x62, 0xda, 0x2d,
		0xa4, 0xb0 };
	char big[5000];

	T_EQ_INT(vhmac_secret_from_string(VHMAC_GITHUB, GH_SECRET, &sec), 0);
	T_EQ_INT(sec.len, strlen(GH_SECRET));
	T_CHECK(sec.key && memcmp(sec.key, GH_SECRET, sec.len) == 0);
	vhmac_secret_clear(&sec);
	T_CHECK(sec.key == NULL && sec.len == 0);
	vhmac_secret_clear(&sec); /* twice is harmless */

	/* whsec_: the true decoded length, not EVP_DecodeBlock's padded one */
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, SW_SECRET, &sec), 0);
	T_EQ_INT(sec.len, 24);
	T_CHECK(sec.key && memcmp(sec.key, want, 24) == 0);
	vhmac_secret_clear(&sec);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "whsec_YWJjZA==", &sec), 0);
	T_EQ_INT(sec.len, 4);
	T_CHECK(sec.key && memcmp(sec.key, "abcd", 4) == 0);
	vhmac_secret_clear(&sec);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "whsec_YWJjZGU=", &sec), 0);
	T_EQ_INT(sec.len, 5);
	vhmac_secret_clear(&sec);

	/* refused */
	T_EQ_INT(vhmac_secret_from_string(VHMAC_HOOKDECK, "", &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_GITHUB, "", &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "", &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_HOOKDECK, NULL, &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "whsec_", &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &sec),
	    -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &sec),
	    -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "whsec_not base64!!", &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", &sec),
	    -EINVAL); /* length not a multiple of 4 */
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "whsec_YW=jZA==", &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "whsec_====", &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "whsec_ YWJjZA==", &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "whsec_YWJjZA==\n", &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, "whsec_YWJj-A__", &sec), -EINVAL);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	T_EQ_INT(vhmac_secret_from_string(VHMAC_GITHUB, big, &sec), -EINVAL);
	T_EQ_INT(vhmac_secret_from_string((enum vhmac_scheme)0, "x", &sec), -EINVAL);
	T_CHECK(sec.key == NULL);
}

/* ---- published vectors ---- */

static void test_github_vector(void)
{
	struct vhmac_secret sec = { 0 };
	struct hdrs h = { 0 };
	struct hdr_src hs = src(&h);
	char out[128];

	T_EQ_INT(vhmac_secret_from_string(VHMAC_GITHUB, GH_SECRET, &sec), 0);
	T_EQ_INT(vhmac_sign(VHMAC_GITHUB, &sec, B(GH_BODY), strlen(GH_BODY), NULL, 0, out, sizeof out),
	    0);
	T_EQ_STR(out, GH_SIG);
	hset(&h, "x-hub-signature-256", GH_SIG);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, B(GH_BODY), strlen(GH_BODY), &hs, 0, 0), 0);
	/* upper-case hex accepted */
	hset(&h, "X-Hub-Signature-256",
	    "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17");
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, B(GH_BODY), strlen(GH_BODY), &hs, 0, 0), 0);
	/* GitHub's own tampered-body example */
	hset(&h, "X-Hub-Signature-256", GH_SIG);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, B("Hello, World?"), 13, &hs, 0, 0),
	    VHMAC_MISMATCH);
	vhmac_secret_clear(&sec);
}

static void test_standard_vector(void)
{
	struct vhmac_secret sec = { 0 };
	struct hdrs h = { 0 };
	struct hdr_src hs = src(&h);
	char out[128];

	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, SW_SECRET, &sec), 0);
	T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &sec, B(SW_BODY), strlen(SW_BODY), SW_ID, SW_TS, out,
	    sizeof out), 0);
	T_EQ_STR(out, SW_SIG);
	hset(&h, "webhook-id", SW_ID);
	hset(&h, "webhook-timestamp", SW_TS_S);
	hset(&h, "webhook-signature", SW_SIG);
	T_EQ_INT(verify(VHMAC_STANDARD, &sec, 1, B(SW_BODY), strlen(SW_BODY), &hs, SW_TS, 300),
	    0);
	/* the reference suite's "invalid signature is invalid" */
	hset(&h, "webhook-signature", SW_BADSIG);
	T_EQ_INT(verify(VHMAC_STANDARD, &sec, 1, B(SW_BODY), strlen(SW_BODY), &hs, SW_TS, 300),
	    VHMAC_MISMATCH);
	/* ... and "valid multi sig is valid": other versions ignored */
	hset(&h, "webhook-signature",
	    SW_BADSIG " v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= " SW_SIG " " SW_BADSIG);
	T_EQ_INT(verify(VHMAC_STANDARD, &sec, 1, B(SW_BODY), strlen(SW_BODY), &hs, SW_TS, 300),
	    0);
	vhmac_secret_clear(&sec);
}

/* ---- success with every secret of a rotation set ---- */

static void test_hookdeck_rotation(void)
{
	struct vhmac_secret sec[3];
	struct hdrs h = { 0 };
	struct hdr_src hs = src(&h);
	const char *body = "{\"event\":\"push\",\"n\":1}\n";
	char sig[3][64];
	int i;

	T_EQ_INT(secrets3(VHMAC_HOOKDECK, sec), 0);
	for (i = 0; i < 3; i++) {
		T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &sec[i], B(body), strlen(body), NULL, 0, sig[i],
		    sizeof sig[i]), 0);
		T_EQ_INT(strlen(sig[i]), 44);
	}
	for (i = 0; i < 3; i++) {
		h.n = 0;
		hset(&h, "X-Hookdeck-Signature", sig[i]);
		T_EQ_INT(verify(VHMAC_HOOKDECK, sec, 3, B(body), strlen(body), &hs, 0, 0), 0);
		/* only the rotation header */
		h.n = 0;
		hset(&h, "x-hookdeck-signature-2", sig[i]);
		T_EQ_INT(verify(VHMAC_HOOKDECK, sec, 3, B(body), strlen(body), &hs, 0, 0), 0);
		/* a wrong primary and the right rotation signature */
		hset(&h, "x-hookdeck-signature", sig[(i + 1) % 3]);
		T_EQ_INT(verify(VHMAC_HOOKDECK, &sec[i], 1, B(body), strlen(body), &hs, 0, 0), 0);
		/* and the other way round */
		hset(&h, "x-hookdeck-signature", sig[i]);
		hset(&h, "x-hookdeck-signature-2", sig[(i + 1) % 3]);
		T_EQ_INT(verify(VHMAC_HOOKDECK, &sec[i], 1, B(body), strlen(body), &hs, 0, 0), 0);
		/* a malformed one next to a good one still verifies */
		hset(&h, "x-hookdeck-signature-2", "garbage");
		T_EQ_INT(verify(VHMAC_HOOKDECK, &sec[i], 1, B(body), strlen(body), &hs, 0, 0), 0);
	}
	/* the secret that signed is not configured */
	h.n = 0;
	hset(&h, "x-hookdeck-signature", sig[0]);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec[1], 2, B(body), strlen(body), &hs, 0, 0),
	    VHMAC_MISMATCH);
	T_EQ_INT(verify(VHMAC_HOOKDECK, sec, 0, B(body), strlen(body), &hs, 0, 0),
	    VHMAC_MISMATCH);
	clear3(sec);
}

static void test_github_rotation(void)
{
	struct vhmac_secret sec[3];
	struct hdrs h = { 0 };
	struct hdr_src hs = src(&h);
	const unsigned char body[] = { 'a', 0, 'b', '\n', 0xff, '"' };
	char sig[128];
	int i;

	T_EQ_INT(secrets3(VHMAC_GITHUB, sec), 0);
	for (i = 0; i < 3; i++) {
		T_EQ_INT(vhmac_sign(VHMAC_GITHUB, &sec[i], body, sizeof body, NULL, 0, sig, sizeof sig), 0);
		T_EQ_INT(strlen(sig), 71);
		hset(&h, "x-hub-signature-256", sig);
		T_EQ_INT(verify(VHMAC_GITHUB, sec, 3, body, sizeof body, &hs, 0, 0), 0);
		T_EQ_INT(verify(VHMAC_GITHUB, &sec[i], 1, body, sizeof body, &hs, 0, 0), 0);
		T_EQ_INT(verify(VHMAC_GITHUB, &sec[(i + 1) % 3], 1, body, sizeof body, &hs, 0, 0),
		    VHMAC_MISMATCH);
	}
	clear3(sec);
}

static void test_standard_rotation(void)
{
	struct vhmac_secret sec[3];
	struct hdrs h = { 0 };
	struct hdr_src hs = src(&h);
	const char *body = "{\"type\":\"contact.created\"}";
	char sig[3][64], list[256];
	int64_t now = 1700000000;
	int i;

	T_EQ_INT(secrets3(VHMAC_STANDARD, sec), 0);
	for (i = 0; i < 3; i++)
		T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &sec[i], B(body), strlen(body), "msg_1", now, sig[i],
		    sizeof sig[i]), 0);
	hset(&h, "webhook-id", "msg_1");
	hset(&h, "webhook-timestamp", "1700000000");
	for (i = 0; i < 3; i++) {
		hset(&h, "webhook-signature", sig[i]);
		T_EQ_INT(verify(VHMAC_STANDARD, sec, 3, B(body), strlen(body), &hs, now, 300), 0);
		T_EQ_INT(verify(VHMAC_STANDARD, &sec[(i + 1) % 3], 1, B(body), strlen(body), &hs,
		    now, 300), VHMAC_MISMATCH);
	}
	/* the sender's rotation: both signatures in one header, extra spaces */
	snprintf(list, sizeof list, "  %s   %s ", sig[0], sig[2]);
	hset(&h, "webhook-signature", list);
	for (i = 0; i < 3; i += 2)
		T_EQ_INT(verify(VHMAC_STANDARD, &sec[i], 1, B(body), strlen(body), &hs, now, 300), 0);
	T_EQ_INT(verify(VHMAC_STANDARD, &sec[1], 1, B(body), strlen(body), &hs, now, 300),
	    VHMAC_MISMATCH);
	clear3(sec);
}

/* ---- negative paths ---- */

static void test_hookdeck_negative(void)
{
	struct vhmac_secret sec = { 0 };
	struct hdrs h = { 0 };
	struct hdr_src hs = src(&h);
	const char *body = "payload";
	char sig[64], t[128], big[5000];

	T_EQ_INT(vhmac_secret_from_string(VHMAC_HOOKDECK, "s3cret", &sec), 0);
	T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &sec, B(body), 7, NULL, 0, sig, sizeof sig), 0);

	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MISSING);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, NULL, 0, 0), VHMAC_MISSING);
	/* other schemes' headers do not count */
	hset(&h, "X-Hub-Signature-256", GH_SIG);
	hset(&h, "webhook-signature", sig);
	hset(&h, "x-hookdeck-signature-3", sig);
	hset(&h, "x-hookdeck-signature-1", sig);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MISSING);
	h.n = 0;

	hset(&h, "x-hookdeck-signature", sig);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), 0);
	/* body changed by one byte, shorter, longer */
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B("paylaad"), 7, &hs, 0, 0), VHMAC_MISMATCH);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 6, &hs, 0, 0), VHMAC_MISMATCH);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B("payload!"), 8, &hs, 0, 0), VHMAC_MISMATCH);
	/* empty */
	hset(&h, "x-hookdeck-signature", "");
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MALFORMED);
	/* truncated */
	snprintf(t, sizeof t, "%.40s", sig);
	hset(&h, "x-hookdeck-signature", t);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MALFORMED);
	/* padding removed */
	snprintf(t, sizeof t, "%.43s", sig);
	hset(&h, "x-hookdeck-signature", t);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MALFORMED);
	/* not base64 */
	snprintf(t, sizeof t, "%s", sig);
	t[5] = '*';
	hset(&h, "x-hookdeck-signature", t);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MALFORMED);
	/* whitespace around it */
	snprintf(t, sizeof t, " %s", sig);
	hset(&h, "x-hookdeck-signature", t);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MALFORMED);
	/* hex instead of base64 */
	hset(&h, "x-hookdeck-signature", GH_SIG + 7);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MALFORMED);
	/* base64 of the wrong length (48 bytes) */
	hset(&h, "x-hookdeck-signature",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MALFORMED);
	/* too long */
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	hset(&h, "x-hookdeck-signature", big);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MALFORMED);
	/* wrong but well-formed: one bit flipped */
	snprintf(t, sizeof t, "%s", sig);
	t[0] = t[0] == 'A' ? 'B' : 'A';
	hset(&h, "x-hookdeck-signature", t);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MISMATCH);
	/* one malformed, one wrong: mismatch */
	hset(&h, "x-hookdeck-signature-2", "!!");
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MISMATCH);
	/* both malformed */
	hset(&h, "x-hookdeck-signature", "");
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, B(body), 7, &hs, 0, 0), VHMAC_MALFORMED);
	/* an empty secret in the set never matches, a refused one never loads */
	{
		struct vhmac_secret empty[2] = { { NULL, 0 }, { (unsigned char *)"", 0 } };
		hset(&h, "x-hookdeck-signature", sig);
		T_EQ_INT(verify(VHMAC_HOOKDECK, empty, 2, B(body), 7, &hs, 0, 0), VHMAC_MISMATCH);
	}
	/* caller errors */
	T_EQ_INT(verify(VHMAC_HOOKDECK, NULL, 1, B(body), 7, &hs, 0, 0), -EINVAL);
	T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, NULL, 7, &hs, 0, 0), -EINVAL);
	T_EQ_INT(verify((enum vhmac_scheme)0, &sec, 1, B(body), 7, &hs, 0, 0), -EINVAL);
	vhmac_secret_clear(&sec);
}

static void test_github_negative(void)
{
	struct vhmac_secret sec = { 0 };
	struct hdrs h = { 0 };
	struct hdr_src hs = src(&h);
	char t[128], big[5000];
	const unsigned char *b = B(GH_BODY);
	size_t n = strlen(GH_BODY);

	T_EQ_INT(vhmac_secret_from_string(VHMAC_GITHUB, GH_SECRET, &sec), 0);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MISSING);
	/* the SHA-1 header and other schemes' headers do not count */
	hset(&h, "X-Hub-Signature", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59");
	hset(&h, "x-hookdeck-signature", "dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=");
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MISSING);
	h.n = 0;
	hset(&h, "X-Hub-Signature-256", "");
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	/* wrong prefixes */
	hset(&h, "X-Hub-Signature-256", GH_SIG + 7);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	snprintf(t, sizeof t, "SHA256=%s", GH_SIG + 7);
	hset(&h, "X-Hub-Signature-256", t);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	snprintf(t, sizeof t, "sha1=%s", GH_SIG + 7);
	hset(&h, "X-Hub-Signature-256", t);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	snprintf(t, sizeof t, "sha256:%s", GH_SIG + 7);
	hset(&h, "X-Hub-Signature-256", t);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	/* truncated, one digit short, one digit long, trailing space */
	snprintf(t, sizeof t, "%.40s", GH_SIG);
	hset(&h, "X-Hub-Signature-256", t);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	snprintf(t, sizeof t, "%.70s", GH_SIG);
	hset(&h, "X-Hub-Signature-256", t);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	snprintf(t, sizeof t, "%s0", GH_SIG);
	hset(&h, "X-Hub-Signature-256", t);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	snprintf(t, sizeof t, "%s ", GH_SIG);
	hset(&h, "X-Hub-Signature-256", t);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	/* non-hex digit */
	snprintf(t, sizeof t, "%s", GH_SIG);
	t[20] = 'g';
	hset(&h, "X-Hub-Signature-256", t);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	/* base64 instead of hex */
	hset(&h, "X-Hub-Signature-256", "sha256=dXEH6g6yUJ/CESIczphLijdXC211hsIsRvQ3nIsEPhc=");
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	/* too long */
	memcpy(big, "sha256=", 7);
	memset(big + 7, 'a', sizeof big - 8);
	big[sizeof big - 1] = '\0';
	hset(&h, "X-Hub-Signature-256", big);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MALFORMED);
	/* well-formed but wrong: last digit changed */
	snprintf(t, sizeof t, "%s", GH_SIG);
	t[70] = '8';
	hset(&h, "X-Hub-Signature-256", t);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n, &hs, 0, 0), VHMAC_MISMATCH);
	/* body changed by one byte */
	hset(&h, "X-Hub-Signature-256", GH_SIG);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, B("Hello, World."), n, &hs, 0, 0),
	    VHMAC_MISMATCH);
	T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, b, n - 1, &hs, 0, 0), VHMAC_MISMATCH);
	vhmac_secret_clear(&sec);
}

static void std_headers(struct hdrs *h, const char *id, const char *ts, const char *sig)
{
	h->n = 0;
	if (id)
		hset(h, "webhook-id", id);
	if (ts)
		hset(h, "webhook-timestamp", ts);
	if (sig)
		hset(h, "webhook-signature", sig);
}

static void test_standard_negative(void)
{
	struct vhmac_secret sec = { 0 };
	struct hdrs h = { 0 };
	struct hdr_src hs = src(&h);
	const unsigned char *b = B(SW_BODY);
	size_t n = strlen(SW_BODY);
	char t[512], big[5000], id[300];
	int64_t now = SW_TS;
	int i;

	T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, SW_SECRET, &sec), 0);
#define V(nw, tol) verify(VHMAC_STANDARD, &sec, 1, b, n, &hs, (nw), (tol))
	std_headers(&h, SW_ID, SW_TS_S, SW_SIG);
	T_EQ_INT(V(now, 300), 0);
	/* missing any of the three */
	std_headers(&h, NULL, SW_TS_S, SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MISSING);
	std_headers(&h, SW_ID, NULL, SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MISSING);
	std_headers(&h, SW_ID, SW_TS_S, NULL);
	T_EQ_INT(V(now, 300), VHMAC_MISSING);
	/* other schemes' headers (and Svix's svix-* names) do not count */
	std_headers(&h, NULL, NULL, NULL);
	hset(&h, "x-hookdeck-signature", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	hset(&h, "svix-id", SW_ID);
	hset(&h, "svix-timestamp", SW_TS_S);
	hset(&h, "svix-signature", SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MISSING);

	/* timestamp tolerance, both directions, boundaries inclusive */
	std_headers(&h, SW_ID, SW_TS_S, SW_SIG);
	T_EQ_INT(V(now + 300, 300), 0);
	T_EQ_INT(V(now - 300, 300), 0);
	T_EQ_INT(V(now + 301, 300), VHMAC_STALE); /* stale */
	T_EQ_INT(V(now - 301, 300), VHMAC_STALE); /* from the future */
	T_EQ_INT(V(now + 1, 0), VHMAC_STALE);
	T_EQ_INT(V(now, 0), 0);
	T_EQ_INT(V(now, -5), 0);
	T_EQ_INT(V(now + 1, -5), VHMAC_STALE);
	T_EQ_INT(V(INT64_MIN, 300), VHMAC_STALE);
	T_EQ_INT(V(INT64_MAX, 300), VHMAC_STALE);
	/* a stale request with a wrong signature is stale, not a signing oracle */
	std_headers(&h, SW_ID, SW_TS_S, SW_BADSIG);
	T_EQ_INT(V(now + 1000, 300), VHMAC_STALE);
	/* the timestamp is signed: changing it breaks the signature */
	std_headers(&h, SW_ID, "1614265331", SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MISMATCH);
	std_headers(&h, SW_ID, "01614265330", SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MISMATCH);
	/* so is the id */
	std_headers(&h, "msg_p5jXN8AQM9LWM0D4loKWxJeK", SW_TS_S, SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MISMATCH);
	/* body changed by one byte */
	std_headers(&h, SW_ID, SW_TS_S, SW_SIG);
	T_EQ_INT(verify(VHMAC_STANDARD, &sec, 1, B("{\"test\": 2432232315}"), n, &hs, now, 300),
	    VHMAC_MISMATCH);

	/* timestamps that are not plain decimal digits */
	{
		static const char *bad_ts[] = { "", " 1614265330", "1614265330 ", "+1614265330",
			"-1614265330", "1614265330.5", "0x60386ef2", "1.6e9", "16142653３0",
			"99999999999999999999", "9223372036854775808", "12345678901234567890" };
		for (i = 0; i < (int)(sizeof bad_ts / sizeof *bad_ts); i++) {
			std_headers(&h, SW_ID, bad_ts[i], SW_SIG);
			T_EQ_INT(V(now, 300), VHMAC_MALFORMED);
		}
	}
	/* the largest int64 parses (and is stale) */
	std_headers(&h, SW_ID, "9223372036854775807", SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_STALE);
	/* ids: empty, spaces, control bytes, too long */
	std_headers(&h, "", SW_TS_S, SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MALFORMED);
	std_headers(&h, "msg 1", SW_TS_S, SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MALFORMED);
	std_headers(&h, "msg\n1", SW_TS_S, SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MALFORMED);
	memset(id, 'a', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	std_headers(&h, id, SW_TS_S, SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MALFORMED);
	id[255] = '\0';
	T_EQ_INT(V(now, 300), VHMAC_MISMATCH); /* 255 is the cap, still accepted */

	/* signature lists */
	{
		static const struct {
			const char *sig;
			int want;
		} cases[] = {
			{ "", VHMAC_MALFORMED },
			{ "   ", VHMAC_MALFORMED },
			{ "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", VHMAC_MALFORMED },
			{ "v1", VHMAC_MALFORMED },
			{ "v1,", VHMAC_MALFORMED },
			{ ",g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", VHMAC_MALFORMED },
			{ "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", VHMAC_MALFORMED },
			{ "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ", VHMAC_MALFORMED },
			{ "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=A", VHMAC_MALFORMED },
			{ "v1,g0hM9SsE-OTPJTGt_tmIKtSyZlE3uFJELVlNIOLJ1OE=", VHMAC_MALFORMED },
			{ "v1=g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", VHMAC_MALFORMED },
			{ "V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", VHMAC_MISMATCH },
			{ "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", VHMAC_MISMATCH },
			{ "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", VHMAC_MISMATCH },
			{ "v1,!!!", VHMAC_MALFORMED },
			{ "v1,!!! " SW_BADSIG, VHMAC_MISMATCH },
			{ "v1,!!! " SW_SIG, 0 },
			{ "junk " SW_SIG, 0 },
			{ SW_SIG "\t", VHMAC_MALFORMED },
			{ SW_SIG ",", VHMAC_MALFORMED },
			{ "v1," SW_SIG, VHMAC_MALFORMED },
		};
		for (i = 0; i < (int)(sizeof cases / sizeof *cases); i++) {
			std_headers(&h, SW_ID, SW_TS_S, cases[i].sig);
			T_EQ_INT(V(now, 300), cases[i].want);
		}
	}
	/* truncated by one character and by half */
	snprintf(t, sizeof t, "%.*s", (int)strlen(SW_SIG) - 1, SW_SIG);
	std_headers(&h, SW_ID, SW_TS_S, t);
	T_EQ_INT(V(now, 300), VHMAC_MALFORMED);
	snprintf(t, sizeof t, "%.20s", SW_SIG);
	T_EQ_INT(V(now, 300), VHMAC_MALFORMED);
	/* too many entries (the valid one comes too late) */
	t[0] = '\0';
	for (i = 0; i < 40; i++)
		strcat(t, "v9,x ");
	strcat(t, SW_SIG);
	std_headers(&h, SW_ID, SW_TS_S, t);
	T_EQ_INT(V(now, 300), VHMAC_MALFORMED);
	/* too long */
	memset(big, ' ', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big + sizeof big - 1 - strlen(SW_SIG), SW_SIG, strlen(SW_SIG));
	std_headers(&h, SW_ID, SW_TS_S, big);
	T_EQ_INT(V(now, 300), VHMAC_MALFORMED);
	/* a raw (non-whsec) key with the same characters does not verify */
	{
		struct vhmac_secret raw = { 0 };
		T_EQ_INT(vhmac_secret_from_string(VHMAC_GITHUB, SW_SECRET, &raw), 0);
		std_headers(&h, SW_ID, SW_TS_S, SW_SIG);
		T_EQ_INT(verify(VHMAC_STANDARD, &raw, 1, b, n, &hs, now, 300), VHMAC_MISMATCH);
		vhmac_secret_clear(&raw);
	}
#undef V
	vhmac_secret_clear(&sec);
}

/* ---- vhmac_sign ---- */

static void test_sign(void)
{
	struct vhmac_secret sec = { 0 }, empty = { NULL, 0 };
	struct hdrs h = { 0 };
	struct hdr_src hs = src(&h);
	char out[128];
	static const size_t lens[] = { 0, 1, 55, 56, 63, 64, 65, 1000, 70000 };
	unsigned char *body = malloc(70000);
	size_t i;

	T_CHECK(body != NULL);
	if (!body)
		return;
	for (i = 0; i < 70000; i++)
		body[i] = (unsigned char)(i * 131 + 7);
	T_EQ_INT(vhmac_secret_from_string(VHMAC_GITHUB, "k", &sec), 0);
	/* round-trips over bodies of many lengths, including empty and NUL bytes */
	for (i = 0; i < sizeof lens / sizeof *lens; i++) {
		h.n = 0;
		T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &sec, body, lens[i], NULL, 0, out, sizeof out), 0);
		hset(&h, "x-hookdeck-signature", out);
		T_EQ_INT(verify(VHMAC_HOOKDECK, &sec, 1, body, lens[i], &hs, 0, 0), 0);
		h.n = 0;
		T_EQ_INT(vhmac_sign(VHMAC_GITHUB, &sec, body, lens[i], NULL, 0, out, sizeof out), 0);
		hset(&h, "X-Hub-Signature-256", out);
		T_EQ_INT(verify(VHMAC_GITHUB, &sec, 1, body, lens[i], &hs, 0, 0), 0);
		T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &sec, body, lens[i], "id-1", 42, out, sizeof out), 0);
		std_headers(&h, "id-1", "42", out);
		T_EQ_INT(verify(VHMAC_STANDARD, &sec, 1, body, lens[i], &hs, 42, 0), 0);
	}
	T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &sec, NULL, 0, NULL, 0, out, sizeof out), 0);
	T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &sec, NULL, 0, "x", 0, out, sizeof out), 0);
	T_CHECK(strncmp(out, "v1,", 3) == 0 && strlen(out) == 47);

	/* exact sizes and -ENOSPC */
	T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &sec, body, 3, NULL, 0, out, 45), 0);
	T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &sec, body, 3, NULL, 0, out, 44), -ENOSPC);
	T_EQ_STR(out, "");
	T_EQ_INT(vhmac_sign(VHMAC_GITHUB, &sec, body, 3, NULL, 0, out, 72), 0);
	T_EQ_INT(vhmac_sign(VHMAC_GITHUB, &sec, body, 3, NULL, 0, out, 71), -ENOSPC);
	T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &sec, body, 3, "a", 1, out, 48), 0);
	T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &sec, body, 3, "a", 1, out, 47), -ENOSPC);
	T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &sec, body, 3, NULL, 0, out, 0), -ENOSPC);

	/* -EINVAL */
	T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, NULL, body, 3, NULL, 0, out, sizeof out), -EINVAL);
	T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &empty, body, 3, NULL, 0, out, sizeof out), -EINVAL);
	T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &sec, NULL, 3, NULL, 0, out, sizeof out), -EINVAL);
	T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &sec, body, 3, NULL, 0, NULL, 10), -EINVAL);
	T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &sec, body, 3, NULL, 1, out, sizeof out), -EINVAL);
	T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &sec, body, 3, "", 1, out, sizeof out), -EINVAL);
	T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &sec, body, 3, "a b", 1, out, sizeof out), -EINVAL);
	T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &sec, body, 3, "a", -1, out, sizeof out), -EINVAL);
	T_EQ_INT(vhmac_sign((enum vhmac_scheme)7, &sec, body, 3, NULL, 0, out, sizeof out), -EINVAL);
	vhmac_secret_clear(&sec);
	free(body);
}

/* ---- signatures made by the openssl CLI at test time ---- */

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (!f)
		return -1;
	ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Run CMD (built only from temp-file paths), read one line of output. */
static int run_line(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	size_t n;
	int st;

	if (!p)
		return -1;
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return st == 0 && n ? 0 : -1;
}

/* HMAC-SHA256 by the openssl CLI. KEYFILE holds the key bytes (or, when
 * KEY_IS_B64, their base64); MSGFILE the signed bytes. HEX picks lower-case
 * hex output, else base64. */
static int openssl_hmac(const char *keyfile, int key_is_b64, const char *msgfile, int hex, char *out,
    size_t outlen)
{
	char cmd[1024];

	snprintf(cmd, sizeof cmd,
	    "K=$(%s%s | od -An -v -tx1 | tr -d ' \\n') && "
	    "openssl dgst -sha256 -mac HMAC -macopt \"hexkey:$K\" -binary < %s | %s",
	    key_is_b64 ? "openssl base64 -d -A -in " : "cat ", keyfile, msgfile,
	    hex ? "od -An -v -tx1 | tr -d ' \\n'" : "openssl base64 -A");
	return run_line(cmd, out, outlen);
}

static void test_openssl_cli(void)
{
	char dir[] = "/tmp/vhmac-test-XXXXXX";
	char keyf[64], msgf[64], b64f[64], want[160], got[128], tmp[128];
	static const size_t lens[] = { 0, 1, 13, 64, 257, 4096 };
	static const char *plain[2] = { "it's \"a\" $ecret `x` \\ %s;|&", "other-secret" };
	static const char *whsec[2] = { "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==" };
	unsigned char body[4096], *msg = NULL;
	struct vhmac_secret sec[2] = { { 0 }, { 0 } }, std[2] = { { 0 }, { 0 } };
	struct hdrs h = { 0 };
	struct hdr_src hs = src(&h);
	int64_t now = (int64_t)time(NULL);
	size_t i, j, mlen;
	char tsbuf[32];
	int checked = 0;
	FILE *f;

	T_CHECK(mkdtemp(dir) != NULL);
	snprintf(keyf, sizeof keyf, "%s/key", dir);
	snprintf(msgf, sizeof msgf, "%s/msg", dir);
	snprintf(b64f, sizeof b64f, "%s/keyb64", dir);
	f = fopen("/dev/urandom", "rb");
	T_CHECK(f && fread(body, 1, sizeof body, f) == sizeof body);
	if (f)
		fclose(f);
	T_CHECK((msg = malloc(sizeof body + 64)) != NULL);
	snprintf(tsbuf, sizeof tsbuf, "%lld", (long long)now);
	for (j = 0; j < 2; j++) {
		T_EQ_INT(vhmac_secret_from_string(VHMAC_HOOKDECK, plain[j], &sec[j]), 0);
		T_EQ_INT(vhmac_secret_from_string(VHMAC_STANDARD, whsec[j], &std[j]), 0);
	}
	for (i = 0; msg && i < sizeof lens / sizeof *lens; i++) {
		for (j = 0; j < 2; j++) {
			/* hookdeck: base64 */
			T_EQ_INT(write_file(keyf, plain[j], strlen(plain[j])), 0);
			T_EQ_INT(write_file(msgf, body, lens[i]), 0);
			T_EQ_INT(openssl_hmac(keyf, 0, msgf, 0, want, sizeof want), 0);
			T_EQ_INT(vhmac_sign(VHMAC_HOOKDECK, &sec[j], body, lens[i], NULL, 0, got, sizeof got),
			    0);
			T_EQ_STR(got, want);
			h.n = 0;
			hset(&h, j ? "x-hookdeck-signature-2" : "x-hookdeck-signature", want);
			T_EQ_INT(verify(VHMAC_HOOKDECK, sec, 2, body, lens[i], &hs, 0, 0), 0);
			if (lens[i]) {
				body[0] ^= 1;
				T_EQ_INT(verify(VHMAC_HOOKDECK, sec, 2, body, lens[i], &hs, 0, 0),
				    VHMAC_MISMATCH);
				body[0] ^= 1;
			}

			/* github: "sha256=" + hex, upper-case accepted too */
			T_EQ_INT(openssl_hmac(keyf, 0, msgf, 1, tmp, sizeof tmp), 0);
			snprintf(want, sizeof want, "sha256=%s", tmp);
			T_EQ_INT(vhmac_sign(VHMAC_GITHUB, &sec[j], body, lens[i], NULL, 0, got, sizeof got), 0);
			T_EQ_STR(got, want);
			h.n = 0;
			hset(&h, "X-Hub-Signature-256", want);
			T_EQ_INT(verify(VHMAC_GITHUB, sec, 2, body, lens[i], &hs, 0, 0), 0);
			for (mlen = 7; want[mlen]; mlen++)
				if (want[mlen] >= 'a' && want[mlen] <= 'f')
					want[mlen] = (char)(want[mlen] - 'a' + 'A');
			T_EQ_INT(verify(VHMAC_GITHUB, sec, 2, body, lens[i], &hs, 0, 0), 0);

			/* standard webhooks: key from whsec_ base64, content id.ts.body */
			T_EQ_INT(write_file(b64f, whsec[j] + 6, strlen(whsec[j] + 6)), 0);
			mlen = (size_t)snprintf((char *)msg, 64, "msg_%zu.%s.", i, tsbuf);
			memcpy(msg + mlen, body, lens[i]);
			T_EQ_INT(write_file(msgf, msg, mlen + lens[i]), 0);
			T_EQ_INT(openssl_hmac(b64f, 1, msgf, 0, tmp, sizeof tmp), 0);
			snprintf(want, sizeof want, "v1,%s", tmp);
			snprintf(tmp, sizeof tmp, "msg_%zu", i);
			T_EQ_INT(vhmac_sign(VHMAC_STANDARD, &std[j], body, lens[i], tmp, now, got, sizeof got),
			    0);
			T_EQ_STR(got, want);
			std_headers(&h, tmp, tsbuf, want);
			T_EQ_INT(verify(VHMAC_STANDARD, std, 2, body, lens[i], &hs, now, 300), 0);
			T_EQ_INT(verify(VHMAC_STANDARD, std, 2, body, lens[i], &hs, now + 301, 300),
			    VHMAC_STALE);
			T_EQ_INT(verify(VHMAC_STANDARD, &std[1 - j], 1, body, lens[i], &hs, now, 300),
			    VHMAC_MISMATCH);
			checked++;
		}
	}
	/* the published GitHub vector, by the CLI as well */
	T_EQ_INT(write_file(keyf, GH_SECRET, strlen(GH_SECRET)), 0);
	T_EQ_INT(write_file(msgf, GH_BODY, strlen(GH_BODY)), 0);
	T_EQ_INT(openssl_hmac(keyf, 0, msgf, 1, tmp, sizeof tmp), 0);
	T_EQ_STR(tmp, GH_SIG + 7);
	T_EQ_INT(checked, 12);

	for (j = 0; j < 2; j++) {
		vhmac_secret_clear(&sec[j]);
		vhmac_secret_clear(&std[j]);
	}
	free(msg);
	unlink(keyf);
	unlink(msgf);
	unlink(b64f);
	rmdir(dir);
}

int main(void)
{
	T_RUN(test_scheme_names);
	T_RUN(test_reasons);
	T_RUN(test_secret_from_string);
	T_RUN(test_github_vector);
	T_RUN(test_standard_vector);
	T_RUN(test_hookdeck_rotation);
	T_RUN(test_github_rotation);
	T_RUN(test_standard_rotation);
	T_RUN(test_hookdeck_negative);
	T_RUN(test_github_negative);
	T_RUN(test_standard_negative);
	T_RUN(test_sign);
	T_RUN(test_openssl_cli);
	return T_EXIT();
}
