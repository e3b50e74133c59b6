/*
 * metrics.c — the daemon's Prometheus metrics, rendered in the text
 * exposition format at /metrics. Owns the counters and the job duration
 * histogram (process-wide, thread-safe) and their label sets. Cardinality is
 * bounded by the config, never by requests: callers pass configured hook ids
 * only (requests to unknown hooks count under hook="_unknown"), status codes,
 * and fixed reason/decision/outcome words.
 */
#ifndef METRICS_H
#define METRICS_H
#include <stddef.h>

#define METRICS_UNKNOWN_HOOK "_unknown"

void metrics_request(const char *hook, int status);
void metrics_verify_failure(const char *hook, const char *reason);
void metrics_idempotency(const char *hook, const char *decision);
void metrics_job(const char *hook, const char *outcome, double seconds);
/* An approval decided: DECISION is "approved", "denied" or "expired". */
void metrics_approval(const char *hook, const char *decision);
/* The pending-approvals gauge, rendered from the first call on (a daemon
 * with no approval hook has no such series). */
void metrics_approvals_pending(int n);
/* One Slack Web API call (each try): METHOD a fixed method name
 * ("chat.postMessage"…, "response_url"), RESULT "ok", a transport word
 * ("timeout", "ratelimited", "http_5xx"…) or Slack's own error code (a
 * bounded vocabulary of Slack's, never request data). */
void metrics_slack_call(const char *method, const char *result);

/* What became of one request on Slack's routes: a fixed vocabulary, each
 * word in metrics.c's table (rendered as outcome="..."). */
enum metrics_slack_endpoint { METRICS_SLACK_INTERACTIONS, METRICS_SLACK_EVENTS, METRICS_SLACK_NENDPOINTS };
enum metrics_slack_outcome {
	METRICS_SLACK_VOTED = 0,       /* "voted": a vote counted, more are needed */
	METRICS_SLACK_DECIDED,         /* "decided": this vote approved or denied it */
	METRICS_SLACK_MODAL,           /* "modal": a Deny click opened the reason modal */
	METRICS_SLACK_REFUSED,         /* "refused": nothing changed, the clicker was told why */
	METRICS_SLACK_IGNORED,         /* "ignored": an action or view the runner does not handle */
	METRICS_SLACK_BAD_SIGNATURE,   /* "bad_signature": missing, malformed or wrong */
	METRICS_SLACK_STALE,           /* "stale": timestamp outside the window */
	METRICS_SLACK_REPLAYED,        /* "replayed": a body already taken */
	METRICS_SLACK_MALFORMED,       /* "malformed": signed, but the payload does not parse */
	METRICS_SLACK_REJECTED,        /* "rejected": method, size, unreadable body, Slack not configured */
	METRICS_SLACK_ERROR,           /* "error": answered 500 (store, memory) */
	METRICS_SLACK_URL_VERIFICATION, /* "url_verification": the challenge answered */
	METRICS_SLACK_EVENT,           /* "event": an event callback, first time */
	METRICS_SLACK_EVENT_REPEAT,    /* "event_repeat": Slack's retry of an event already handled */
	METRICS_SLACK_NOUTCOMES
};
/* Count one request on ENDPOINT ("interactions", "events") with OUTCOME;
 * values out of range are not counted. */
void metrics_slack_request(enum metrics_slack_endpoint endpoint, enum metrics_slack_outcome outcome);

/* Render everything, with the gauges given by the caller, into a malloc'ed
 * string. TLS_NOT_AFTER: the served certificate's expiry (Unix time), or 0
 * without TLS (no such series then). 0 or -ENOMEM. */
int metrics_render(int jobs_running, int jobs_queued, long long tls_not_after, const char *version,
    char **out, size_t *len);
#endif
