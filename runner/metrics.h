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

/* Render everything, with the gauges given by the caller, into a malloc'ed
 * string. TLS_NOT_AFTER: the served certificate's expiry (Unix time), or 0
 * without TLS (no such series then). 0 or -ENOMEM. */
int metrics_render(int jobs_running, int jobs_queued, long long tls_not_after, const char *version,
    char **out, size_t *len);
#endif
