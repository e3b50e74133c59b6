/*
 * runner_slack_payload.c — unit tests for runner/slack_payload.c: a
 * block_actions and a view_submission shaped as Slack sends them
 * (form-encoded "payload"), the response_url rule, Events API bodies, and
 * every refusal with its reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "../../runner/slack_payload.h"

#define API "http://127.0.0.1:8099/api"

/* "payload=" + JSON percent-encoded as a browser would (space as '+'). */
static char *form(const char *json)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(json), i, j = 8;
	char *s = malloc(8 + 3 * n + 1);

	if (!s)
		abort();
	memcpy(s, "payload=", 8);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)json[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '*') {
			s[j++] = (char)c;
		} else if (c == ' ') {
			s[j++] = '+';
		} else {
			s[j++] = '%';
			s[j++] = hex[c >> 4];
			s[j++] = hex[c & 15];
		}
	}
	s[j] = '\0';
	return s;
}

static const char click_fmt[] =
	"{\"type\":\"block_actions\",\"user\":{\"id\":\"%s\",\"username\":\"ann\",\"name\":\"ann\","
	"\"team_id\":\"T0001\"},\"api_app_id\":\"A0001\",\"token\":\"verif\","
	"\"container\":{\"type\":\"message\",\"message_ts\":\"1700000000.000100\","
	"\"channel_id\":\"C0001\",\"is_ephemeral\":false},"
	"\"trigger_id\":\"12345.98765.abcd2358fdea\",\"team\":{\"id\":\"T0001\",\"domain\":\"ex\"},"
	"\"channel\":{\"id\":\"C0001\",\"name\":\"ops\"},"
	"\"message\":{\"type\":\"message\",\"ts\":\"1700000000.000100\",\"text\":\"Approval\"},"
	"\"response_url\":\"%s\","
	"\"actions\":[{\"action_id\":\"%s\",\"block_id\":\"decide\",\"text\":{\"type\":\"plain_text\","
	"\"text\":\"Approve\",\"emoji\":true},\"value\":\"%s\",\"style\":\"primary\",\"type\":\"button\","
	"\"action_ts\":\"1700000001.002\"}]}";

static int click(const char *user, const char *url, const char *action, const char *value,
    struct slackpl *p, enum slackpl_reason *why)
{
	char json[4096];
	char *body;
	int rc;

	snprintf(json, sizeof json, click_fmt, user, url, action, value);
	body = form(json);
	rc = slackpl_parse(body, strlen(body), API, p, why);
	free(body);
	return rc;
}

static void slackpl_block_actions_parsed(void)
{
	struct slackpl p;
	enum slackpl_reason why = SLACKPL_ERROR;

	T_EQ_INT(click("U0AAA", "https://hooks.slack.com/actions/T0001/1/abc", "approve", "42",
	    &p, &why), 0);
	T_EQ_INT(why, SLACKPL_OK);
	T_EQ_INT(p.type, SLACKPL_BLOCK_ACTIONS);
	T_EQ_STR(p.user_id, "U0AAA");
	T_EQ_STR(p.team_id, "T0001");
	T_EQ_STR(p.action_id, "approve");
	T_EQ_STR(p.value, "42");
	T_CHECK(!strcmp(p.response_url, "https://hooks.slack.com/actions/T0001/1/abc"));
	T_EQ_STR(p.trigger_id, "12345.98765.abcd2358fdea");
	T_EQ_STR(p.channel_id, "C0001");
	T_EQ_STR(p.message_ts, "1700000000.000100");
}

