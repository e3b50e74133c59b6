/*
 * dispatch.c — prepare and run a job the same way for every caller
 * (contract in dispatch.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "exec.h"
#include "jobjson.h"
#include "liveout.h"
#include "log.h"
#include "metrics.h"
#include "xclient.h"
#include "../common/shquote.h"

/* cJSON stops a string at NUL (raw or \u0000), which would hand a template
 * a shortened value; and trailing bytes would be ignored. Refuse both. */
static cJSON *parse_payload(const char *body, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (body[i] == '\0')
			return NULL;
		if (body[i] == '\\' && i + 1 < len) {
			if (body[i + 1] == 'u' && len - i >= 6 && !memcmp(body + i + 2, "0000", 4))
				return NULL;
			i++; /* the escaped character */
		}
	}
	return cJSON_ParseWithLengthOpts(body, len + 1, NULL, 1);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* *REPEATED = 1 when some object under IT names a member twice (after
 * unescaping, so "a" and "\u0061" are the same name), 0 when none does;
 * returns 0 or -ENOMEM. Parsers
 * disagree on which one wins (cJSON keeps the first, Python, JavaScript and
 * Go the last), so the runner and whatever checked the payload upstream
 * could read different values: such a payload is refused. Each object's
 * names are sorted, so a million keys cost n log n, not n squared. */
static int repeated_name(const cJSON *it, int *repeated)
{
	const cJSON *c;
	const char **names = NULL;
	size_t n = 0, i;
	int rc = 0;

	*repeated = 0;
	if (!cJSON_IsObject(it) && !cJSON_IsArray(it))
		return 0;
	for (c = it->child; c; c = c->next)
		n++;
	if (cJSON_IsObject(it) && n > 1) {
		if (!(names = malloc(n * sizeof *names)))
			return -ENOMEM;
		for (i = 0, c = it->child; c; c = c->next)
			names[i++] = c->string ? c->string : "";
		qsort(names, n, sizeof *names, cmp_names);
		for (i = 1; i < n && !*repeated; i++)
			*repeated = strcmp(names[i - 1], names[i]) == 0;
		free(names);
	}
	for (c = it->child; c && !rc && !*repeated; c = c->next)
		rc = repeated_name(c, repeated);
	return rc;
}

/* dispatch_prepare, and the parameters' values when PARAMS is non-NULL. */
static int prepare(const struct cfg_hook *h, const char *body, size_t len, const cJSON *claims,
    const struct hdr_src *hs, char **command, struct tmpl_value **params, size_t *nparams,
    char *err, size_t errlen)
{
	cJSON *payload = NULL;
	struct tmpl_src ts;
	int rc, twice = 0;

	if (tmpl_needs_payload(h->tmpl) && !(payload = parse_payload(body, len))) {
		snprintf(err, errlen, "body is not valid JSON, and the command needs values from it");
		return -EINVAL;
	}
	if (payload && ((rc = repeated_name(payload, &twice)) != 0 || twice)) {
		cJSON_Delete(payload);
		if (rc < 0)
			return rc;
		snprintf(err, errlen, "body names a member of one JSON object twice; it is refused, "
		    "since parsers disagree on which one counts");
		return -EINVAL;
	}
	ts.payload = payload;
	ts.claims = claims;
	ts.headers = hs;
	rc = tmpl_render(h->tmpl, &ts, command, err, errlen);
	if (rc == 0 && params && (rc = tmpl_values(h->tmpl, &ts, params, nparams)) != 0) {
		free(*command);
		*command = NULL;
	}
	cJSON_Delete(payload);
	return rc;
}

int dispatch_prepare(const struct cfg_hook *h, const char *body, size_t len, const cJSON *claims,
    const struct hdr_src *hs, char **command, char *err, size_t errlen)
{
	return prepare(h, body, len, claims, hs, command, NULL, NULL, err, errlen);
}

int dispatch_preview(const struct cfg_hook *h, const char *body, size_t len, const cJSON *claims,
    const struct hdr_src *hs, char **command, struct tmpl_value **params, size_t *nparams,
    char *err, size_t errlen)
{
	return prepare(h, body, len, claims, hs, command, params, nparams, err, errlen);
}

/* The JSON answer of an attempt just run: its recorded outcome O, with
 * what only the run itself knows (why it failed in words, how long it ran)
 * and the request it answers. NULL when out of memory. */
