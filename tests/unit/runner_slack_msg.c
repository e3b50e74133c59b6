/*
 * runner_slack_msg.c — unit tests for runner/slack_msg.c: the approval
 * message's content and buttons, Block Kit's limits on values far over
 * them, untrusted text only in plain_text, the message after a vote and
 * after each decision, the outcome reply, the modal, the ephemeral reply.
 * Each message is read back with cJSON, not compared as text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "t.h"
#include "../../runner/slack_msg.h"
#include "../../runner/utf8.h"

static const struct slackmsg_kv params[] = { { "ref", "main" }, { "who", "<!channel> *bold*" } };

static struct slackmsg_approval base(void)
{
	struct slackmsg_approval a = { 0 };

	a.id = "42";
	a.hook = "deploy";
	a.command = "deploy.sh 'main'";
	a.params = params;
	a.nparams = 2;
	a.requester = "ci@example";
	a.key = "evt_123";
	a.destination = "deploy@127.0.0.1";
	a.created_at = 1700000000;
	a.expires_at = 1700003600;
	a.required = 1;
	return a;
}

/* Every text object in J, with the checks Block Kit makes. */
struct walk {
	int blocks, sections, actions, too_long, bad_utf8, mrkdwn_untrusted;
	char all[200000];
};

static void walk(const cJSON *j, struct walk *w)
{
	const cJSON *c;

	if (cJSON_IsObject(j)) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
		const cJSON *text = cJSON_GetObjectItemCaseSensitive(j, "text");
		if (cJSON_IsString(type) && cJSON_IsString(text)) {
			size_t n = strlen(text->valuestring);
			if (n > SLACKMSG_TEXT_MAX)
				w->too_long++;
			if (!utf8_valid(text->valuestring))
				w->bad_utf8++;
			if (!strcmp(type->valuestring, "mrkdwn") && strstr(text->valuestring, "<!channel>"))
				w->mrkdwn_untrusted++;
			if (strlen(w->all) + n + 2 < sizeof w->all) {
				strcat(w->all, text->valuestring);
				strcat(w->all, "\n");
			}
		}
		if (cJSON_IsString(type) && !strcmp(type->valuestring, "section"))
			w->sections++;
		if (cJSON_IsString(type) && !strcmp(type->valuestring, "actions"))
			w->actions++;
	}
	cJSON_ArrayForEach(c, j)
		walk(c, w);
}

static cJSON *build(const struct slackmsg_approval *a, const char *ts, struct walk *w)
{
	char *s = NULL;
	cJSON *j;

	memset(w, 0, sizeof *w);
	if (slackmsg_approval(a, "C0001", ts, &s) != 0)
		return NULL;
	j = cJSON_Parse(s);
	free(s);
	if (j) {
		w->blocks = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "blocks"));
		walk(j, w);
	}
	return j;
}

static const cJSON *actions_of(const cJSON *j)
{
	const cJSON *b;

	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(j, "blocks")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "type");
		if (cJSON_IsString(t) && !strcmp(t->valuestring, "actions"))
			return cJSON_GetObjectItemCaseSensitive(b, "elements");
	}
	return NULL;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void slackmsg_request_content(void)
{
	struct slackmsg_approval a = base();
	struct walk *w = calloc(1, sizeof *w);
	cJSON *j = build(&a, NULL, w);
	const cJSON *els = actions_of(j);

	T_CHECK(j != NULL);
	T_EQ_STR(str(j, "channel"), "C0001");
	T_CHECK(cJSON_GetObjectItemCaseSensitive(j, "ts") == NULL);
	T_CHECK(strstr(w->all, "Hook: deploy") != NULL);
	T_CHECK(strstr(w->all, "deploy.sh 'main'") != NULL);
	T_CHECK(strstr(w->all, "ref = main") != NULL);
	T_CHECK(strstr(w->all, "who = <!channel> *bold*") != NULL);
	T_CHECK(strstr(w->all, "Requester: ci@example") != NULL);
	T_CHECK(strstr(w->all, "Idempotency key: evt_123") != NULL);
	T_CHECK(strstr(w->all, "Destination: deploy@127.0.0.1") != NULL);
	T_CHECK(strstr(w->all, "Expires: 2023-11-14 23:13:20 UTC") != NULL);
	T_CHECK(strstr(w->all, "0 of 1 approval") != NULL);
	T_EQ_INT(w->mrkdwn_untrusted, 0);
	T_EQ_INT(w->actions, 1);
	T_EQ_INT(cJSON_GetArraySize(els), 2);
	T_EQ_STR(str(cJSON_GetArrayItem(els, 0), "action_id"), "approve");
	T_EQ_STR(str(cJSON_GetArrayItem(els, 0), "value"), "42");
	T_EQ_STR(str(cJSON_GetArrayItem(els, 1), "action_id"), "deny");
	T_EQ_STR(str(cJSON_GetArrayItem(els, 1), "value"), "42");
	cJSON_Delete(j);
	free(w);
}

