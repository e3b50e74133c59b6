/*
 * jobstate.h — the states of a job (one attempt of a delivery) and what
 * each means to the claim, the queue and the history. The names are the
 * words the store keeps, the HTTP answers and the CLI print, and the logs
 * and metrics use.
 *
 *   pending_approval  claimed, waiting for people's approval (approval.h):
 *               never runs until approved (then "queued")
 *   queued      an async hook's job waiting for a worker
 *   running     started (a sync hook's job from its claim on)
 *   succeeded   answered 200: a repeat of its delivery replays the answer
 *   failed      ran and failed: the next delivery runs it again
 *   timeout     killed at its deadline: the next delivery runs it again
 *   interrupted stopped by a shutdown, or running when a previous process
 *               died: the next delivery runs it again
 *   denied      refused by an approver: final, never runs; a repeat of its
 *               delivery replays the refusal
 *   expired     not approved in time: final, never runs (as denied)
 */
#ifndef JOBSTATE_H
#define JOBSTATE_H

enum jobstate {
	JOBSTATE_NONE = 0, /* not a state: what an unknown name maps to */
	JOBSTATE_QUEUED,
	JOBSTATE_RUNNING,
	JOBSTATE_SUCCEEDED,
	JOBSTATE_FAILED,
	JOBSTATE_TIMEOUT,
	JOBSTATE_INTERRUPTED,
	JOBSTATE_PENDING_APPROVAL,
	JOBSTATE_DENIED,
	JOBSTATE_EXPIRED,
};

/* The state's name ("queued", …); "unknown" for JOBSTATE_NONE or a value
 * that is not a state. Static storage. */
const char *jobstate_name(enum jobstate s);
/* The state named NAME exactly (lower case), JOBSTATE_NONE for anything else
 * (NULL included). */
enum jobstate jobstate_from_name(const char *name);
/* 1 for the states a claim may start a job in: queued, running,
 * pending_approval. */
int jobstate_is_initial(enum jobstate s);
/* 1 while a job is not finished (queued, running, pending_approval): a
 * claim of its delivery is busy, prune keeps it, a shutdown or a restart
 * deals with it (a pending one stays pending). */
int jobstate_is_active(enum jobstate s);
/* 1 for an outcome (succeeded, failed, timeout, interrupted, denied,
 * expired): what a finished job ends in. */
int jobstate_is_final(enum jobstate s);
/* 1 for the outcomes a person's decision (or its absence) gave: denied,
 * expired. Never ran; a repeat of the delivery replays them. */
int jobstate_is_refused(enum jobstate s);
/* 1 for the outcomes the next delivery runs again (failed, timeout,
 * interrupted): what the history's failed filter lists. */
int jobstate_is_retryable(enum jobstate s);
#endif
