/*
 * metrics.c — Prometheus counters and histogram (contract in metrics.h).
 * Series live in one table under one mutex: updates are a lookup and an add,
 * far below the cost of anything they count.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define MAX_SERIES 4096
#define NBUCKETS 12

enum family { F_REQ, F_VERIFY, F_IDEM, F_JOBS, F_DUR, F_APPROVAL,
	F_SLACK, /* Slack Web API calls */
	F_SLACKREQ, /* requests on Slack's routes */
	F_COUNT };

static const struct {
	const char *name, *help, *type;
} fam[F_COUNT] = {
	[F_REQ] = { "webhook_runner_requests_total", "HTTP requests answered, by hook and status code.", "counter" },
	[F_VERIFY] = { "webhook_runner_verification_failures_total",
		"Requests refused by signature or JWT verification, by reason.", "counter" },
	[F_IDEM] = { "webhook_runner_idempotency_decisions_total",
		"Idempotency claims, by decision (new, retry, conflict, replay, mismatch).", "counter" },
	[F_JOBS] = { "webhook_runner_jobs_total", "Finished jobs, by outcome.", "counter" },
	[F_DUR] = { "webhook_runner_job_duration_seconds", "Job duration, from spawn to exit.", "histogram" },
	[F_APPROVAL] = { "webhook_runner_approval_decisions_total",
		"Approvals decided, by hook and decision (approved, denied, expired).", "counter" },
	[F_SLACK] = { "webhook_runner_slack_api_calls_total",
		"Slack Web API calls (each try), by method and result (ok, or why not).", "counter" },
	[F_SLACKREQ] = { "webhook_runner_slack_requests_total",
		"Requests on Slack's routes, by endpoint (interactions, events) and outcome.", "counter" },
};

static const double bounds[NBUCKETS - 1] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600 };

struct series {
	enum family f;
	char labels[192];         /* rendered: hook="x",code="200" */
	uint64_t n;
	double sum;               /* histogram */
	uint64_t bucket[NBUCKETS]; /* histogram, not cumulative */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct series *tab;
static size_t ntab, dropped;
static int pending_approvals = -1; /* -1: never set, no such series */

/* Label values come from config ids and fixed words; escape anyway. */
static void add_label(char *dst, size_t len, const char *k, const char *v)
{
	size_t off = strlen(dst);
	const char *c;

	if (off && off < len - 1)
		dst[off++] = ',';
	/* By hand: this runs for every request counted (snprintf was 2% of
	 * the reject path's instructions). */
	for (c = k; *c && off + 3 < len; c++)
		dst[off++] = *c;
	if (off + 3 < len) {
		dst[off++] = '=';
		dst[off++] = '"';
	}
	for (c = v ? v : ""; *c && off + 3 < len; c++) {
		if (*c == '"' || *c == '\\' || *c == '\n') {
			dst[off++] = '\\';
			dst[off++] = *c == '\n' ? 'n' : *c;
		} else {
			dst[off++] = *c;
		}
	}
	if (off + 2 <= len) {
		dst[off++] = '"';
		dst[off] = '\0';
	}
}

/* The series for (F, LABELS), created on first use; NULL when the table is full. */
static struct series *get(enum family f, const char *labels)
{
	size_t i;