static char *answer_body(const struct cfg_hook *h, int64_t job_id, int attempt,
    const struct store_outcome *o, const struct exec_result *jr, const char *request_id)
{
	struct store_job j;
	struct jobjson_outcome oc = { 0 };
	char *s = NULL;

	memset(&j, 0, sizeof j);
	j.id = job_id;
	j.attempt = attempt;
	snprintf(j.hook, sizeof j.hook, "%s", h->id);
	j.state = o->state;
	j.exit_code = o->exit_code;
	snprintf(j.signal, sizeof j.signal, "%s", o->signal ? o->signal : "");
	snprintf(j.error, sizeof j.error, "%s", o->error ? o->error : "");
	j.started_ms = o->started_ms;
	j.finished_ms = o->finished_ms;
	j.output_tail = jr->tail;
	if (jr->interrupted)
		oc.message = "the daemon stopped before the job finished; the next delivery runs it again";
	else if (o->error)
		oc.message = jr->message[0] ? jr->message : "remote-executor ended without a status";
	oc.has_duration = 1;
	oc.duration_ms = jr->finished_ms - jr->started_ms;
	oc.request_id = request_id;
	if (jobjson_print(&j, JOBJSON_EXIT | (h->response_output ? JOBJSON_TAIL : 0), &oc, &s) != 0)
		return NULL;
	return s;
}

/* Set once at start-up, before any job runs; read by every job after. */
static dispatch_finished_fn finished_fn;
static void *finished_ctx;

void dispatch_on_finish(dispatch_finished_fn fn, void *ctx)
{
	finished_fn = fn;
	finished_ctx = ctx;
}

/* Set once at start-up, before any job runs. */
static struct liveout *live_reg;

void dispatch_use_liveout(struct liveout *lo)
{
	live_reg = lo;
}

int dispatch_run(const struct config *cfg, struct store *st, struct slots *slots,
    const struct cfg_hook *h, int64_t job_id, int attempt, const char *command, const char *request_id,
    struct dispatch_answer *ans)
{
	struct exec_spec spec = {
		.executor = cfg->executor_path, .destination = h->destination,
		.identity = h->identity, .known_hosts = h->known_hosts, .passphrase = h->passphrase,
		.command = command, .timeout_ms = h->timeout_ms,
		.connect_timeout_ms = h->connect_timeout_ms, .handshake_timeout_ms = h->handshake_timeout_ms,
		.max_output_bytes = h->max_output_bytes, .tail_bytes = h->output_tail_bytes,
		.owner = slots,
	};
	struct exec_result jr;
	struct store_outcome o = { 0 };
	struct liveout_job *live = NULL;
	const char *state;
	char jid[24], att[16], ex[16], dur[24], *wrapped = NULL;
	int rc;

