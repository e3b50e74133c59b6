/*
 * fuzz_runner_slack.c — libFuzzer harness for what Slack sends the runner:
 * runner/slack_sig.c (the v0 signature), then runner/slack_payload.c (the
 * form-encoded interaction body and its JSON, and the Events API body).
 *
 * Input layout: up to the first '\n' the X-Slack-Request-Timestamp value,
 * up to the second the X-Slack-Signature value (an empty line: the header
 * is absent), and the rest is the raw body. The body is verified with a
 * fixed secret at a fixed now; it is parsed as an interaction and as an
 * event whatever the signature said (the parsers must hold on any bytes).
 * Properties:
 *  - a verified signature is the one slacksig_sign makes, and what
 *    slacksig_sign makes for this body verifies;
 *  - a parsed interaction has a user, an action and value for a click, a
 *    private_metadata for a submission, and a response_url the rule allows;
 *  - a refused parse leaves the struct zeroed;
 *  - every string is NUL-terminated within its field.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../runner/slack_payload.h"
#include "../../runner/slack_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000
#define API "http://127.0.0.1:8099/api"

static const unsigned char secret[] = "fuzz-slack-signing-secret-0123456789";

static char *line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n;
	char *s;

	if (!nl)
		return NULL;
	n = (size_t)(nl - *p);
	if (!(s = malloc(n + 1)))
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nl + 1;
	return s;
}

static void terminated(const char *s, size_t cap)
{
	if (!memchr(s, '\0', cap))
		abort();
}

static void check_interaction(const char *body, size_t len)
{
	static const struct slackpl zero;
	struct slackpl p;
	enum slackpl_reason why = SLACKPL_NREASONS;
	int rc = slackpl_parse(body, len, API, &p, &why);

	if (rc != 0 && rc != -EINVAL)
		abort();
	if ((rc == 0) != (why == SLACKPL_OK) || why >= SLACKPL_NREASONS)
		abort();
	if (rc) {
		if (memcmp(&p, &zero, sizeof p) != 0)
			abort();
		return;
	}
	terminated(p.user_id, sizeof p.user_id);
	terminated(p.action_id, sizeof p.action_id);
	terminated(p.value, sizeof p.value);
	terminated(p.response_url, sizeof p.response_url);
	terminated(p.private_metadata, sizeof p.private_metadata);
	terminated(p.reason, sizeof p.reason);
	if (p.type == SLACKPL_BLOCK_ACTIONS &&
	    (!p.user_id[0] || !p.action_id[0] || !p.value[0] ||
	     (p.response_url[0] && !slackpl_response_url_ok(p.response_url, API))))
		abort();
	if (p.type == SLACKPL_VIEW_SUBMISSION && (!p.user_id[0] || !p.private_metadata[0]))
		abort();
}

static void check_event(const char *body, size_t len)
{
	struct slackpl_event e;
	enum slackpl_reason why = SLACKPL_NREASONS;
	int rc = slackpl_event_parse(body, len, &e, &why);

	if ((rc != 0 && rc != -EINVAL) || (rc == 0) != (why == SLACKPL_OK))
		abort();
	if (rc == 0 && e.type == SLACKPL_EV_URL_VERIFICATION &&
	    (!memchr(e.challenge, '\0', sizeof e.challenge) || !e.challenge[0]))
		abort();
	if (rc == 0 && e.type == SLACKPL_EV_CALLBACK && !e.event_id[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *ts = NULL, *sig = NULL, mine[SLACKSIG_LEN + 1];
	enum slacksig_reason why = SLACKSIG_NREASONS;
	size_t len;
	int rc;

	if (size > SLACKPL_BODY_MAX + 256)
		return 0;
	ts = line(&p, end);
	sig = ts ? line(&p, end) : NULL;
	len = (size_t)(end - p);
	rc = slacksig_verify(secret, sizeof secret - 1, ts && *ts ? ts : NULL,
	    sig && *sig ? sig : NULL, p, len, NOW, &why);
	if ((rc != 0 && rc != -EACCES) || (rc == 0) != (why == SLACKSIG_OK) ||
	    why >= SLACKSIG_NREASONS)
		abort();
	if (rc == 0) {
		/* verified: the timestamp is within the window and the MAC ours */
		char *e;
		long long t = strtoll(ts, &e, 10);
		if (*e || t < NOW - SLACKSIG_WINDOW_S || t > NOW + SLACKSIG_WINDOW_S ||
		    slacksig_sign(secret, sizeof secret - 1, t, p, len, mine, sizeof mine) ||
		    strcasecmp(mine, sig) != 0)
			abort();
	}
	if (slacksig_sign(secret, sizeof secret - 1, NOW, p, len, mine, sizeof mine) ||
	    slacksig_verify(secret, sizeof secret - 1, "1700000000", mine, p, len, NOW, &why) ||
	    why != SLACKSIG_OK)
		abort();
	check_interaction((const char *)p, len);
	check_event((const char *)p, len);
	free(ts);
	free(sig);
	return 0;
}
