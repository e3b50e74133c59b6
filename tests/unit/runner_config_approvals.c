/*
 * runner_config_approvals.c — unit tests of the approval configuration
 * (runner/approvalcfg.c through config_load): the "slack" section (secret
 * references, the bot token's kind, the API URL, the timeout) and a hook's
 * "approval" (async only, approvers and groups, N of M, expiry,
 * self-approval and the requester claim, fields), each refusal checked by
 * the exact beginning of its message, and the values a good one yields.
 */
#include "cfgtest.h"

#define AJOB "'job': {'destination': 'deploy@host', 'identity': 'id_ed25519', " \
	"'known_hosts': 'known_hosts', 'command': 'echo hi', 'mode': 'async'}"
#define JWT "'jwt': {'algorithms': ['HS256'], 'key': 'file:@D/hmac32'}"
/* A config with an approval hook whose approval object is AP, and TOP
 * (top-level fields, may be empty, ending with a comma). */
#define AHOOK(top, ap) "{" EXE ", " top " 'hooks': [{'id': 'h', " SIG ", " JWT ", " AJOB ", " \
	"'approval': " ap "}]}"
#define SLACK "'slack': {'bot_token': 'file:@D/bot', 'signing_secret': 'file:@D/s1'},"

static void test_good_approval(void)
{
	struct config *c = NULL;
	const struct cfg_approval *ap;
	char err[512];

	T_EQ_INT(load(AHOOK(SLACK, "{'channel': 'C0123ABC', 'approvers': ['U1AAA', 'W2BBB', 'U3CCC'], "
	    "'groups': ['S0OPS'], 'required': 2, 'timeout_s': 600, 'requester_claim': 'slack_user', "
	    "'fields': {'Rollback': 'deploy.sh --rollback', 'Risk': 'low'}}"), &c, err, sizeof err), 0);
	T_PREFIX(err, "");
	if (!c) {
		snprintf(t_why_, sizeof t_why_, "load: %.400s", err);
		t_failed_ = 1;
		return;
	}
	ap = &c->hooks[0].approval;
	T_EQ_INT(ap->enabled, 1);
	T_STR(ap->channel, "C0123ABC");
	T_EQ_INT(ap->nusers, 3);
	T_STR(ap->users[1], "W2BBB");
	T_EQ_INT(ap->ngroups, 1);
	T_STR(ap->groups[0], "S0OPS");
	T_EQ_INT(ap->required, 2);
	T_EQ_INT(ap->timeout_s, 600);
	T_EQ_INT(ap->allow_self, 0);
	T_STR(ap->requester_claim, "slack_user");
	T_EQ_INT(ap->nfields, 2);
	T_STR(ap->fields[0].label, "Rollback");
	T_STR(ap->fields[0].text, "deploy.sh --rollback");
	T_EQ_INT(c->slack.present, 1);
	T_STR(c->slack.bot_token, "xoxb-1-2-abc");
	T_STR(c->slack.signing_secret, "0123456789abcdef0123456789abcdef");
	T_STR(c->slack.api_url, "https://slack.com/api");
	T_EQ_INT(c->slack.timeout_ms, 5000);
	T_EQ_INT(c->nwarnings, 0);
	config_free(c);
}

static void test_defaults_and_warnings(void)
{
	struct config *c = NULL;
	const struct cfg_approval *ap;
	char err[512];

	/* no slack: the CLI decides; no requester claim: self-approval cannot be told */
	T_EQ_INT(load(AHOOK("", "{'approvers': ['U1AAA']}"), &c, err, sizeof err), 0);
	if (!c)
		return;
	ap = &c->hooks[0].approval;
	T_EQ_INT(ap->required, 1);
	T_EQ_INT(ap->timeout_s, 3600);
	T_CHECK(ap->channel == NULL);
	T_EQ_INT(c->slack.present, 0);
	T_CHECK(has_warning(c, "hooks[0].approval: no \"slack\" section"));
	T_CHECK(has_warning(c, "hooks[0].approval: no \"requester_claim\""));
	T_EQ_INT(c->hooks[0].approval.enabled, 1);
	config_free(c);
	c = NULL;
	/* a hook without approval has none */
	T_EQ_INT(load(MINIMAL, &c, err, sizeof err), 0);
	if (c)
		T_EQ_INT(c->hooks[0].approval.enabled, 0);
	config_free(c);
	c = NULL;
	T_EQ_INT(load(AHOOK("'slack': {'bot_token': 'file:@D/bot', 'signing_secret': 'file:@D/s1', "
	    "'api_url': 'http://127.0.0.1:9/api/', 'timeout_ms': 250},",
	    "{'channel': 'G0PRIV', 'approvers': ['U1AAA'], 'allow_self_approval': true}"), &c, err,
	    sizeof err), 0);
	if (c) {
		T_STR(c->slack.api_url, "http://127.0.0.1:9/api");
		T_EQ_INT(c->slack.timeout_ms, 250);
		T_EQ_INT(c->hooks[0].approval.allow_self, 1);
		T_EQ_INT(c->nwarnings, 0);
	}
	config_free(c);
}

