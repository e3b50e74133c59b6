/*
 * runner_slack_sig.c — unit tests for runner/slack_sig.c: Slack's own
 * documented example (secret, timestamp, body and signature as Slack's
 * "Verifying requests from Slack" page gives them), the five-minute window
 * in both directions, and every refusal with its reason.
 */
#include <errno.h>
#include <string.h>

#include "t.h"
#include "../../runner/slack_sig.h"

static const unsigned char doc_secret[] = "8f742231b10e8888abcd99yyyzzz85a5";
#define DOC_TS 1531420618
static const char doc_body[] =
	"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
	"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
	"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
	"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
	"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
static const char doc_sig[] = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

static int verify(const char *ts, const char *sig, const char *body, long long now,
    enum slacksig_reason *why)
{
	return slacksig_verify(doc_secret, sizeof doc_secret - 1, ts, sig,
	    (const unsigned char *)body, strlen(body), now, why);
}

static void slacksig_doc_vector_signs(void)
{
	char out[SLACKSIG_LEN + 1];

	T_EQ_INT(slacksig_sign(doc_secret, sizeof doc_secret - 1, DOC_TS,
	    (const unsigned char *)doc_body, strlen(doc_body), out, sizeof out), 0);
	T_EQ_STR(out, doc_sig);
	T_EQ_INT(slacksig_sign(doc_secret, sizeof doc_secret - 1, DOC_TS,
	    (const unsigned char *)doc_body, strlen(doc_body), out, SLACKSIG_LEN), -ENOSPC);
}

static void slacksig_doc_vector_verifies(void)
{
	enum slacksig_reason why = SLACKSIG_ERROR;

	T_EQ_INT(verify("1531420618", doc_sig, doc_body, DOC_TS, &why), 0);
	T_EQ_INT(why, SLACKSIG_OK);
}

static void slacksig_uppercase_hex_verifies(void)
{
	char up[sizeof doc_sig];
	enum slacksig_reason why = SLACKSIG_ERROR;
	size_t i;

	memcpy(up, doc_sig, sizeof doc_sig);
	for (i = 3; up[i]; i++)
		if (up[i] >= 'a' && up[i] <= 'f')
			up[i] = (char)(up[i] - 'a' + 'A');
	T_EQ_INT(verify("1531420618", up, doc_body, DOC_TS, &why), 0);
	T_EQ_INT(why, SLACKSIG_OK);
}

static void slacksig_window_edges(void)
{
	enum slacksig_reason why = SLACKSIG_ERROR;

	T_EQ_INT(verify("1531420618", doc_sig, doc_body, DOC_TS + 300, &why), 0);
	T_EQ_INT(verify("1531420618", doc_sig, doc_body, DOC_TS - 300, &why), 0);
	T_EQ_INT(verify("1531420618", doc_sig, doc_body, DOC_TS + 301, &why), -EACCES);
	T_EQ_INT(why, SLACKSIG_STALE);
	why = SLACKSIG_OK;
	T_EQ_INT(verify("1531420618", doc_sig, doc_body, DOC_TS - 301, &why), -EACCES);
	T_EQ_INT(why, SLACKSIG_STALE); /* from the future */
}

static void slacksig_body_changed_mismatch(void)
{
	char body[sizeof doc_body];
	enum slacksig_reason why = SLACKSIG_OK;

	memcpy(body, doc_body, sizeof body);
	body[6] ^= 1;
	T_EQ_INT(verify("1531420618", doc_sig, body, DOC_TS, &why), -EACCES);
	T_EQ_INT(why, SLACKSIG_MISMATCH);
	why = SLACKSIG_OK; /* the timestamp is signed too */
	T_EQ_INT(verify("1531420619", doc_sig, doc_body, DOC_TS, &why), -EACCES);
	T_EQ_INT(why, SLACKSIG_MISMATCH);
	why = SLACKSIG_OK;
	T_EQ_INT(slacksig_verify((const unsigned char *)"other", 5, "1531420618", doc_sig,
	    (const unsigned char *)doc_body, strlen(doc_body), DOC_TS, &why), -EACCES);
	T_EQ_INT(why, SLACKSIG_MISMATCH);
}

static void slacksig_missing_headers(void)
{
	enum slacksig_reason why = SLACKSIG_OK;

	T_EQ_INT(verify(NULL, doc_sig, doc_body, DOC_TS, &why), -EACCES);
	T_EQ_INT(why, SLACKSIG_MISSING);
	why = SLACKSIG_OK;
	T_EQ_INT(verify("1531420618", NULL, doc_body, DOC_TS, &why), -EACCES);
	T_EQ_INT(why, SLACKSIG_MISSING);
}

static void slacksig_malformed_headers(void)
{
	static const char *const bad_ts[] = { "", "x1531420618", "1531420618 ", "-1531420618",
		"1531420618.0", "0001531420618", "99999999999999999999" };
	static const char *const bad_sig[] = { "", "v0=", "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
		"a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
		"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50",
		"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b5033",
		"v0=g2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
		"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503 " };
	enum slacksig_reason why;
	size_t i;

	for (i = 0; i < sizeof bad_ts / sizeof *bad_ts; i++) {
		why = SLACKSIG_OK;
		T_EQ_INT(verify(bad_ts[i], doc_sig, doc_body, DOC_TS, &why), -EACCES);
		T_EQ_INT(why, SLACKSIG_MALFORMED);
	}
	for (i = 0; i < sizeof bad_sig / sizeof *bad_sig; i++) {
		why = SLACKSIG_OK;
		T_EQ_INT(verify("1531420618", bad_sig[i], doc_body, DOC_TS, &why), -EACCES);
		T_EQ_INT(why, SLACKSIG_MALFORMED);
	}
}

static void slacksig_caller_errors(void)
{
	enum slacksig_reason why = SLACKSIG_OK;
	char out[SLACKSIG_LEN + 1];

	T_EQ_INT(slacksig_verify(NULL, 0, "1", doc_sig, (const unsigned char *)"", 0, 1, &why),
	    -EINVAL);
	T_EQ_INT(why, SLACKSIG_ERROR);
	T_EQ_INT(slacksig_sign(doc_secret, 0, 1, (const unsigned char *)"", 0, out, sizeof out),
	    -EINVAL);
	T_EQ_STR(slacksig_reason_name(SLACKSIG_STALE), "stale");
	T_EQ_STR(slacksig_reason_name((enum slacksig_reason)99), "error");
}

static void slacksig_empty_body_roundtrip(void)
{
	char out[SLACKSIG_LEN + 1];
	enum slacksig_reason why = SLACKSIG_ERROR;

	T_EQ_INT(slacksig_sign(doc_secret, sizeof doc_secret - 1, 1700000000,
	    (const unsigned char *)"", 0, out, sizeof out), 0);
	T_EQ_INT(slacksig_verify(doc_secret, sizeof doc_secret - 1, "1700000000", out,
	    (const unsigned char *)"", 0, 1700000000, &why), 0);
	T_EQ_INT(why, SLACKSIG_OK);
}

int main(void)
{
	T_RUN(slacksig_doc_vector_signs);
	T_RUN(slacksig_doc_vector_verifies);
	T_RUN(slacksig_uppercase_hex_verifies);
	T_RUN(slacksig_window_edges);
	T_RUN(slacksig_body_changed_mismatch);
	T_RUN(slacksig_missing_headers);
	T_RUN(slacksig_malformed_headers);
	T_RUN(slacksig_caller_errors);
	T_RUN(slacksig_empty_body_roundtrip);
	return T_EXIT();
}
