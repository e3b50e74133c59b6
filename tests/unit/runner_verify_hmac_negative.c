/*
 * runner_verify_hmac_negative.c — unit tests for runner/verify_hmac.c: every
 * negative path of each scheme (missing, malformed, stale or mismatched
 * signatures and headers). Fixtures in vhmactest.h.
 */
#include "vhmactest.h"

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
		struct vhmac_secret empty[2] = { { NULL, 0, NULL }, { (unsigned char *)"", 0, NULL } };
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

int main(void)
{
	T_RUN(test_hookdeck_negative);
	T_RUN(test_github_negative);
	T_RUN(test_standard_negative);
	return T_EXIT();
}
