/*
 * slack_outbox.c — the Slack poster thread (contract in slack_outbox.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/clock.h"
#include "log.h"
#include "slack_msg.h"
#include "slack_outbox.h"
#include "slack_view.h"

#define SYNC_BATCH 50
#define GROUP_REFRESH_MS (SLACKAPI_GROUP_TTL_MS / 2)

enum item_kind { ITEM_EPHEMERAL = 1, ITEM_OUTCOME };

struct item {
	struct item *next;
	enum item_kind kind;
	char *url, *text;             /* ephemeral */
	int64_t job_id;               /* outcome */
	char state[32];
	int exit_code;
	int64_t duration_ms;
	char *tail;
	size_t tail_len;
};

struct slackob {
	struct cfggen *gens;
	struct store *st;
	struct slackapi *api, *quick;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, woken;
	struct item *head, *tail;
	size_t queued;
	int64_t groups_at;
};

static void item_free(struct item *it)
{
	if (!it)
		return;
	free(it->url);
	free(it->text);
	free(it->tail);
	free(it);
}

/* Wait up to MS for a stop; 1 when stopping. */
static int pause_ms(struct slackob *ob, int64_t ms)
{
	struct timespec ts;
	int stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ob->mu);
	while (!ob->stop && pthread_cond_timedwait(&ob->cv, &ob->mu, &ts) == 0)
		;
	stop = ob->stop;
	pthread_mutex_unlock(&ob->mu);
	return stop;
}

/* METHOD with BODY (URL: a response_url instead), retried as the header
 * says. 0 with ANS the last answer (the caller clears it), or -ENOMEM. ID
 * names the approval in the log lines. */
static int call(struct slackob *ob, const char *method, const char *url, const char *body,
    const char *id, struct slackapi_answer *ans)
{
	int64_t backoff = 1000;
	int i, rc;

	for (i = 0; i < SLACKOB_TRIES; i++) {
		rc = url ? slackapi_post_url(ob->api, url, body, ans) :
		    slackapi_call(ob->api, method, body, ans);
		if (rc)
			return rc;
		if (ans->result == SLACKAPI_OK)
			return 0;
		if (!slackapi_retryable(ans) || i + 1 == SLACKOB_TRIES)
			break;
		{
			char wait[24];
			int64_t ms = ans->result == SLACKAPI_RATELIMITED ?
			    (int64_t)ans->retry_after_s * 1000 : backoff;
			snprintf(wait, sizeof wait, "%" PRId64, ms);
			log_event(LOG_WARN, "slack_retry", "method", method, "approval", id,
			    "error", ans->error, "retry_in_ms", wait, NULL);
			slackapi_answer_clear(ans);
			if (pause_ms(ob, ms)) { /* stopping: no answer */
				ans->result = SLACKAPI_TRANSPORT;
				snprintf(ans->error, sizeof ans->error, "stopping");
				return 0;
			}
			backoff *= 2;
		}
	}
	log_event(LOG_ERROR, "slack_api_failed", "method", method, "approval", id,
	    "result", slackapi_result_name(ans->result), "error", ans->error,
	    "note", "the approval stays as it is; decide it with `webhook-runner approvals`", NULL);
	return 0;
}

/* Post or update the message of A (claimed change), with OUTCOME. */
static void show(struct slackob *ob, const struct config *cfg, const struct store_approval *a,
    const char *outcome)
{
	struct slackapi_answer ans = { 0 };
	const char *method = a->message_ts[0] ? "chat.update" : "chat.postMessage";
	char *body = NULL;
	int rc;

	if (!a->channel[0])
		return;
	if ((rc = slackview_message(cfg, ob->st, a, outcome, &body)) != 0) {
		log_event(LOG_ERROR, "slack_message_failed", "approval", a->id, "error", strerror(-rc), NULL);
		return;
	}
	if (call(ob, method, NULL, body, a->id, &ans) == 0 && ans.result == SLACKAPI_OK &&
	    !a->message_ts[0]) {
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(ans.json, "ts");
		const cJSON *ch = cJSON_GetObjectItemCaseSensitive(ans.json, "channel");
		if (!cJSON_IsString(ts) || strlen(ts->valuestring) > STORE_SLACK_REF_MAX ||
		    !ts->valuestring[0] ||
		    store_approval_set_message(ob->st, a->id,
			cJSON_IsString(ch) && ch->valuestring[0] &&
			strlen(ch->valuestring) <= STORE_SLACK_REF_MAX ? ch->valuestring : a->channel,
			ts->valuestring) != 0)
			log_event(LOG_ERROR, "slack_message_failed", "approval", a->id,
			    "error", "cannot record the message's ts", NULL);
		else
			log_event(LOG_INFO, "slack_message_posted", "approval", a->id, "hook", a->hook,
			    "ts", ts->valuestring, NULL);
	}
	slackapi_answer_clear(&ans);
	free(body);
}