static void slackmsg_limits_held(void)
{
	enum { BIG = 20000, NF = 700 };
	struct slackmsg_approval a = base();
	struct slackmsg_kv *f = calloc(NF, sizeof *f);
	struct walk *w = calloc(1, sizeof *w);
	char *big = malloc(BIG + 1);
	size_t i;
	cJSON *j;

	for (i = 0; i < BIG; i++)
		big[i] = (char)(i % 3 == 0 ? 0xc3 : i % 3 == 1 ? 0xa9 : 'x'); /* é and x */
	big[BIG] = '\0';
	for (i = 0; i < NF; i++) {
		f[i].name = "field";
		f[i].value = big;
	}
	a.command = big;
	a.hook = big;
	a.fields = f;
	a.nfields = NF;
	j = build(&a, NULL, w);
	T_CHECK(j != NULL);
	T_CHECK(w->blocks <= SLACKMSG_BLOCKS_MAX);
	T_CHECK(w->blocks >= SLACKMSG_BLOCKS_MAX - 1); /* the fields used the room */
	T_EQ_INT(w->too_long, 0);
	T_EQ_INT(w->bad_utf8, 0);
	T_EQ_INT(w->actions, 1); /* the buttons survive however many fields */
	T_CHECK(strstr(w->all, SLACKMSG_CUT) != NULL);
	cJSON_Delete(j);
	free(big);
	free(f);
	free(w);
}