	for (i = 0; i < ntab; i++)
		if (tab[i].f == f && !strcmp(tab[i].labels, labels))
			return &tab[i];
	if (!tab && !(tab = calloc(MAX_SERIES, sizeof *tab)))
		return NULL;
	if (ntab == MAX_SERIES) {
		dropped++;
		return NULL;
	}
	tab[ntab].f = f;
	snprintf(tab[ntab].labels, sizeof tab[ntab].labels, "%s", labels);
	return &tab[ntab++];
}

static void count(enum family f, const char *k1, const char *v1, const char *k2, const char *v2)
{
	char labels[192] = "";
	struct series *s;

	add_label(labels, sizeof labels, k1, v1);
	add_label(labels, sizeof labels, k2, v2);
	pthread_mutex_lock(&mu);
	if ((s = get(f, labels)))
		s->n++;
	pthread_mutex_unlock(&mu);
}

void metrics_request(const char *hook, int status)
{
	char code[12];

	if (status >= 100 && status <= 999) {
		code[0] = (char)('0' + status / 100);
		code[1] = (char)('0' + status / 10 % 10);
		code[2] = (char)('0' + status % 10);
		code[3] = '\0';
	} else {
		snprintf(code, sizeof code, "%d", status);
	}
	count(F_REQ, "hook", hook, "code", code);
}

void metrics_verify_failure(const char *hook, const char *reason)
{
	count(F_VERIFY, "hook", hook, "reason", reason);
}

void metrics_idempotency(const char *hook, const char *decision)
{
	count(F_IDEM, "hook", hook, "decision", decision);
}

void metrics_slack_call(const char *method, const char *result)
{
	count(F_SLACK, "method", method, "result", result);
}

void metrics_slack_request(enum metrics_slack_endpoint endpoint, enum metrics_slack_outcome outcome)
{
	static const char *const ep[METRICS_SLACK_NENDPOINTS] = {
		[METRICS_SLACK_INTERACTIONS] = "interactions", [METRICS_SLACK_EVENTS] = "events",
	};
	static const char *const word[METRICS_SLACK_NOUTCOMES] = {
		[METRICS_SLACK_VOTED] = "voted", [METRICS_SLACK_DECIDED] = "decided",
		[METRICS_SLACK_MODAL] = "modal", [METRICS_SLACK_REFUSED] = "refused",
		[METRICS_SLACK_IGNORED] = "ignored", [METRICS_SLACK_BAD_SIGNATURE] = "bad_signature",
		[METRICS_SLACK_STALE] = "stale", [METRICS_SLACK_REPLAYED] = "replayed",
		[METRICS_SLACK_MALFORMED] = "malformed", [METRICS_SLACK_REJECTED] = "rejected",
		[METRICS_SLACK_ERROR] = "error", [METRICS_SLACK_URL_VERIFICATION] = "url_verification",
		[METRICS_SLACK_EVENT] = "event", [METRICS_SLACK_EVENT_REPEAT] = "event_repeat",
	};

	if ((unsigned)endpoint >= METRICS_SLACK_NENDPOINTS || (unsigned)outcome >= METRICS_SLACK_NOUTCOMES)
		return;
	count(F_SLACKREQ, "endpoint", ep[endpoint], "outcome", word[outcome]);
}

void metrics_job(const char *hook, const char *outcome, double seconds)
{
	char labels[192] = "";
	struct series *s;
	int b = 0;

	count(F_JOBS, "hook", hook, "outcome", outcome);
	add_label(labels, sizeof labels, "hook", hook);
	while (b < NBUCKETS - 1 && seconds > bounds[b])
		b++;
	pthread_mutex_lock(&mu);
	if ((s = get(F_DUR, labels))) {
		s->n++;
		s->sum += seconds;
		s->bucket[b]++;
	}
	pthread_mutex_unlock(&mu);
}

void metrics_approval(const char *hook, const char *decision)
{
	count(F_APPROVAL, "hook", hook, "decision", decision);
}

void metrics_approvals_pending(int n)
{
	pthread_mutex_lock(&mu);
	pending_approvals = n < 0 ? 0 : n;
	pthread_mutex_unlock(&mu);
}

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t nc = (b->cap + (size_t)n) * 2;
			char *np = realloc(b->p, nc);
			if (!np) {
				b->oom = 1;
				return;
			}
			b->p = np;
			b->cap = nc;
		}
	}
}

int metrics_render(int jobs_running, int jobs_queued, long long tls_not_after, const char *version,
    char **out, size_t *len)
{
	struct buf b = { malloc(8192), 0, 8192, 0 };
	size_t i;
	int f, k;

	if (!b.p)
		return -ENOMEM;
	b.p[0] = '\0';
	pthread_mutex_lock(&mu);
	for (f = 0; f < F_COUNT; f++) {
		bprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help, fam[f].name, fam[f].type);
		for (i = 0; i < ntab; i++) {
			const struct series *s = &tab[i];
			uint64_t cum = 0;
			if ((int)s->f != f)
				continue;
			if (f != F_DUR) {
				bprintf(&b, "%s{%s} %llu\n", fam[f].name, s->labels, (unsigned long long)s->n);
				continue;
			}
			for (k = 0; k < NBUCKETS; k++) {
				cum += s->bucket[k];
				if (k < NBUCKETS - 1)
					bprintf(&b, "%s_bucket{%s,le=\"%g\"} %llu\n", fam[f].name, s->labels,
					    bounds[k], (unsigned long long)cum);
				else
					bprintf(&b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", fam[f].name, s->labels,
					    (unsigned long long)cum);
			}
			bprintf(&b, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", fam[f].name, s->labels, s->sum,
			    fam[f].name, s->labels, (unsigned long long)s->n);
		}
	}
	bprintf(&b, "# HELP webhook_runner_metrics_series_dropped_total Series not created because "
		    "the table was full.\n# TYPE webhook_runner_metrics_series_dropped_total counter\n"
		    "webhook_runner_metrics_series_dropped_total %zu\n", dropped);
	if (pending_approvals >= 0)
		bprintf(&b, "# HELP webhook_runner_approvals_pending Jobs waiting for people's approval.\n"
			    "# TYPE webhook_runner_approvals_pending gauge\nwebhook_runner_approvals_pending %d\n",
		    pending_approvals);
	pthread_mutex_unlock(&mu);
	bprintf(&b, "# HELP webhook_runner_jobs_running Jobs running now.\n"
		    "# TYPE webhook_runner_jobs_running gauge\nwebhook_runner_jobs_running %d\n"
		    "# HELP webhook_runner_jobs_queued Jobs waiting for a worker.\n"
		    "# TYPE webhook_runner_jobs_queued gauge\nwebhook_runner_jobs_queued %d\n"
		    "# HELP webhook_runner_build_info Build information.\n"
		    "# TYPE webhook_runner_build_info gauge\nwebhook_runner_build_info{version=\"%s\"} 1\n",
	    jobs_running, jobs_queued, version);
	if (tls_not_after > 0)
		bprintf(&b, "# HELP webhook_runner_tls_certificate_expiry_timestamp_seconds When the "
			    "certificate being served expires (Unix time).\n"
			    "# TYPE webhook_runner_tls_certificate_expiry_timestamp_seconds gauge\n"
			    "webhook_runner_tls_certificate_expiry_timestamp_seconds %lld\n", tls_not_after);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