static void test_approval_refusals(void)
{
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", " JOB ", 'approval': {'approvers': ['U1AAA']}}]}",
	    "hooks[0].approval: a hook with an approval must be async");
	T_REFUSED(AHOOK("", "{'approvers': ['U1AAA'], 'color': 'red'}"),
	    "hooks[0].approval: unknown field \"color\"");
	T_REFUSED(AHOOK("", "{}"), "hooks[0].approval: give at least one of \"approvers\"");
	T_REFUSED(AHOOK("", "{'approvers': []}"), "hooks[0].approval: give at least one of");
	T_REFUSED(AHOOK("", "{'approvers': ['alice']}"),
	    "hooks[0].approval.approvers: [0] must be a Slack user id");
	T_REFUSED(AHOOK("", "{'approvers': ['U1AAA', 'U1AAA']}"),
	    "hooks[0].approval.approvers: \"U1AAA\" is listed twice");
	T_REFUSED(AHOOK("", "{'approvers': 'U1AAA'}"),
	    "hooks[0].approval.approvers: must be a list of at most 100 Slack ids");
	T_REFUSED(AHOOK("", "{'groups': ['U1AAA']}"),
	    "hooks[0].approval.groups: [0] must be a Slack user group id");
	T_REFUSED(AHOOK("", "{'approvers': ['U1AAA', 'U2BBB'], 'required': 3}"),
	    "hooks[0].approval: \"required\" is 3 but only 2 approvers are listed");
	T_REFUSED(AHOOK("", "{'approvers': ['U1AAA'], 'required': 0}"),
	    "hooks[0].approval: \"required\" must be between 1 and 100");
	T_REFUSED(AHOOK("", "{'approvers': ['U1AAA'], 'timeout_s': 0}"),
	    "hooks[0].approval: \"timeout_s\" must be between 1 and 604800");
	T_REFUSED(AHOOK("", "{'approvers': ['U1AAA'], 'allow_self_approval': 'no'}"),
	    "hooks[0].approval: \"allow_self_approval\" must be");
	T_REFUSED(AHOOK("", "{'approvers': ['U1AAA'], 'channel': '#deploys'}"),
	    "hooks[0].approval: \"channel\" must be a Slack channel id");
	T_REFUSED(AHOOK("", "{'approvers': ['U1AAA'], 'fields': ['x']}"),
	    "hooks[0].approval.fields: must be an object");
	T_REFUSED(AHOOK("", "{'approvers': ['U1AAA'], 'fields': {'Rollback': 5}}"),
	    "hooks[0].approval.fields: \"Rollback\" must be a text");
	T_REFUSED(AHOOK("", "{'approvers': ['U1AAA'], 'fields': {'R': 'a\\u0007b'}}"),
	    "hooks[0].approval.fields: \"R\" holds a control character");
	/* the requester claim needs a JWT */
	T_REFUSED("{" EXE ", 'hooks': [{'id': 'h', " SIG ", " AJOB ", 'approval': {'approvers': "
	    "['U1AAA'], 'requester_claim': 'u'}}]}",
	    "hooks[0].approval: \"requester_claim\" names a JWT claim, but the hook has no \"jwt\"");
	/* with Slack, the request goes to a channel */
	T_REFUSED(AHOOK(SLACK, "{'approvers': ['U1AAA']}"), "hooks[0].approval: missing \"channel\"");
}

static void test_slack_refusals(void)
{
	T_REFUSED(AHOOK("'slack': {'signing_secret': 'file:@D/s1'},", "{'approvers': ['U1AAA']}"),
	    "slack: missing required field \"bot_token\"");
	T_REFUSED(AHOOK("'slack': {'bot_token': 'file:@D/bot'},", "{'approvers': ['U1AAA']}"),
	    "slack: missing required field \"signing_secret\"");
	T_REFUSED(AHOOK("'slack': {'bot_token': 'xoxb-literal', 'signing_secret': 'file:@D/s1'},",
	    "{'approvers': ['U1AAA']}"), "slack.bot_token: secrets must be references");
	T_REFUSED(AHOOK("'slack': {'bot_token': 'file:@D/s1', 'signing_secret': 'file:@D/s1'},",
	    "{'approvers': ['U1AAA']}"), "slack.bot_token: must be a bot token (it starts with \"xoxb-\")");
	T_REFUSED(AHOOK("'slack': {'bot_token': 'file:@D/bot', 'signing_secret': 'file:@D/s-nl'},",
	    "{'approvers': ['U1AAA']}"), "slack.signing_secret: must be at least 16 characters");
	T_REFUSED(AHOOK("'slack': {'bot_token': 'file:@D/bot', 'signing_secret': 'file:@D/s1', "
	    "'api_url': 'http://slack.example/api'},", "{'approvers': ['U1AAA']}"),
	    "slack.api_url: must be an https:// URL");
	T_REFUSED(AHOOK("'slack': {'bot_token': 'file:@D/bot', 'signing_secret': 'file:@D/s1', "
	    "'timeout_ms': 5},", "{'approvers': ['U1AAA']}"),
	    "slack: \"timeout_ms\" must be between 100 and 60000");
	T_REFUSED(AHOOK("'slack': {'bot_token': 'file:@D/bot', 'signing_secret': 'file:@D/s1', "
	    "'token': 'x'},", "{'approvers': ['U1AAA']}"), "slack: unknown field \"token\"");
}

int main(void)
{
	if (cfgtest_setup("runner_config_approvals", 0) != 0)
		return 1;
	puts_file("bot", "xoxb-1-2-abc\n");
	T_RUN(test_good_approval);
	T_RUN(test_defaults_and_warnings);
	T_RUN(test_approval_refusals);
	T_RUN(test_slack_refusals);
	cfgtest_cleanup();
	return T_EXIT();
}