static void slackpl_block_actions_refused(void)
{
	struct slackpl p;
	enum slackpl_reason why;
	char big[100];

	why = SLACKPL_OK;
	T_EQ_INT(click("", "https://hooks.slack.com/a", "approve", "42", &p, &why), -EINVAL);
	T_EQ_INT(why, SLACKPL_BAD_FIELD);
	why = SLACKPL_OK;
	T_EQ_INT(click("U1 OR 1", "https://hooks.slack.com/a", "approve", "42", &p, &why), -EINVAL);
	T_EQ_INT(why, SLACKPL_BAD_FIELD);
	T_EQ_STR(p.user_id, ""); /* zeroed on refusal */
	why = SLACKPL_OK;
	T_EQ_INT(click("U1", "https://evil.example/a", "approve", "42", &p, &why), -EINVAL);
	T_EQ_INT(why, SLACKPL_BAD_URL);
	why = SLACKPL_OK;
	T_EQ_INT(click("U1", "https://hooks.slack.com/a", "", "42", &p, &why), -EINVAL);
	T_EQ_INT(why, SLACKPL_BAD_FIELD);
	memset(big, '7', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	why = SLACKPL_OK;
	T_EQ_INT(click("U1", "https://hooks.slack.com/a", "approve", big, &p, &why), -EINVAL);
	T_EQ_INT(why, SLACKPL_TOO_LONG);
}

static void slackpl_view_submission_parsed(void)
{
	static const char json[] =
		"{\"type\":\"view_submission\",\"team\":{\"id\":\"T0001\"},"
		"\"user\":{\"id\":\"U0BBB\",\"team_id\":\"T0001\"},\"trigger_id\":\"1.2.3\","
		"\"view\":{\"id\":\"V0001\",\"type\":\"modal\",\"callback_id\":\"deny_reason\","
		"\"private_metadata\":\"42\",\"state\":{\"values\":{\"deny_reason\":{\"deny_reason\":"
		"{\"type\":\"plain_text_input\",\"value\":\"not during the freeze \\u00e9\\nsorry\"}}}}}}";
	struct slackpl p;
	enum slackpl_reason why = SLACKPL_ERROR;
	char *body = form(json);

	T_EQ_INT(slackpl_parse(body, strlen(body), API, &p, &why), 0);
	T_EQ_INT(p.type, SLACKPL_VIEW_SUBMISSION);
	T_EQ_STR(p.user_id, "U0BBB");
	T_EQ_STR(p.callback_id, "deny_reason");
	T_EQ_STR(p.private_metadata, "42");
	T_CHECK(!strcmp(p.reason, "not during the freeze \xc3\xa9\nsorry"));
	free(body);
}

static void slackpl_view_submission_no_reason(void)
{
	static const char json[] =
		"{\"type\":\"view_submission\",\"user\":{\"id\":\"U0BBB\"},"
		"\"view\":{\"callback_id\":\"deny_reason\",\"private_metadata\":\"42\","
		"\"state\":{\"values\":{\"deny_reason\":{\"deny_reason\":{\"value\":null}}}}}}";
	static const char ctl[] =
		"{\"type\":\"view_submission\",\"user\":{\"id\":\"U0BBB\"},"
		"\"view\":{\"callback_id\":\"deny_reason\",\"private_metadata\":\"42\","
		"\"state\":{\"values\":{\"deny_reason\":{\"deny_reason\":{\"value\":\"a\\u001bb\"}}}}}}";
	struct slackpl p;
	enum slackpl_reason why = SLACKPL_ERROR;
	char *body = form(json);

	T_EQ_INT(slackpl_parse(body, strlen(body), API, &p, &why), 0);
	T_CHECK(!strcmp(p.reason, ""));
	free(body);
	body = form(ctl);
	why = SLACKPL_OK;
	T_EQ_INT(slackpl_parse(body, strlen(body), API, &p, &why), -EINVAL);
	T_EQ_INT(why, SLACKPL_BAD_FIELD);
	free(body);
}

static void slackpl_other_type_acknowledged(void)
{
	struct slackpl p;
	enum slackpl_reason why = SLACKPL_ERROR;
	char *body = form("{\"type\":\"view_closed\",\"user\":{\"id\":\"U1\"}}");

	T_EQ_INT(slackpl_parse(body, strlen(body), API, &p, &why), 0);
	T_EQ_INT(p.type, SLACKPL_OTHER);
	T_EQ_STR(p.type_name, "view_closed");
	free(body);
}

static void slackpl_body_refused(void)
{
	static const struct { const char *body; enum slackpl_reason why; } cases[] = {
		{ "", SLACKPL_NO_PAYLOAD },
		{ "token=abc", SLACKPL_NO_PAYLOAD },
		{ "payload=", SLACKPL_BAD_JSON },
		{ "payload=%7B", SLACKPL_BAD_JSON },
		{ "payload=%5B%5D", SLACKPL_BAD_JSON },
		{ "payload=%7B%7D", SLACKPL_BAD_FIELD },
		{ "payload=%7B%22type%22%3A1%7D", SLACKPL_BAD_FIELD },
		{ "payload=%7B%22type%22%3A%22block_actions%22%7D", SLACKPL_BAD_FIELD },
		{ "payload=%7B%22type%22%3A%22x%22%7D%00", SLACKPL_BAD_JSON },
		{ "payload=%7B%22type%22%3A%22%FF%22%7D", SLACKPL_BAD_JSON },
	};
	struct slackpl p;
	enum slackpl_reason why;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		why = SLACKPL_OK;
		if (slackpl_parse(cases[i].body, strlen(cases[i].body), API, &p, &why) != -EINVAL ||
		    why != cases[i].why) {
			T_CHECK(!"refused with the reason");
			printf("# case %zu: reason %s\n", i, slackpl_reason_name(why));
		}
	}
	why = SLACKPL_OK;
	T_EQ_INT(slackpl_parse("payload=x", SLACKPL_BODY_MAX + 1, API, &p, &why), -EINVAL);
	T_EQ_INT(why, SLACKPL_TOO_LONG);
}

