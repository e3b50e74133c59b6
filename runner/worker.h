/*
 * worker.c — the async hooks' worker pool. Owns N threads that take queued
 * jobs from the store (oldest first; the queue is durable, so jobs queued
 * before a restart run after it), wait for a concurrency slot for the job's
 * destination, and run each through the shared job path (dispatch.c) under
 * the config current at the time. On shutdown they stop taking jobs; queued
 * ones stay queued for the next start.
 */
#ifndef WORKER_H
#define WORKER_H
#include "cfggen.h"
#include "slots.h"
#include "store.h"

struct workers;

/* Start N threads that run queued jobs under the config current in GENS
 * when each job starts (GENS, ST and SLOTS must outlive the pool). */
int workers_start(struct cfggen *gens, struct store *st, struct slots *slots, int n, struct workers **out);
/* A job was queued: wake a worker now rather than at its next poll. */
void workers_wake(struct workers *w);
/* Stop taking new jobs (running ones go on). */
void workers_quiesce(struct workers *w);
/* Join the threads (after their jobs ended) and free. */
void workers_stop(struct workers *w);
#endif