static void slackmsg_bad_bytes_cleaned(void)
{
	char *s = slackmsg_fit("a\xff" "b\x01" "c\n\xe2\x82", 8, 100, 0);

	T_EQ_STR(s, "a\xef\xbf\xbd" "b?c\n\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = slackmsg_fit("0123456789abcdefghijklmnopqrstuvwxyz", 36, 30, 1);
	T_CHECK(s && strlen(s) <= 30 && !strncmp(s, SLACKMSG_CUT "\n", sizeof SLACKMSG_CUT) &&
	    strstr(s, "xyz") != NULL);
	free(s);
	s = slackmsg_fit("0123456789abcdefghijklmnopqrstuvwxyz", 36, 30, 0);
	T_CHECK(s && strlen(s) <= 30 && !strncmp(s, "0123", 4) && strstr(s, SLACKMSG_CUT));
	free(s);
}

static void slackmsg_progress_keeps_buttons(void)
{
	static const char *const who[] = { "U0AAA" };
	struct slackmsg_approval a = base();
	struct walk *w = calloc(1, sizeof *w);
	cJSON *j;

	a.required = 2;
	a.approvers = who;
	a.napprovers = 1;
	j = build(&a, "1700000000.000100", w);
	T_CHECK(j != NULL);
	T_EQ_STR(str(j, "ts"), "1700000000.000100");
	T_CHECK(strstr(w->all, "1 of 2 approvals: <@U0AAA>") != NULL);
	T_EQ_INT(w->actions, 1);
	cJSON_Delete(j);
	free(w);
}

static void slackmsg_decided_no_buttons(void)
{
	static const char *const who[] = { "U0AAA", "U0BBB" };
	struct slackmsg_approval a = base();
	struct walk *w = calloc(1, sizeof *w);
	cJSON *j;

	a.required = 2;
	a.approvers = who;
	a.napprovers = 2;
	a.state = SLACKMSG_APPROVED;
	a.decided_by = "U0BBB";
	a.decided_in_slack = 1;
	a.decided_at = 1700000100;
	j = build(&a, "1.2", w);
	T_EQ_INT(w->actions, 0);
	T_CHECK(strstr(w->all, "*Approved* by <@U0BBB> at 2023-11-14 22:15:00 UTC") != NULL);
	cJSON_Delete(j);

	a = base();
	a.state = SLACKMSG_DENIED;
	a.decided_by = "alice";
	a.decided_at = 1700000100;
	j = build(&a, "1.2", w);
	T_EQ_INT(w->actions, 0);
	T_CHECK(strstr(w->all, "*Denied* from the command line") != NULL);
	T_CHECK(strstr(w->all, "Decided by alice") != NULL);
	cJSON_Delete(j);

	a = base();
	a.state = SLACKMSG_DENIED;
	a.decided_by = "U0CCC";
	a.decided_in_slack = 1;
	a.reason = "not during the <!here> freeze";
	j = build(&a, "1.2", w);
	T_CHECK(strstr(w->all, "Reason: not during the <!here> freeze") != NULL);
	T_EQ_INT(w->mrkdwn_untrusted, 0);
	cJSON_Delete(j);

	a = base();
	a.state = SLACKMSG_EXPIRED;
	a.decided_at = 1700003600;
	j = build(&a, "1.2", w);
	T_EQ_INT(w->actions, 0);
	T_CHECK(strstr(w->all, "*Expired*") != NULL);
	cJSON_Delete(j);

	a = base();
	a.state = SLACKMSG_APPROVED;
	a.decided_by = "<!channel>";
	a.decided_in_slack = 1; /* not a Slack id: refused, never mentioned */
	T_EQ_INT(slackmsg_approval(&a, "C1", "1.2", &(char *){ NULL }), -EINVAL);
	free(w);
}

static void slackmsg_outcome_reply(void)
{
	enum { N = 10000 };
	char *out = malloc(N), *s = NULL;
	struct walk *w = calloc(1, sizeof *w);
	cJSON *j;
	int i;

	for (i = 0; i < N; i++)
		out[i] = (char)('a' + i % 26);
	memcpy(out + N - 4, "END\n", 4);
	T_EQ_INT(slackmsg_outcome("C0001", "1.2", "deploy", "succeeded", 0, 1234, out, N, &s), 0);
	j = cJSON_Parse(s);
	T_CHECK(j != NULL);
	walk(j, w);
	T_EQ_STR(str(j, "thread_ts"), "1.2");
	T_CHECK(strstr(w->all, "Job succeeded, exit code 0, 1.234 s (deploy)") != NULL);
	T_CHECK(strstr(w->all, "END") != NULL); /* the tail is kept */
	T_CHECK(strstr(w->all, SLACKMSG_CUT) != NULL);
	T_EQ_INT(w->too_long, 0);
	cJSON_Delete(j);
	free(s);
	free(out);
	free(w);
}

static void slackmsg_modal_and_ephemeral(void)
{
	char *s = NULL;
	cJSON *j, *v, *in;

	T_EQ_INT(slackmsg_deny_modal("1.2.3", "42", "deploy", &s), 0);
	j = cJSON_Parse(s);
	v = cJSON_GetObjectItemCaseSensitive(j, "view");
	T_EQ_STR(str(j, "trigger_id"), "1.2.3");
	T_EQ_STR(str(v, "callback_id"), "deny_reason");
	T_EQ_STR(str(v, "private_metadata"), "42");
	in = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(v, "blocks"), 0);
	T_EQ_STR(str(in, "block_id"), "deny_reason");
	T_EQ_STR(str(cJSON_GetObjectItemCaseSensitive(in, "element"), "action_id"), "deny_reason");
	cJSON_Delete(j);
	free(s);
	s = NULL;
	T_EQ_INT(slackmsg_ephemeral("You are not an approver of deploy.", &s), 0);
	j = cJSON_Parse(s);
	T_EQ_STR(str(j, "response_type"), "ephemeral");
	T_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "replace_original")));
	T_EQ_STR(str(j, "text"), "You are not an approver of deploy.");
	cJSON_Delete(j);
	free(s);
}

int main(void)
{
	T_RUN(slackmsg_request_content);
	T_RUN(slackmsg_limits_held);
	T_RUN(slackmsg_bad_bytes_cleaned);
	T_RUN(slackmsg_progress_keeps_buttons);
	T_RUN(slackmsg_decided_no_buttons);
	T_RUN(slackmsg_outcome_reply);
	T_RUN(slackmsg_modal_and_ephemeral);
	return T_EXIT();
}