static void slackpl_response_url_rule(void)
{
	T_EQ_INT(slackpl_response_url_ok("https://hooks.slack.com/actions/T1/2/x", NULL), 1);
	T_EQ_INT(slackpl_response_url_ok("https://hooks.slack.com/", NULL), 0);
	T_EQ_INT(slackpl_response_url_ok("https://hooks.slack.com.evil.example/a", NULL), 0);
	T_EQ_INT(slackpl_response_url_ok("http://hooks.slack.com/a", NULL), 0);
	T_EQ_INT(slackpl_response_url_ok("https://hooks.slack.com@evil.example/a", NULL), 0);
	T_EQ_INT(slackpl_response_url_ok("https://hooks.slack.com/a b", NULL), 0);
	T_EQ_INT(slackpl_response_url_ok("http://127.0.0.1:8099/response/1", API), 1);
	T_EQ_INT(slackpl_response_url_ok("http://127.0.0.1:8099/response/1", "https://slack.com/api"), 0);
	T_EQ_INT(slackpl_response_url_ok("http://127.0.0.1:80990/response/1", API), 0);
	T_EQ_INT(slackpl_response_url_ok("http://127.0.0.1:8099", API), 0);
	T_EQ_INT(slackpl_response_url_ok("https://slack.com/api/x", "https://slack.com/api"), 1);
}

static void slackpl_events(void)
{
	static const char uv[] = "{\"token\":\"Jhj5dZrVaK7ZwHHjRyZWjbDl\",\"challenge\":"
		"\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\",\"type\":\"url_verification\"}";
	static const char cb[] = "{\"token\":\"x\",\"team_id\":\"T1\",\"api_app_id\":\"A1\","
		"\"event\":{\"type\":\"app_mention\",\"user\":\"U1\",\"text\":\"hi\"},"
		"\"type\":\"event_callback\",\"event_id\":\"Ev08MFMKH6\",\"event_time\":1234567890}";
	struct slackpl_event e;
	enum slackpl_reason why = SLACKPL_ERROR;

	T_EQ_INT(slackpl_event_parse(uv, strlen(uv), &e, &why), 0);
	T_EQ_INT(e.type, SLACKPL_EV_URL_VERIFICATION);
	T_EQ_STR(e.challenge, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
	T_EQ_INT(slackpl_event_parse(cb, strlen(cb), &e, &why), 0);
	T_EQ_INT(e.type, SLACKPL_EV_CALLBACK);
	T_EQ_STR(e.event_id, "Ev08MFMKH6");
	T_EQ_STR(e.event_type, "app_mention");
	why = SLACKPL_OK;
	T_EQ_INT(slackpl_event_parse("{\"type\":\"url_verification\",\"challenge\":\"a b\"}", 45,
	    &e, &why), -EINVAL);
	T_EQ_INT(why, SLACKPL_BAD_FIELD);
	why = SLACKPL_OK;
	T_EQ_INT(slackpl_event_parse("{\"type\":\"event_callback\"}", 25, &e, &why), -EINVAL);
	T_EQ_INT(why, SLACKPL_BAD_FIELD);
	why = SLACKPL_OK;
	T_EQ_INT(slackpl_event_parse("nope", 4, &e, &why), -EINVAL);
	T_EQ_INT(why, SLACKPL_BAD_JSON);
}

int main(void)
{
	T_RUN(slackpl_block_actions_parsed);
	T_RUN(slackpl_block_actions_refused);
	T_RUN(slackpl_view_submission_parsed);
	T_RUN(slackpl_view_submission_no_reason);
	T_RUN(slackpl_other_type_acknowledged);
	T_RUN(slackpl_body_refused);
	T_RUN(slackpl_response_url_rule);
	T_RUN(slackpl_events);
	return T_EXIT();
}
