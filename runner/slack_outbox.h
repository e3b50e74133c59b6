/*
 * slack_outbox.c — the Slack poster: one thread that makes every Web API
 * call the daemon owes Slack, off the request threads (prefix slackob_).
 * Owns:
 *  - keeping each approval's message in step with the store: it lists the
 *    approvals whose last change the message does not show
 *    (store_approvals_unsynced), claims each change (store_approval_claim_sync:
 *    one daemon wins it, so a message is updated once per change whoever
 *    made it: a click, the CLI, the expiry timer, another daemon), then
 *    posts the message (chat.postMessage, and records its ts) or updates
 *    it (chat.update);
 *  - the job's outcome, once an approved job finished: a reply in the
 *    message's thread and the message updated with it;
 *  - ephemeral replies to a click that changed nothing (response_url);
 *  - refreshing the configured user groups' members ahead of clicks.
 * Each call is retried on 429 (after its Retry-After), 5xx and transport
 * failures, with backoff, SLACKOB_TRIES times in all; a permanent failure
 * (ok:false: channel_not_found, invalid_auth…) is logged with Slack's
 * error and counted; the approval stays pending and decidable by the CLI.
 */
#ifndef SLACK_OUTBOX_H
#define SLACK_OUTBOX_H
#include "approvaltick.h"
#include "cfggen.h"
#include "dispatch.h"
#include "slack_api.h"
#include "store.h"

#define SLACKOB_TRIES 5
#define SLACKOB_PERIOD_MS 1000  /* how often the store is looked at without a wake */
#define SLACKOB_QUEUE_MAX 1000  /* replies and outcomes waiting; more are dropped (logged) */

struct slackob;

/* Start the poster for the "slack" section of the config first in GENS
 * (its api_url, bot token, timeout), over ST. 0, -EINVAL (no slack
 * section), -ENOMEM, -EAGAIN (no thread). */
int slackob_start(struct cfggen *gens, struct store *st, struct slackob **out);
/* Stop the thread (what is queued is dropped) and free; NULL is fine. */
void slackob_stop(struct slackob *ob);
/* Something changed in the store: look now rather than at the next period. */
void slackob_wake(struct slackob *ob);
/* The Web API client calls on a request thread may use (a group check on
 * a cache miss, views.open): bounded by the shorter SLACKOB_QUICK_MS. */
#define SLACKOB_QUICK_MS 1500
struct slackapi *slackob_quick(struct slackob *ob);
/* Queue an ephemeral reply with TEXT to URL (checked by the caller with
 * slackpl_response_url_ok). 0, -ENOMEM, -ENOSPC (queue full). */
int slackob_ephemeral(struct slackob *ob, const char *url, const char *text);
/* The dispatch listener (dispatch_on_finish with OB as ctx): queues the
 * outcome of an approved job. */
void slackob_job_finished(void *ob, const struct dispatch_finished *f);
/* The approval timer's listener (approvaltick_start with OB as ctx): a
 * change made anywhere (the CLI, expiry, another daemon) wakes the poster. */
void slackob_on_change(void *ob, const struct approval_change *ch);
/* One pass on the caller's thread, as the thread does each period (tests). */
void slackob_run_once(struct slackob *ob);
#endif
