/*
 * approval.c — the decision rules and the vote path (contract in
 * approval.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/randid.h"
#include "approval.h"
#include "log.h"

static const char *const names[APPROVAL_NREASONS] = {
	[APPROVAL_RECORDED] = "recorded", [APPROVAL_APPROVED] = "approved",
	[APPROVAL_DENIED] = "denied", [APPROVAL_UNKNOWN] = "unknown", [APPROVAL_CLOSED] = "closed",
	[APPROVAL_EXPIRED] = "expired", [APPROVAL_NOT_APPROVER] = "not_approver",
	[APPROVAL_SELF] = "self", [APPROVAL_TWICE] = "twice",
};

static const char *const texts[APPROVAL_NREASONS] = {
	[APPROVAL_RECORDED] = "Your approval is recorded; more approvals are needed before it runs.",
	[APPROVAL_APPROVED] = "Approved: the job is queued and runs now.",
	[APPROVAL_DENIED] = "Denied: the job will not run.",
	[APPROVAL_UNKNOWN] = "There is no such approval request (wrong id, or pruned).",
	[APPROVAL_CLOSED] = "This request was already decided; nothing changed.",
	[APPROVAL_EXPIRED] = "This request expired before it was approved; it will not run.",
	[APPROVAL_NOT_APPROVER] = "You are not one of the approvers of this hook; nothing changed.",
	[APPROVAL_SELF] = "You requested this job and may not approve it yourself; nothing changed.",
	[APPROVAL_TWICE] = "You already voted on this request; nothing changed.",
};

const char *approval_reason_name(enum approval_reason r)
{
	return (unsigned)r < APPROVAL_NREASONS ? names[r] : "error";
}

const char *approval_reason_text(enum approval_reason r)
{
	return (unsigned)r < APPROVAL_NREASONS ? texts[r] : "The vote could not be recorded.";
}

int approval_refused(enum approval_reason r)
{
	return r != APPROVAL_RECORDED && r != APPROVAL_APPROVED && r != APPROVAL_DENIED;
}

void approval_voters_listed(const struct cfg_approval *ap, struct approval_voters *out)
{
	out->ids = (const char *const *)ap->users;
	out->n = ap->nusers;
	out->unchecked = ap->ngroups > 0;
}

static int is_voter(const struct approval_voters *who, const char *voter)
{
	size_t i;

	if (who->unchecked)
		return 1;
	for (i = 0; i < who->n; i++)
		if (who->ids[i] && !strcmp(who->ids[i], voter))
			return 1;
	return 0;
}

static int already_voted(const struct store_approval *a, const char *voter)
{
	size_t i;

	for (i = 0; i < a->nvotes; i++)
		if (!strcmp(a->votes[i].voter, voter))
			return 1;
	return 0;
}

int approval_check(const struct store_approval *a, const struct approval_voters *who, const char *voter,
    enum store_vote_decision decision, int64_t now_ms, enum approval_reason *why)
{
	if (a->state != STORE_APPROVAL_PENDING)
		*why = a->state == STORE_APPROVAL_EXPIRED ? APPROVAL_EXPIRED : APPROVAL_CLOSED;
	else if (now_ms >= a->expires_ms)
		*why = APPROVAL_EXPIRED;
	else if (!is_voter(who, voter))
		*why = APPROVAL_NOT_APPROVER;
	else if (decision == STORE_VOTE_APPROVE && !a->allow_self && a->requester[0] &&
	    !strcmp(a->requester, voter))
		*why = APPROVAL_SELF;
	else if (already_voted(a, voter))
		*why = APPROVAL_TWICE;
	else
		return 0;
	return -EACCES;
}

/* Printable ASCII or UTF-8, no control bytes, 1..CAP bytes (0.. when EMPTY_OK). */
static int clean_text(const char *s, size_t cap, int empty_ok)
{
	size_t n;

	if (!s)
		return empty_ok;
	n = strnlen(s, cap + 1);
	if (n > cap || (!n && !empty_ok))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* The reason of a store kind, for an approval read after it. */
static enum approval_reason from_kind(enum store_vote_kind k, const struct store_approval *after)
{
	switch (k) {
	case STORE_VOTE_COUNTED: return APPROVAL_RECORDED;
	case STORE_VOTE_DECIDED:
		return after->state == STORE_APPROVAL_DENIED ? APPROVAL_DENIED : APPROVAL_APPROVED;
	case STORE_VOTE_LATE: return APPROVAL_EXPIRED;
	case STORE_VOTE_TWICE: return APPROVAL_TWICE;
	case STORE_VOTE_CLOSED:
	default:
		return after->state == STORE_APPROVAL_EXPIRED ? APPROVAL_EXPIRED : APPROVAL_CLOSED;
	}
}

static void log_vote(const struct approval_vote_req *rq, const struct approval_result *res)
{
	char job[24] = "";

	if (res->after.job_id > 0)
		snprintf(job, sizeof job, "%lld", (long long)res->after.job_id);
	log_event(approval_refused(res->why) ? LOG_WARN : LOG_INFO, "approval_vote",
	    "approval", rq->approval_id, "hook", res->after.hook[0] ? res->after.hook : NULL,
	    "job", job[0] ? job : NULL, "voter", rq->voter, "source", store_vote_source_name(rq->source),
	    "decision", store_vote_decision_name(rq->decision), "outcome", approval_reason_name(res->why),
	    "state", res->after.id[0] ? store_approval_state_name(res->after.state) : NULL, NULL);
}

int approval_vote(struct store *st, const struct approval_vote_req *rq, struct approval_result *res)
{
	struct store_vote_req v = { 0 };
	enum store_vote_kind kind = 0;
	int rc;

	memset(res, 0, sizeof *res);
	if (!rq || !rq->who || !clean_text(rq->voter, STORE_VOTER_MAX, 0) ||
	    !clean_text(rq->reason, STORE_REASON_MAX, 1) || !rq->approval_id ||
	    (rq->decision != STORE_VOTE_APPROVE && rq->decision != STORE_VOTE_DENY))
		return -EINVAL;
	/* Rules 1-6 on the record as it is now. */
	rc = store_approval_get(st, rq->approval_id, &res->after);
	if (rc == -ENOENT) {
		memset(&res->after, 0, sizeof res->after);
		res->why = APPROVAL_UNKNOWN;
		log_vote(rq, res);
		return 0;
	}
	if (rc)
		return rc;
	if (approval_check(&res->after, rq->who, rq->voter, rq->decision, rq->now_ms, &res->why) != 0 &&
	    res->why != APPROVAL_EXPIRED) {
		log_vote(rq, res);
		return 0;
	}
	/* The store checks the state, the expiry and a second vote again
	 * inside its transaction (another voter may have come between), and
	 * marks an expired one expired. */
	store_approval_clear(&res->after);
	v.approval_id = rq->approval_id;
	v.voter = rq->voter;
	v.source = rq->source;
	v.decision = rq->decision;
	v.reason = rq->reason && *rq->reason ? rq->reason : NULL;
	v.now_ms = rq->now_ms;
	rc = store_approval_vote(st, &v, &kind, &res->after);
	if (rc == -ENOENT) { /* pruned in between */
		memset(&res->after, 0, sizeof res->after);
		res->why = APPROVAL_UNKNOWN;
		log_vote(rq, res);
		return 0;
	}
	if (rc)
		return rc;
	res->why = from_kind(kind, &res->after);
	log_vote(rq, res);
	return 0;
}

void approval_result_clear(struct approval_result *res)
{
	if (res)
		store_approval_clear(&res->after);
}

int approval_request(const struct cfg_approval *ap, const cJSON *claims, int64_t now_ms,
    char id[STORE_APPROVAL_ID_LEN + 1], char requester[STORE_VOTER_MAX + 1],
    struct store_approval_req *out)
{
	const cJSON *c = NULL;

	memset(out, 0, sizeof *out);
	requester[0] = 0;
	if (ap->requester_claim && claims)
		c = cJSON_GetObjectItemCaseSensitive(claims, ap->requester_claim);
	if (c) {
		if (!cJSON_IsString(c) || !clean_text(c->valuestring, STORE_VOTER_MAX, 0) ||
		    strchr(c->valuestring, ' '))
			return -EINVAL;
		snprintf(requester, STORE_VOTER_MAX + 1, "%s", c->valuestring);
	} else if (ap->requester_claim && !ap->allow_self) {
		return -EACCES;
	}
	/* A random id: a guessed one names nothing. randid falls back to a
	 * fixed byte only when the kernel has no randomness, which two
	 * approvals would then share: their insert fails, nothing is lost. */
	randid_hex(id, STORE_APPROVAL_ID_LEN / 2, 0);
	out->id = id;
	out->requester = requester[0] ? requester : NULL;
	out->required = ap->required;
	out->allow_self = ap->allow_self;
	out->expires_ms = now_ms + (int64_t)ap->timeout_s * 1000;
	out->channel = ap->channel;
	return 0;
}
