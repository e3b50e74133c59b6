/*
 * approvaltick.c — the daemon's approval timer: one thread that, once a
 * second, expires the pending approvals that are due (in bounded batches;
 * at start this catches those that expired while the daemon was down), and
 * notices every change of an approval made by any process on the store (a
 * vote on Slack, `webhook-runner approvals approve|deny` on the CLI, another
 * daemon) through store_approvals_changed. Each decision noticed is logged
 * ("approval_decided") and counted in /metrics once per daemon; each change
 * is handed to the listener (the Slack side updates its message from it).
 * A job an approval queued is taken by the workers, whose queue looks at
 * the store at least once a second, so a CLI approval runs within about a
 * second without waking anything.
 */
#ifndef APPROVALTICK_H
#define APPROVALTICK_H
#include "cfggen.h"
#include "queue.h"
#include "store.h"

#define APPROVALTICK_PERIOD_MS 1000

struct approvaltick;

/* What changed. */
struct approval_change {
	const struct store_approval *a;
	int decided;  /* A's state is no longer pending (approved, denied, expired) */
	int expired_here; /* this daemon's timer expired it */
};

/* Called on the timer's thread for each approval change noticed, in seq
 * order (A without votes; read them with store_approval_get if needed).
 * Must not block long: the next tick waits for it. */
typedef void (*approvaltick_fn)(void *ctx, const struct approval_change *ch);

/* Start the timer over ST (GENS for the current config, Q to wake the
 * workers after an approval), calling FN(CTX, …) for each change (FN may be
 * NULL). The cursor starts at the store's current highest seq: changes made
 * before the start are not replayed (expiries due at start are done by the
 * first tick). 0, -ENOMEM, -EAGAIN (no thread), or the store's errno. */
int approvaltick_start(struct cfggen *gens, struct store *st, struct queue *q, approvaltick_fn fn,
    void *ctx, struct approvaltick **out);
/* Stop the thread and free (NULL is fine). */
void approvaltick_stop(struct approvaltick *t);
#endif
