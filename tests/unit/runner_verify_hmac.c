/*
 * runner_verify_hmac.c — unit tests for runner/verify_hmac.c: every scheme's
 * success path with each secret of a rotation set, the published test
 * vectors (GitHub docs, Standard Webhooks reference libraries), and
 * signatures produced at test time by the independent openssl CLI. The
 * negative paths are in runner_verify_hmac_negative.c, fixtures in
 * vhmactest.h.
 */
#include "vhmactest.h"

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

/* ---- vhmac_sign ---- */

static void test_sign(void)
{
	struct vhmac_secret sec = { 0 }, empty = { NULL, 0, NULL };
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
	T_RUN(test_sign);
	T_RUN(test_openssl_cli);
	return T_EXIT();
}
