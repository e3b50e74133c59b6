/*
 * route_slack.c — Slack's routes (contract in route_slack.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../common/clock.h"
#include "approval.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "route_slack.h"
#include "slack_api.h"
#include "slack_msg.h"
#include "slack_outbox.h"
#include "slack_payload.h"
#include "slack_seen.h"
#include "slack_sig.h"

static struct slackseen *bodies, *events;
static pthread_once_t seen_once = PTHREAD_ONCE_INIT;

static void seen_init(void)
{
	/* a body is refused as stale once its timestamp is out of the window,
	 * so it need not be remembered for longer */
	if (slackseen_new(2 * SLACKSIG_WINDOW_S, &bodies) || slackseen_new(3600, &events))
		bodies = events = NULL;
}

/* The whole body, at most SLACKPL_BODY_MAX bytes, NUL-terminated. */
static int read_body(const struct intake_req *rq, char **out, size_t *len)
{
	long long cl = rq->content_length;
	size_t have = 0, size = cl >= 0 ? (size_t)cl : 16384;
	char *buf, *nb;
	int n;

	if (cl > SLACKPL_BODY_MAX)
		return -EFBIG;
	if (size > SLACKPL_BODY_MAX)
		size = SLACKPL_BODY_MAX;
	if (!(buf = malloc(size + 1)))
		return -ENOMEM;
	for (;;) {
		if (have == size) {
			if (cl >= 0 || size > SLACKPL_BODY_MAX)
				break;
			size = size * 2 > SLACKPL_BODY_MAX + 1 ? SLACKPL_BODY_MAX + 1 : size * 2;
			if (size == have || !(nb = realloc(buf, size + 1))) {
				free(buf);
				return size == have ? -EFBIG : -ENOMEM;
			}
			buf = nb;
		}
		if ((n = rq->read(rq->io, buf + have, size - have)) < 0) {
			free(buf);
			return -EIO;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have > SLACKPL_BODY_MAX || (cl >= 0 && have != (size_t)cl)) {
		free(buf);
		return have > SLACKPL_BODY_MAX ? -EFBIG : -EIO;
	}
	buf[have] = '\0';
	*out = buf;
	*len = have;
	return 0;
}

/* Method, config, signature, body: 0 with *BODY when the request may be
 * parsed, else A is answered and *OC says why. REPLAY: refuse a body
 * already taken. */
static int admit(const struct config *cfg, const struct intake_req *rq, struct intake_answer *a,
    int replay, char **body, size_t *len, enum metrics_slack_outcome *oc)
{
	const char *ts = intake_header(rq, SLACKSIG_HDR_TS), *sig = intake_header(rq, SLACKSIG_HDR_SIG);
	enum slacksig_reason why = SLACKSIG_ERROR;
	int64_t now = clock_wall_ms() / 1000;
	int rc;

	intake_answer_hook(a, "-");
	a->uncounted_hook = 1;
	a->verify = "-";
	*oc = METRICS_SLACK_REJECTED;
	if (strcmp(rq->method, "POST") != 0) {
		intake_answer_fail(a, rq, 405, "Allow: POST\r\n", "method not allowed");
		return -1;
	}
	if (!cfg->slack.present || !cfg->slack.signing_secret) {
		intake_answer_fail(a, rq, 404, NULL, "Slack is not configured");
		return -1;
	}
	if (!ts || !sig) { /* refused before the body is read */
		a->verify = "slack_signature_missing";
		*oc = METRICS_SLACK_BAD_SIGNATURE;
		a->close = 1;
		intake_answer_fail(a, rq, 401, NULL, "missing Slack signature");
		return -1;
	}
	if (rq->content_length > SLACKPL_BODY_MAX) {
		a->close = 1;
		intake_answer_fail(a, rq, 413, NULL, "body too large");
		return -1;
	}
	if (rq->go_ahead)
		rq->go_ahead(rq->io);
	if ((rc = read_body(rq, body, len)) != 0) {
		*oc = rc == -ENOMEM ? METRICS_SLACK_ERROR : METRICS_SLACK_REJECTED;
		a->close = 1;
		intake_answer_fail(a, rq, rc == -EFBIG ? 413 : rc == -ENOMEM ? 500 : 400, NULL,
		    rc == -EFBIG ? "body too large" : rc == -ENOMEM ? "out of memory" : "body not read");
		return -1;
	}
	a->body_read = 1;
	if (slacksig_verify((const unsigned char *)cfg->slack.signing_secret,
		strlen(cfg->slack.signing_secret), ts, sig, (const unsigned char *)*body, *len, now,
		&why) != 0) {
		static const char *const verify_words[SLACKSIG_NREASONS] = {
			[SLACKSIG_OK] = "ok", [SLACKSIG_MISSING] = "slack_signature_missing",
			[SLACKSIG_MALFORMED] = "slack_signature_malformed",
			[SLACKSIG_STALE] = "slack_signature_stale",
			[SLACKSIG_MISMATCH] = "slack_signature_mismatch",
			[SLACKSIG_ERROR] = "slack_signature_error",
		};
		a->verify = (unsigned)why < SLACKSIG_NREASONS ? verify_words[why] : "slack_signature_error";
		*oc = why == SLACKSIG_STALE ? METRICS_SLACK_STALE : METRICS_SLACK_BAD_SIGNATURE;
		intake_answer_fail(a, rq, 401, NULL, "invalid Slack signature");
		goto refused;
	}
	pthread_once(&seen_once, seen_init);
	if (replay) {
		char key[SLACKSEEN_KEY_MAX + 1];
		snprintf(key, sizeof key, "%.12s:%.67s", ts, sig);
		if (!bodies || slackseen_add(bodies, key, now) != 0) {
			a->verify = "slack_replayed";
			*oc = bodies ? METRICS_SLACK_REPLAYED : METRICS_SLACK_ERROR;
			intake_answer_fail(a, rq, 401, NULL, "this Slack request was already taken");
			goto refused;
		}
	}
	a->verify = "ok";
	return 0;
refused:
	free(*body);
	*body = NULL;
	return -1;
}

/* An empty 200: what Slack wants for a click taken. */
static void ack(struct intake_answer *a)
{
	intake_answer_set(a, 200, NULL, "");
}

/* Tell the clicker why nothing changed (ephemeral, via the outbox). */
static void tell(const struct intake_env *env, const struct slackpl *p, const char *text,
    enum metrics_slack_outcome *oc)
{
	*oc = METRICS_SLACK_REFUSED;
	if (p->response_url[0] && env->slack)
		slackob_ephemeral(env->slack, p->response_url, text);
	log_event(LOG_INFO, "slack_click_refused", "user", p->user_id, "approval", p->value[0] ?
	    p->value : p->private_metadata, "why", text, NULL);
}

/* Who may vote on AP, as far as USER goes: the listed users, and USER when
 * a configured group has them. IDS (AP's users + USER) is the caller's,
 * AP->nusers + 1 long. 0, or -EAGAIN when a group could not be checked
 * (and USER is not listed). */
static int voters(const struct intake_env *env, const struct cfg_approval *ap, const char *user,
    const char **ids, struct approval_voters *who)
{
	size_t i;
	int listed = 0, unknown = 0;

	for (i = 0; i < ap->nusers; i++) {
		ids[i] = ap->users[i];
		listed |= !strcmp(ap->users[i], user);
	}
	who->ids = ids;
	who->n = ap->nusers;
	who->unchecked = 0;
	for (i = 0; !listed && i < ap->ngroups; i++) {
		int r = env->slack ? slackapi_in_group(slackob_quick(env->slack), ap->groups[i], user,
		    clock_wall_ms(), NULL, 0) : -EAGAIN;
		if (r == 1) {
			ids[who->n++] = user;
			return 0;
		}
		unknown |= r < 0;
	}
	return listed || !unknown ? 0 : -EAGAIN;
}

/* Cast USER's vote. 0 and RES, or A answered (500) and -1; *OC says
 * which (voted, decided, refused: the caller tells why, or error). */
static int vote(const struct intake_env *env, const struct intake_req *rq, struct intake_answer *a,
    const char *id, const char *user, const struct approval_voters *who,
    enum store_vote_decision d, const char *reason, struct approval_result *res,
    enum metrics_slack_outcome *oc)
{
	struct approval_vote_req v = {
		.approval_id = id, .voter = user, .source = STORE_VOTE_SLACK, .decision = d,
		.reason = reason && reason[0] ? reason : NULL, .now_ms = clock_wall_ms(), .who = who,
	};
	int rc;

	memset(res, 0, sizeof *res);
	if ((rc = approval_vote(env->store, &v, res)) != 0) {
		log_event(LOG_ERROR, "store_error", "what", "Slack vote", "approval", id,
		    "error", strerror(-rc), NULL);
		intake_answer_fail(a, rq, 500, NULL, "the vote could not be stored");
		*oc = METRICS_SLACK_ERROR;
		return -1;
	}
	*oc = approval_refused(res->why) ? METRICS_SLACK_REFUSED :
	    res->why == APPROVAL_RECORDED ? METRICS_SLACK_VOTED : METRICS_SLACK_DECIDED;
	if (!approval_refused(res->why) && env->slack)
		slackob_wake(env->slack);
	if (res->why == APPROVAL_APPROVED && env->queue)
		queue_wake(env->queue); /* its job is queued: don't wait for the next look */
	return 0;
}

/* The approval ID and the approval section of its hook; 0, or the click is
 * told why not and -1. */
static int find(const struct intake_env *env, const struct config *cfg, const struct slackpl *p,
    const char *id, struct store_approval *ap, const struct cfg_approval **cap,
    enum metrics_slack_outcome *oc)
{
	const struct cfg_hook *h;

	if (store_approval_get(env->store, id, ap) != 0) {
		tell(env, p, approval_reason_text(APPROVAL_UNKNOWN), oc);
		return -1;
	}
	if (!(h = config_hook(cfg, ap->hook)) || !h->approval.enabled) {
		tell(env, p, "This hook no longer asks for approval in the configuration; "
		    "decide it with `webhook-runner approvals`.", oc);
		return -1;
	}
	*cap = &h->approval;
	return 0;
}

static void deny_click(const struct intake_env *env, const struct config *cfg,
    const struct intake_req *rq, struct intake_answer *a, const struct slackpl *p,
    const struct store_approval *ap, const struct approval_voters *who,
    enum metrics_slack_outcome *oc)
{
	struct slackapi_answer ans = { 0 };
	struct approval_result res;
	enum approval_reason why = APPROVAL_RECORDED;
	char *modal = NULL;

	if (approval_check(ap, who, p->user_id, STORE_VOTE_DENY, clock_wall_ms(), &why) != 0) {
		tell(env, p, approval_reason_text(why), oc);
		ack(a);
		return;
	}
	if (p->trigger_id[0] && env->slack &&
	    slackmsg_deny_modal(p->trigger_id, ap->id, ap->hook, &modal) == 0 &&
	    slackapi_call(slackob_quick(env->slack), "views.open", modal, &ans) == 0 &&
	    ans.result == SLACKAPI_OK) {
		ack(a); /* the vote comes with the modal's submission */
		*oc = METRICS_SLACK_MODAL;
		goto out;
	}
	log_event(LOG_WARN, "slack_modal_failed", "approval", ap->id, "error",
	    ans.error[0] ? ans.error : "no trigger", "note", "denied without a reason", NULL);
	if (vote(env, rq, a, ap->id, p->user_id, who, STORE_VOTE_DENY, NULL, &res, oc) == 0) {
		if (approval_refused(res.why))
			tell(env, p, approval_reason_text(res.why), oc);
		ack(a);
		approval_result_clear(&res);
	}
out:
	(void)cfg;
	slackapi_answer_clear(&ans);
	free(modal);
}

static void block_actions(const struct intake_env *env, const struct config *cfg,
    const struct intake_req *rq, struct intake_answer *a, const struct slackpl *p,
    enum metrics_slack_outcome *oc)
{
	struct store_approval ap;
	const struct cfg_approval *cap = NULL;
	struct approval_voters who;
	struct approval_result res;
	const char **ids = NULL;
	int approve = !strcmp(p->action_id, "approve");

	memset(&ap, 0, sizeof ap);
	if (!approve && strcmp(p->action_id, "deny") != 0) {
		ack(a);
		return;
	}
	if (find(env, cfg, p, p->value, &ap, &cap, oc) != 0) {
		ack(a);
		goto out;
	}
	if (!(ids = calloc(cap->nusers + 1, sizeof *ids))) {
		intake_answer_fail(a, rq, 500, NULL, "out of memory");
		*oc = METRICS_SLACK_ERROR;
		goto out;
	}
	if (voters(env, cap, p->user_id, ids, &who) != 0) {
		tell(env, p, "Your membership of the approver groups cannot be checked with Slack "
		    "now; try again in a moment, or ask an operator to use `webhook-runner approvals`.", oc);
		ack(a);
		goto out;
	}
	if (!approve) {
		deny_click(env, cfg, rq, a, p, &ap, &who, oc);
		goto out;
	}
	if (vote(env, rq, a, ap.id, p->user_id, &who, STORE_VOTE_APPROVE, NULL, &res, oc) == 0) {
		if (approval_refused(res.why))
			tell(env, p, approval_reason_text(res.why), oc);
		ack(a);
		approval_result_clear(&res);
	}
out:
	free(ids);
	store_approval_clear(&ap);
}

/* The modal's answer: close it, or show ERROR beside the reason field. */
static void view_answer(struct intake_answer *a, const char *error)
{
	cJSON *j = cJSON_CreateObject(), *e;
	char *s = NULL;

	if (!error) {
		ack(a);
	} else if (j && cJSON_AddStringToObject(j, "response_action", "errors") &&
	    (e = cJSON_AddObjectToObject(j, "errors")) &&
	    cJSON_AddStringToObject(e, SLACKPL_REASON_BLOCK, error) &&
	    (s = cJSON_PrintUnformatted(j))) {
		intake_answer_set(a, 200, NULL, s);
	} else {
		ack(a);
	}
	free(s);
	cJSON_Delete(j);
}

static void view_submission(const struct intake_env *env, const struct config *cfg,
    const struct intake_req *rq, struct intake_answer *a, const struct slackpl *p,
    enum metrics_slack_outcome *oc)
{
	struct store_approval ap;
	const struct cfg_approval *cap = NULL;
	struct approval_voters who;
	struct approval_result res;
	const char **ids = NULL;

	memset(&ap, 0, sizeof ap);
	if (strcmp(p->callback_id, SLACKPL_VIEW_CALLBACK) != 0) {
		ack(a);
		return;
	}
	if (find(env, cfg, p, p->private_metadata, &ap, &cap, oc) != 0) {
		view_answer(a, approval_reason_text(APPROVAL_UNKNOWN));
		goto out;
	}
	if (!(ids = calloc(cap->nusers + 1, sizeof *ids))) {
		intake_answer_fail(a, rq, 500, NULL, "out of memory");
		*oc = METRICS_SLACK_ERROR;
		goto out;
	}
	if (voters(env, cap, p->user_id, ids, &who) != 0) {
		view_answer(a, "Your group membership cannot be checked with Slack now; try again.");
		*oc = METRICS_SLACK_REFUSED;
		goto out;
	}
	if (vote(env, rq, a, ap.id, p->user_id, &who, STORE_VOTE_DENY, p->reason, &res, oc) == 0) {
		view_answer(a, approval_refused(res.why) ? approval_reason_text(res.why) : NULL);
		if (approval_refused(res.why))
			log_event(LOG_INFO, "slack_click_refused", "user", p->user_id, "approval", ap.id,
			    "why", approval_reason_name(res.why), NULL);
		approval_result_clear(&res);
	}
out:
	free(ids);
	store_approval_clear(&ap);
}

void route_slack_interactions(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a)
{
	enum slackpl_reason why = SLACKPL_ERROR;
	enum metrics_slack_outcome oc = METRICS_SLACK_IGNORED;
	const struct config *cfg;
	struct slackpl *p = NULL;
	char *body = NULL;
	size_t len = 0;
	void *ref;

	cfg = cfggen_get(env->gens, &ref);
	if (admit(cfg, rq, a, 1, &body, &len, &oc) != 0)
		goto out;
	if (!(p = malloc(sizeof *p))) {
		intake_answer_fail(a, rq, 500, NULL, "out of memory");
		oc = METRICS_SLACK_ERROR;
		goto out;
	}
	if (slackpl_parse(body, len, cfg->slack.api_url, p, &why) != 0) {
		char msg[96];
		snprintf(msg, sizeof msg, "malformed Slack payload: %s", slackpl_reason_name(why));
		intake_answer_fail(a, rq, why == SLACKPL_ERROR ? 500 : 400, NULL, msg);
		oc = why == SLACKPL_ERROR ? METRICS_SLACK_ERROR : METRICS_SLACK_MALFORMED;
		goto out;
	}
	if (p->type == SLACKPL_BLOCK_ACTIONS)
		block_actions(env, cfg, rq, a, p, &oc);
	else if (p->type == SLACKPL_VIEW_SUBMISSION)
		view_submission(env, cfg, rq, a, p, &oc);
	else
		ack(a);
out:
	metrics_slack_request(METRICS_SLACK_INTERACTIONS, oc);
	free(p);
	free(body);
	cfggen_put(env->gens, ref);
}

void route_slack_events(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a)
{
	enum slackpl_reason why = SLACKPL_ERROR;
	enum metrics_slack_outcome oc = METRICS_SLACK_IGNORED;
	struct slackpl_event e;
	const struct config *cfg;
	const char *retry = intake_header(rq, "X-Slack-Retry-Num");
	char *body = NULL, *s = NULL;
	cJSON *j = NULL;
	size_t len = 0;
	void *ref;

	cfg = cfggen_get(env->gens, &ref);
	if (admit(cfg, rq, a, 0, &body, &len, &oc) != 0)
		goto out;
	if (slackpl_event_parse(body, len, &e, &why) != 0) {
		char msg[96];
		snprintf(msg, sizeof msg, "malformed Slack event: %s", slackpl_reason_name(why));
		intake_answer_fail(a, rq, why == SLACKPL_ERROR ? 500 : 400, NULL, msg);
		oc = why == SLACKPL_ERROR ? METRICS_SLACK_ERROR : METRICS_SLACK_MALFORMED;
		goto out;
	}
	if (e.type == SLACKPL_EV_URL_VERIFICATION) {
		if (!(j = cJSON_CreateObject()) || !cJSON_AddStringToObject(j, "challenge", e.challenge) ||
		    !(s = cJSON_PrintUnformatted(j))) {
			intake_answer_fail(a, rq, 500, NULL, "out of memory");
			oc = METRICS_SLACK_ERROR;
		} else {
			intake_answer_set(a, 200, NULL, s);
			oc = METRICS_SLACK_URL_VERIFICATION;
		}
		goto out;
	}
	if (e.type == SLACKPL_EV_CALLBACK) {
		int seen = events ? slackseen_add(events, e.event_id, clock_wall_ms() / 1000) : 0;
		oc = seen == 1 ? METRICS_SLACK_EVENT_REPEAT : METRICS_SLACK_EVENT;
		if (seen == 1)
			log_event(LOG_INFO, "slack_event_repeat", "event_id", e.event_id,
			    "retry", retry ? retry : "-", "note", "already handled", NULL);
		else
			log_event(LOG_INFO, "slack_event", "event_id", e.event_id, "type",
			    e.event_type[0] ? e.event_type : "-", "retry", retry ? retry : "-", NULL);
	}
	ack(a); /* nothing the runner does waits on an event: acknowledged at once */
out:
	metrics_slack_request(METRICS_SLACK_EVENTS, oc);
	cJSON_Delete(j);
	free(s);
	free(body);
	cfggen_put(env->gens, ref);
}