static void sync_changes(struct slackob *ob)
{
	struct store_approval *v = NULL;
	const struct config *cfg;
	size_t n = 0, i;
	void *ref;
	int rc;

	if ((rc = store_approvals_unsynced(ob->st, SYNC_BATCH, &v, &n)) != 0) {
		log_event(LOG_ERROR, "store_error", "what", "approvals to show in Slack",
		    "error", strerror(-rc), NULL);
		return;
	}
	if (!n)
		return;
	cfg = cfggen_get(ob->gens, &ref);
	for (i = 0; i < n; i++) {
		int won = 0;
		if (store_approval_claim_sync(ob->st, v[i].id, v[i].seq, &won) != 0 || !won)
			continue;
		show(ob, cfg, &v[i], NULL);
	}
	cfggen_put(ob->gens, ref);
	store_approvals_free(v, n);
}

static void outcome(struct slackob *ob, const struct item *it)
{
	struct store_approval a;
	struct slackapi_answer ans = { 0 };
	const struct config *cfg;
	char *body = NULL, line[128], jid[24];
	void *ref;

	memset(&a, 0, sizeof a);
	snprintf(jid, sizeof jid, "%" PRId64, it->job_id);
	if (store_approval_by_job(ob->st, it->job_id, &a) != 0 || !a.channel[0] || !a.message_ts[0]) {
		log_event(LOG_INFO, "slack_outcome_skipped", "job", jid,
		    "note", "no Slack message to reply to", NULL);
		goto out;
	}
	if (slackmsg_outcome(a.channel, a.message_ts, a.hook, it->state, it->exit_code,
		it->duration_ms, it->tail, it->tail_len, &body) != 0)
		goto out;
	call(ob, "chat.postMessage", NULL, body, a.id, &ans);
	slackapi_answer_clear(&ans);
	if (it->exit_code >= 0)
		snprintf(line, sizeof line, "%s, exit code %d", it->state, it->exit_code);
	else
		snprintf(line, sizeof line, "%s", it->state);
	cfg = cfggen_get(ob->gens, &ref);
	show(ob, cfg, &a, line);
	cfggen_put(ob->gens, ref);
out:
	free(body);
	store_approval_clear(&a);
}

static void ephemeral(struct slackob *ob, const struct item *it)
{
	struct slackapi_answer ans = { 0 };
	char *body = NULL;

	if (slackmsg_ephemeral(it->text, &body) == 0)
		call(ob, "response_url", it->url, body, "-", &ans);
	slackapi_answer_clear(&ans);
	free(body);
}

static void refresh_groups(struct slackob *ob)
{
	const struct config *cfg;
	int64_t now = clock_mono_ms();
	size_t i, k;
	void *ref;

	if (ob->groups_at && now - ob->groups_at < GROUP_REFRESH_MS)
		return;
	ob->groups_at = now;
	cfg = cfggen_get(ob->gens, &ref);
	for (i = 0; i < cfg->nhooks; i++) {
		const struct cfg_approval *ap = &cfg->hooks[i].approval;
		for (k = 0; ap->enabled && k < ap->ngroups; k++) {
			int64_t wall = clock_wall_ms();
			if (slackapi_group_refresh(ob->api, ap->groups[k], wall) == 0)
				slackapi_group_refresh(ob->quick, ap->groups[k], wall);
		}
	}
	cfggen_put(ob->gens, ref);
}

void slackob_run_once(struct slackob *ob)
{
	for (;;) {
		struct item *it;
		pthread_mutex_lock(&ob->mu);
		if ((it = ob->head)) {
			ob->head = it->next;
			if (!ob->head)
				ob->tail = NULL;
			ob->queued--;
		}
		pthread_mutex_unlock(&ob->mu);
		if (!it)
			break;
		if (it->kind == ITEM_EPHEMERAL)
			ephemeral(ob, it);
		else
			outcome(ob, it);
		item_free(it);
	}
	sync_changes(ob);
	refresh_groups(ob);
}

static void *ob_main(void *arg)
{
	struct slackob *ob = arg;
	struct timespec ts;

	for (;;) {
		pthread_mutex_lock(&ob->mu);
		if (!ob->woken && !ob->stop) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += SLACKOB_PERIOD_MS % 1000 * 1000000L;
			ts.tv_sec += SLACKOB_PERIOD_MS / 1000 + ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&ob->cv, &ob->mu, &ts);
		}
		ob->woken = 0;
		if (ob->stop) {
			pthread_mutex_unlock(&ob->mu);
			break;
		}
		pthread_mutex_unlock(&ob->mu);
		slackob_run_once(ob);
	}
	return NULL;
}

