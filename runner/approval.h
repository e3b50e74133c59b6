/*
 * approval.c — people's approval of a hook's job before it runs: the
 * decision rules and the one path every vote takes, whoever casts it (a
 * Slack button on the daemon, `webhook-runner approvals approve|deny` on the
 * CLI). Owns the rules, the reasons a vote is refused (enum approval_reason,
 * with a sentence for the clicker's ephemeral reply or the CLI's message),
 * the approval record a delivery's claim creates (id, requester from the
 * JWT claim, expiry), and the log line of each vote.
 *
 * The rules, checked in this order:
 *   1. the approval exists                          (APPROVAL_UNKNOWN)
 *   2. it is still pending                          (APPROVAL_CLOSED)
 *   3. it has not expired (now < expires_ms)        (APPROVAL_EXPIRED)
 *   4. the voter is an approver: a listed user, or a member of a listed
 *      group as the caller resolved it               (APPROVAL_NOT_APPROVER)
 *   5. an approve vote is not the requester's own, unless the hook allows
 *      self-approval (the requester may always deny: withdraw) (APPROVAL_SELF)
 *   6. the voter has not voted on it before         (APPROVAL_TWICE)
 *   7. approve votes reaching `required` approve it (the job is queued);
 *      one deny decides at once (the job never runs).
 * 1-6 are checked here against the record read first; the store checks 2,
 * 3, 6 and applies 7 again inside the vote's transaction
 * (store_approval_vote), so two people voting at once (two daemons, a CLI)
 * still make one decision.
 *
 * Errors: 0 or a negative errno of the store; why a vote was refused
 * travels in enum approval_reason, never as an errno.
 */
#ifndef APPROVAL_H
#define APPROVAL_H
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cfgtypes.h"
#include "store.h"

enum approval_reason {
	APPROVAL_RECORDED = 0, /* the vote counts; more approvals are needed */
	APPROVAL_APPROVED,     /* this vote approved it: the job is queued */
	APPROVAL_DENIED,       /* this vote denied it: the job never runs */
	APPROVAL_UNKNOWN,      /* no such approval */
	APPROVAL_CLOSED,       /* already approved, denied or expired */
	APPROVAL_EXPIRED,      /* past its expiry (now marked expired) */
	APPROVAL_NOT_APPROVER, /* the voter is not one of its approvers */
	APPROVAL_SELF,         /* the requester may not approve their own request */
	APPROVAL_TWICE,        /* this voter already voted on it */
	APPROVAL_NREASONS
};

/* A short name for logs and JSON ("recorded", "approved", "denied",
 * "unknown", "closed", "expired", "not_approver", "self", "twice"), and a
 * sentence for the person who voted. Static storage; "error" / a generic
 * sentence for a value that is not a reason. */
const char *approval_reason_name(enum approval_reason r);
const char *approval_reason_text(enum approval_reason r);
/* 1 when R refuses the vote (nothing was recorded), 0 when it counted. */
int approval_refused(enum approval_reason r);

/* Who may vote: the hook's listed users and the members of its groups, as
 * the caller resolved them (the Slack side asks usergroups.users.list).
 * UNCHECKED = 1 skips rule 4: an operator on the CLI with groups configured,
 * whose members only Slack can tell (the store file's access is then the
 * authority; the vote is recorded with source "cli"). */
struct approval_voters {
	const char *const *ids;
	size_t n;
	int unchecked;
};

/* The voters the config alone names for AP: its listed users, checked
 * when it has no groups, unchecked when it has some. Points into AP. */
void approval_voters_listed(const struct cfg_approval *ap, struct approval_voters *out);

/* Rules 2-6 for VOTER's DECISION on A (as read from the store) at NOW_MS,
 * with WHO the allowed voters. 0 when allowed, -EACCES with *WHY set when
 * refused. Pure: nothing is read or written. */
int approval_check(const struct store_approval *a, const struct approval_voters *who, const char *voter,
    enum store_vote_decision decision, int64_t now_ms, enum approval_reason *why);

/* One vote, by anyone. */
struct approval_vote_req {
	const char *approval_id;
	const char *voter;                   /* Slack user id, or the CLI's --as */
	enum store_vote_source source;
	enum store_vote_decision decision;
	const char *reason;                  /* deny reason, or NULL */
	int64_t now_ms;
	const struct approval_voters *who;   /* the hook's voters (see above) */
};

struct approval_result {
	enum approval_reason why;
	struct store_approval after; /* the approval after the vote (id "" when unknown) */
};

/* Apply the rules, then cast the vote through store_approval_vote, and log
 * it ("approval_vote", with the outcome). 0 with RES->why (refused or not)
 * and RES->after filled (approval_result_clear frees it), or the store's
 * negative errno (nothing decided). -EINVAL for a voter or reason over the
 * store's sizes or with control characters. */
int approval_vote(struct store *st, const struct approval_vote_req *rq, struct approval_result *res);
void approval_result_clear(struct approval_result *res);

/* The approval a delivery to a hook with AP creates: a new random id into
 * ID, the requester (AP->requester_claim of CLAIMS, NULL claims or no such
 * claim: unknown) into REQUESTER, and *OUT pointing at both, expiring
 * AP->timeout_s after NOW_MS. 0, or -EINVAL when the requester claim is
 * there but is not a string of 1..STORE_VOTER_MAX printable bytes, or
 * -EACCES when AP needs a requester (requester_claim set, self-approval not
 * allowed) and the claim is absent: such a request cannot be checked. */
int approval_request(const struct cfg_approval *ap, const cJSON *claims, int64_t now_ms,
    char id[STORE_APPROVAL_ID_LEN + 1], char requester[STORE_VOTER_MAX + 1],
    struct store_approval_req *out);
#endif
