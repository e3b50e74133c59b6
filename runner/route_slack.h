/*
 * route_slack.c — Slack's two routes. POST /slack/interactions: the
 * signature first (401 and nothing changes; a body already taken is
 * refused the same way), the body cap, the payload; an Approve click is a
 * vote through the approval rules (approval.c) stored before the answer;
 * a Deny click opens the reason modal (views.open), or, when that fails,
 * is a deny vote without a reason; the modal's submission is the deny vote
 * with its reason. A click that changes nothing gets an ephemeral reply
 * saying why (through the outbox), never an error page. The answer is
 * quick (Slack waits 3 s): message updates go to the outbox. POST
 * /slack/events: url_verification's challenge, every other event
 * acknowledged at once, Slack's retries of one event_id handled once.
 */
#ifndef ROUTE_SLACK_H
#define ROUTE_SLACK_H
#include "intake.h"

/* Answer RQ (path /slack/interactions) into A (initialized by the caller). */
void route_slack_interactions(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a);
/* Answer RQ (path /slack/events) into A. */
void route_slack_events(const struct intake_env *env, const struct intake_req *rq,
    struct intake_answer *a);
#endif