static void push(struct slackob *ob, struct item *it)
{
	it->next = NULL;
	if (ob->tail)
		ob->tail->next = it;
	else
		ob->head = it;
	ob->tail = it;
	ob->queued++;
	ob->woken = 1;
	pthread_cond_broadcast(&ob->cv);
}

static int enqueue(struct slackob *ob, struct item *it)
{
	int rc = 0;

	pthread_mutex_lock(&ob->mu);
	if (ob->queued >= SLACKOB_QUEUE_MAX)
		rc = -ENOSPC;
	else
		push(ob, it);
	pthread_mutex_unlock(&ob->mu);
	if (rc) {
		log_event(LOG_WARN, "slack_queue_full", "note", "a Slack reply was dropped", NULL);
		item_free(it);
	}
	return rc;
}

int slackob_ephemeral(struct slackob *ob, const char *url, const char *text)
{
	struct item *it;

	if (!ob || !url || !text)
		return -EINVAL;
	if (!(it = calloc(1, sizeof *it)) || !(it->url = strdup(url)) || !(it->text = strdup(text))) {
		item_free(it);
		return -ENOMEM;
	}
	it->kind = ITEM_EPHEMERAL;
	return enqueue(ob, it);
}

void slackob_job_finished(void *ctx, const struct dispatch_finished *f)
{
	struct slackob *ob = ctx;
	struct item *it;

	if (!ob || !f)
		return;
	if (!(it = calloc(1, sizeof *it)))
		return;
	it->kind = ITEM_OUTCOME;
	it->job_id = f->job_id;
	snprintf(it->state, sizeof it->state, "%s", f->state ? f->state : "-");
	it->exit_code = f->exit_code;
	it->duration_ms = f->duration_ms;
	if (f->tail && f->tail_len) {
		if (!(it->tail = malloc(f->tail_len))) {
			item_free(it);
			return;
		}
		memcpy(it->tail, f->tail, f->tail_len);
		it->tail_len = f->tail_len;
	}
	enqueue(ob, it);
}

void slackob_wake(struct slackob *ob)
{
	if (!ob)
		return;
	pthread_mutex_lock(&ob->mu);
	ob->woken = 1;
	pthread_cond_broadcast(&ob->cv);
	pthread_mutex_unlock(&ob->mu);
}

void slackob_on_change(void *ctx, const struct approval_change *ch)
{
	(void)ch;
	slackob_wake(ctx);
}

struct slackapi *slackob_quick(struct slackob *ob)
{
	return ob ? ob->quick : NULL;
}

int slackob_start(struct cfggen *gens, struct store *st, struct slackob **out)
{
	const struct config *cfg = cfggen_first(gens);
	const struct cfg_slack *sl = &cfg->slack;
	struct slackob *ob = NULL;
	pthread_condattr_t ca;
	int rc = -EINVAL;

	if (!sl->present || !sl->bot_token || !sl->api_url)
		return -EINVAL;
	rc = -ENOMEM;
	if (!(ob = calloc(1, sizeof *ob)))
		return -ENOMEM;
	ob->gens = gens;
	ob->st = st;
	pthread_mutex_init(&ob->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ob->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = slackapi_new(sl->api_url, sl->bot_token, sl->timeout_ms > 0 ? sl->timeout_ms : 5000,
		 &ob->api)) != 0 ||
	    (rc = slackapi_new(sl->api_url, sl->bot_token,
		 sl->timeout_ms > 0 && sl->timeout_ms < SLACKOB_QUICK_MS ? sl->timeout_ms :
		 SLACKOB_QUICK_MS, &ob->quick)) != 0)
		goto out;
	if (pthread_create(&ob->thread, NULL, ob_main, ob) != 0) {
		rc = -EAGAIN;
		goto out;
	}
	ob->started = 1;
	*out = ob;
	ob = NULL;
	rc = 0;
out:
	slackob_stop(ob);
	return rc;
}

void slackob_stop(struct slackob *ob)
{
	struct item *it;

	if (!ob)
		return;
	if (ob->started) {
		pthread_mutex_lock(&ob->mu);
		ob->stop = 1;
		pthread_cond_broadcast(&ob->cv);
		pthread_mutex_unlock(&ob->mu);
		pthread_join(ob->thread, NULL);
	}
	while ((it = ob->head)) {
		ob->head = it->next;
		item_free(it);
	}
	slackapi_free(ob->api);
	slackapi_free(ob->quick);
	pthread_cond_destroy(&ob->cv);
	pthread_mutex_destroy(&ob->mu);
	free(ob);
}