	memset(ans, 0, sizeof *ans);
	if (h->remote_timeout) {
		/* OpenSSH does not end a command without a terminal when its channel
		 * closes, and libssh2 1.10 cannot send a signal: timeout(1) on the
		 * target ends it (its whole process group) one second after our own
		 * deadline has answered 504. */
		char *q = shquote_dup(command);
		if (!q || asprintf(&wrapped, "exec timeout %lld sh -c %s",
			      (long long)(h->timeout_ms + 999) / 1000 + 1, q) < 0) {
			free(q);
			return -ENOMEM;
		}
		free(q);
		spec.command = wrapped;
	}
	snprintf(jid, sizeof jid, "%" PRId64, job_id);
	snprintf(att, sizeof att, "%d", attempt);
	log_event(LOG_INFO, "job_started", "request_id", request_id, "hook", h->id, "job", jid,
	    "attempt", att, "destination", h->destination, NULL);
	/* Only a hook that shows its output over HTTP has it followed live;
	 * out of memory, the job runs without (followers get the stored tail). */
	if (h->response_output && liveout_begin(live_reg, job_id, h->max_output_bytes,
	    h->max_output_bytes, &live) != 0)
		live = NULL;
	spec.live = live;
	if (cfg->executor_socket) {
		struct xclient_spec xs = {
			.owner = slots, .socket_path = cfg->executor_socket,
			.destination = h->destination, .identity_name = h->identity_name,
			.command = spec.command, .timeout_ms = h->timeout_ms,
			.connect_timeout_ms = h->connect_timeout_ms,
			.handshake_timeout_ms = h->handshake_timeout_ms,
			.max_output_bytes = h->max_output_bytes, .tail_bytes = h->output_tail_bytes,
			.reuse = h->reuse, .job_id = jid, .live = live,
		};
		rc = xclient_run(&xs, &jr);
	} else {
		rc = exec_run(&spec, &jr);
	}
	if (rc != 0) {
		memset(&jr, 0, sizeof jr);
		snprintf(jr.message, sizeof jr.message, "cannot start remote-executor: %s", strerror(-rc));
	}
	exec_outcome(&jr, &ans->http, &state, &ans->retry_after);
	metrics_job(h->id, state, (double)(jr.finished_ms - jr.started_ms) / 1000.0);
	o.state = jobstate_from_name(state);
	o.started_ms = jr.started_ms;
	o.finished_ms = jr.finished_ms;
	o.exit_code = jr.has_exit ? jr.exit_code : -1;
	o.signal = jr.signal[0] ? jr.signal : NULL;
	o.error = jr.interrupted ? "shutdown" : jr.error[0] ? jr.error : jr.killed ? "timeout" :
	    jr.unavailable ? "executor_unavailable" : jr.has_status ? NULL : "executor";
	o.http_status = ans->http;
	ans->body = answer_body(h, job_id, attempt, &o, &jr, request_id);
	o.response = ans->body ? ans->body : "{}";
	o.output_tail = jr.tail;
	if ((rc = store_finish(st, job_id, &o)) != 0)
		log_event(LOG_ERROR, "store_error", "request_id", request_id, "job", jid,
		    "error", strerror(-rc), NULL);
	liveout_end(live_reg, live); /* after the record: a follower's outcome is the stored one */
	snprintf(ex, sizeof ex, "%d", jr.exit_code);
	snprintf(dur, sizeof dur, "%" PRId64, jr.finished_ms - jr.started_ms);
	log_event(ans->http == 200 ? LOG_INFO : LOG_WARN, "job_finished", "request_id", request_id,
	    "hook", h->id, "job", jid, "attempt", att, "outcome", state,
	    "exit", jr.has_exit ? ex : NULL, "signal", jr.signal[0] ? jr.signal : NULL,
	    "error", o.error, "message", jr.message[0] ? jr.message : NULL, "duration_ms", dur, NULL);
	if (finished_fn && h->approval.enabled) {
		struct dispatch_finished f = {
			.hook = h->id, .job_id = job_id, .state = state,
			.exit_code = jr.has_exit ? jr.exit_code : -1,
			.duration_ms = jr.finished_ms - jr.started_ms,
			.tail = jr.tail, .tail_len = jr.tail ? jr.tail_len : 0,
		};
		finished_fn(finished_ctx, &f);
	}
	exec_result_clear(&jr);
	free(wrapped);
	return ans->body ? 0 : -ENOMEM;
}

static const char *meta_header(void *ctx, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem((const cJSON *)ctx, name); /* case-insensitive */

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int dispatch_meta_parse(const char *json, struct dispatch_meta *m)
{
	memset(m, 0, sizeof *m);
	if (!json || !(m->root = cJSON_Parse(json)) || !cJSON_IsObject(m->root)) {
		cJSON_Delete(m->root);
		m->root = NULL;
		return -EINVAL;
	}
	m->claims = cJSON_GetObjectItemCaseSensitive(m->root, "claims");
	m->headers.get = meta_header;
	m->headers.ctx = cJSON_GetObjectItemCaseSensitive(m->root, "headers");
	return 0;
}

/* Every number under IT as raw text that reads back to the same double. */
static int exact_numbers(cJSON *it)
{
	cJSON *c, *raw;
	char num[32];

	for (c = it ? it->child : NULL; c; c = c->next) {
		if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			if (exact_numbers(c) != 0)
				return -ENOMEM;
			continue;
		}
		if (!cJSON_IsNumber(c))
			continue;
		if (__builtin_isinf(c->valuedouble))
			snprintf(num, sizeof num, "%s", c->valuedouble < 0 ? "-1e999" : "1e999");
		else
			snprintf(num, sizeof num, "%.17g", c->valuedouble);
		if (!(raw = cJSON_CreateRaw(num)))
			return -ENOMEM;
		raw->string = c->string; /* the member's name moves over */
		raw->type |= c->type & cJSON_StringIsConst;
		c->string = NULL;
		cJSON_ReplaceItemViaPointer(it, c, raw);
		c = raw;
	}
	return 0;
}

int dispatch_meta_claims(const cJSON *claims, cJSON **out)
{
	cJSON *c = cJSON_Duplicate(claims, 1);
	int rc = -ENOMEM;

	if (!c || exact_numbers(c) != 0)
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	cJSON_Delete(c);
	return rc;
}

void dispatch_meta_clear(struct dispatch_meta *m)
{
	cJSON_Delete(m->root);
	memset(m, 0, sizeof *m);
}
