/*
 * runner_approval.c — the approval rules (approval.h): each rule's refusal
 * and its reason, the order they are checked in, the voters the config
 * names, the request a delivery creates (requester from the JWT claim), and
 * the whole vote path against a real SQLite store: a non-approver and the
 * requester refused with nothing written, N of M, a deny, an expired one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../runner/approval.h"
#include "../../runner/log.h"
#include "t.h"

#define NOW 100000

static const char *const listed[] = { "U1", "U2", "UREQ" };
static const struct approval_voters who = { listed, 3, 0 };

static void pending(struct store_approval *a)
{
	memset(a, 0, sizeof *a);
	snprintf(a->id, sizeof a->id, "%s", "0123456789abcdef0123456789abcdef");
	snprintf(a->requester, sizeof a->requester, "UREQ");
	a->state = STORE_APPROVAL_PENDING;
	a->required = 2;
	a->expires_ms = NOW + 1000;
}

static void test_rules_each_reason(void)
{
	struct store_approval a;
	struct store_vote v = { .voter = "U1", .decision = STORE_VOTE_APPROVE };
	enum approval_reason why = APPROVAL_NREASONS;

	pending(&a);
	T_EQ_INT(approval_check(&a, &who, "U1", STORE_VOTE_APPROVE, NOW, &why), 0);
	T_EQ_INT(approval_check(&a, &who, "U9", STORE_VOTE_APPROVE, NOW, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_NOT_APPROVER);
	T_EQ_INT(approval_check(&a, &who, "U9", STORE_VOTE_DENY, NOW, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_NOT_APPROVER); /* nor deny */
	T_EQ_INT(approval_check(&a, &who, "UREQ", STORE_VOTE_APPROVE, NOW, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_SELF);
	T_EQ_INT(approval_check(&a, &who, "UREQ", STORE_VOTE_DENY, NOW, &why), 0); /* may withdraw */
	a.allow_self = 1;
	T_EQ_INT(approval_check(&a, &who, "UREQ", STORE_VOTE_APPROVE, NOW, &why), 0);
	a.allow_self = 0;
	T_EQ_INT(approval_check(&a, &who, "U1", STORE_VOTE_APPROVE, NOW + 1000, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_EXPIRED);
	T_EQ_INT(approval_check(&a, &who, "U1", STORE_VOTE_APPROVE, NOW + 999, &why), 0);
	a.votes = &v;
	a.nvotes = 1;
	T_EQ_INT(approval_check(&a, &who, "U1", STORE_VOTE_DENY, NOW, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_TWICE);
	T_EQ_INT(approval_check(&a, &who, "U2", STORE_VOTE_APPROVE, NOW, &why), 0);
	a.state = STORE_APPROVAL_DENIED;
	T_EQ_INT(approval_check(&a, &who, "U2", STORE_VOTE_APPROVE, NOW, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_CLOSED);
	a.state = STORE_APPROVAL_APPROVED;
	T_EQ_INT(approval_check(&a, &who, "U2", STORE_VOTE_APPROVE, NOW, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_CLOSED);
	a.state = STORE_APPROVAL_EXPIRED;
	T_EQ_INT(approval_check(&a, &who, "U2", STORE_VOTE_APPROVE, NOW, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_EXPIRED);
}

/* Decided beats expired beats not an approver beats self beats twice. */
static void test_rules_order(void)
{
	struct store_approval a;
	struct store_vote v = { .voter = "UREQ", .decision = STORE_VOTE_DENY };
	enum approval_reason why;

	pending(&a);
	a.votes = &v;
	a.nvotes = 1;
	T_EQ_INT(approval_check(&a, &who, "UREQ", STORE_VOTE_APPROVE, NOW, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_SELF);
	T_EQ_INT(approval_check(&a, &who, "UREQ", STORE_VOTE_APPROVE, NOW + 5000, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_EXPIRED);
	a.state = STORE_APPROVAL_DENIED;
	T_EQ_INT(approval_check(&a, &who, "U9", STORE_VOTE_APPROVE, NOW + 5000, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_CLOSED);
}

static void test_voters_from_config(void)
{
	char *users[] = { "U1", "U2" }, *groups[] = { "S1" };
	struct cfg_approval ap = { .enabled = 1, .users = users, .nusers = 2, .required = 1 };
	struct approval_voters w;
	struct store_approval a;
	enum approval_reason why;

	pending(&a);
	approval_voters_listed(&ap, &w);
	T_EQ_INT(w.unchecked, 0);
	T_EQ_INT(w.n, 2);
	T_EQ_INT(approval_check(&a, &w, "U3", STORE_VOTE_APPROVE, NOW, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_NOT_APPROVER);
	ap.groups = groups;
	ap.ngroups = 1;
	approval_voters_listed(&ap, &w);
	T_EQ_INT(w.unchecked, 1); /* group members: only Slack can tell */
	T_EQ_INT(approval_check(&a, &w, "U3", STORE_VOTE_APPROVE, NOW, &why), 0);
	T_EQ_INT(approval_check(&a, &w, "UREQ", STORE_VOTE_APPROVE, NOW, &why), -EACCES);
	T_EQ_INT(why, APPROVAL_SELF); /* self-approval is refused all the same */
}

static void test_reason_words(void)
{
	int r;

	for (r = 0; r < APPROVAL_NREASONS; r++) {
		T_CHECK(strcmp(approval_reason_name((enum approval_reason)r), "error") != 0);
		T_CHECK(strlen(approval_reason_text((enum approval_reason)r)) > 10);
	}
	T_EQ_STR(approval_reason_name(APPROVAL_SELF), "self");
	T_EQ_STR(approval_reason_name(APPROVAL_NREASONS), "error");
	T_EQ_INT(approval_refused(APPROVAL_RECORDED), 0);
	T_EQ_INT(approval_refused(APPROVAL_APPROVED), 0);
	T_EQ_INT(approval_refused(APPROVAL_DENIED), 0);
	T_EQ_INT(approval_refused(APPROVAL_TWICE), 1);
	T_EQ_INT(approval_refused(APPROVAL_UNKNOWN), 1);
}

static void test_request_requester(void)
{
	struct cfg_approval ap = { .enabled = 1, .required = 2, .timeout_s = 60,
		.requester_claim = "slack_user", .channel = "C1" };
	struct store_approval_req rq;
	char id[STORE_APPROVAL_ID_LEN + 1], id2[STORE_APPROVAL_ID_LEN + 1], req[STORE_VOTER_MAX + 1];
	cJSON *c = cJSON_Parse("{\"slack_user\":\"U7\",\"n\":5,\"bad\":\"a\\nb\"}");

	T_EQ_INT(approval_request(&ap, c, 1000, id, req, &rq), 0);
	T_EQ_STR(rq.requester, "U7");
	T_EQ_INT(rq.required, 2);
	T_EQ_INT(rq.expires_ms, 61000);
	T_EQ_STR(rq.channel, "C1");
	T_EQ_INT(strlen(id), STORE_APPROVAL_ID_LEN);
	T_CHECK(strspn(id, "0123456789abcdef") == STORE_APPROVAL_ID_LEN);
	T_EQ_INT(approval_request(&ap, c, 1000, id2, req, &rq), 0);
	T_CHECK(strcmp(id, id2) != 0);
	ap.requester_claim = "n"; /* not a string */
	T_EQ_INT(approval_request(&ap, c, 1000, id, req, &rq), -EINVAL);
	ap.requester_claim = "bad"; /* a control byte */
	T_EQ_INT(approval_request(&ap, c, 1000, id, req, &rq), -EINVAL);
	ap.requester_claim = "absent"; /* needed and absent: cannot be checked */
	T_EQ_INT(approval_request(&ap, c, 1000, id, req, &rq), -EACCES);
	ap.allow_self = 1; /* not needed: unknown requester */
	T_EQ_INT(approval_request(&ap, c, 1000, id, req, &rq), 0);
	T_CHECK(rq.requester == NULL);
	ap.requester_claim = NULL;
	ap.allow_self = 0;
	T_EQ_INT(approval_request(&ap, NULL, 1000, id, req, &rq), 0);
	T_CHECK(rq.requester == NULL);
	cJSON_Delete(c);
}

/* ---- the whole path on a real store -------------------------------------- */

static char g_path[64];

static struct store *open_store(void)
{
	struct store *s = NULL;
	struct store_config sc = { .sqlite_path = g_path };

	T_EQ_INT(store_open(&sc, &s, 0, NULL, NULL), 0);
	return s;
}

static int64_t claim(struct store *s, const char *key, const struct store_approval_req *ar)
{
	static const unsigned char body[] = "{}";
	struct store_claim_req rq = {
		.hook = "h", .key = key,
		.body_sha256 = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
		.body = body, .len = 2, .now_ms = NOW, .initial_state = JOBSTATE_PENDING_APPROVAL,
		.approval = ar,
	};
	struct store_claim_res r;

	T_EQ_INT(store_claim_req(s, &rq, &r), 0);
	T_EQ_INT(r.kind, STORE_NEW);
	return r.job_id;
}

static enum approval_reason cast(struct store *s, const char *id, const char *voter,
    enum store_vote_decision d, int64_t now, enum store_approval_state *state)
{
	struct approval_vote_req rq = { id, voter, STORE_VOTE_SLACK, d, d == STORE_VOTE_DENY ? "risky" : NULL,
		now, &who };
	struct approval_result res;
	enum approval_reason why;

	T_EQ_INT(approval_vote(s, &rq, &res), 0);
	why = res.why;
	if (state)
		*state = res.after.state;
	approval_result_clear(&res);
	return why;
}

static int nvotes(struct store *s, const char *id)
{
	struct store_approval a;
	int n = -1;

	if (store_approval_get(s, id, &a) == 0)
		n = (int)a.nvotes;
	store_approval_clear(&a);
	return n;
}

static void test_vote_path(void)
{
	struct cfg_approval ap = { .enabled = 1, .required = 2, .timeout_s = 10,
		.requester_claim = "u" };
	struct store_approval_req ar;
	char id[STORE_APPROVAL_ID_LEN + 1], id2[STORE_APPROVAL_ID_LEN + 1], req[STORE_VOTER_MAX + 1];
	char req2[STORE_VOTER_MAX + 1];
	cJSON *c = cJSON_Parse("{\"u\":\"UREQ\"}");
	enum store_approval_state st;
	struct store *s = open_store();
	struct approval_result res;
	struct approval_vote_req bad = { id, "U1\n", STORE_VOTE_CLI, STORE_VOTE_APPROVE, NULL, NOW, &who };
	int64_t job;

	if (!s)
		return;
	T_EQ_INT(approval_request(&ap, c, NOW, id, req, &ar), 0);
	job = claim(s, "k1", &ar);
	T_EQ_INT(cast(s, id, "U9", STORE_VOTE_APPROVE, NOW + 1, NULL), APPROVAL_NOT_APPROVER);
	T_EQ_INT(cast(s, id, "UREQ", STORE_VOTE_APPROVE, NOW + 1, NULL), APPROVAL_SELF);
	T_EQ_INT(nvotes(s, id), 0); /* refusals write nothing */
	T_EQ_INT(cast(s, id, "U1", STORE_VOTE_APPROVE, NOW + 2, &st), APPROVAL_RECORDED);
	T_EQ_INT(st, STORE_APPROVAL_PENDING);
	T_EQ_INT(cast(s, id, "U1", STORE_VOTE_APPROVE, NOW + 3, NULL), APPROVAL_TWICE);
	T_EQ_INT(nvotes(s, id), 1);
	T_EQ_INT(cast(s, id, "U2", STORE_VOTE_APPROVE, NOW + 4, &st), APPROVAL_APPROVED);
	T_EQ_INT(st, STORE_APPROVAL_APPROVED);
	{
		struct store_job j;
		T_EQ_INT(store_job_get(s, job, &j), 0);
		T_EQ_INT(j.state, JOBSTATE_QUEUED);
		store_job_clear(&j);
	}
	T_EQ_INT(cast(s, id, "UREQ", STORE_VOTE_DENY, NOW + 5, NULL), APPROVAL_CLOSED);
	T_EQ_INT(cast(s, "ffffffffffffffffffffffffffffffff", "U1", STORE_VOTE_APPROVE, NOW, NULL),
	    APPROVAL_UNKNOWN);
	T_EQ_INT(cast(s, "../etc", "U1", STORE_VOTE_APPROVE, NOW, NULL), APPROVAL_UNKNOWN);
	T_EQ_INT(approval_vote(s, &bad, &res), -EINVAL);
	/* a deny, and an expired one */
	T_EQ_INT(approval_request(&ap, c, NOW, id2, req2, &ar), 0);
	claim(s, "k2", &ar);
	T_EQ_INT(cast(s, id2, "UREQ", STORE_VOTE_DENY, NOW + 1, &st), APPROVAL_DENIED);
	T_EQ_INT(st, STORE_APPROVAL_DENIED);
	T_EQ_INT(approval_request(&ap, c, NOW, id2, req2, &ar), 0);
	claim(s, "k3", &ar);
	T_EQ_INT(cast(s, id2, "U1", STORE_VOTE_APPROVE, NOW + 10000, &st), APPROVAL_EXPIRED);
	T_EQ_INT(st, STORE_APPROVAL_EXPIRED);
	T_EQ_INT(nvotes(s, id2), 0);
	store_close(s);
	cJSON_Delete(c);
}

int main(void)
{
	char dir[] = "/tmp/runner_approval.XXXXXX";

	log_setup(LOG_ERROR, LOG_TEXT);
	if (!mkdtemp(dir)) {
		printf("FAIL mkdtemp\n");
		return 1;
	}
	snprintf(g_path, sizeof g_path, "%s/s.db", dir);
	T_RUN(test_rules_each_reason);
	T_RUN(test_rules_order);
	T_RUN(test_voters_from_config);
	T_RUN(test_reason_words);
	T_RUN(test_request_requester);
	T_RUN(test_vote_path);
	unlink(g_path);
	{
		char p[96];
		snprintf(p, sizeof p, "%s-wal", g_path);
		unlink(p);
		snprintf(p, sizeof p, "%s-shm", g_path);
		unlink(p);
	}
	rmdir(dir);
	return T_EXIT();
}
