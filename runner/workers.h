/*
 * workers.c — the async hooks' worker pool. Owns N threads that take queued
 * jobs from the queue (queue.h), wait for a concurrency slot for the job's
 * destination, and run each through the shared job path (dispatch.c) under
 * the config current at the time. On shutdown they stop taking jobs; queued
 * ones stay queued for the next start, and one taken but not started goes
 * back to the queue.
 */
#ifndef WORKERS_H
#define WORKERS_H
#include "cfggen.h"
#include "queue.h"
#include "slots.h"
#include "store.h"

struct workers;

/* Start N threads that take jobs from Q and run them under the config
 * current in GENS when each job starts, recording them in ST, each holding
 * a slot of SLOTS while it runs (GENS, ST, Q and SLOTS must outlive the
 * pool). While the config current in GENS has executor.paused, they take
 * no job (queued ones wait; a reload without it resumes within 100 ms).
 * 0, -ENOMEM, or -EAGAIN when no thread could start. */
int workers_start(struct cfggen *gens, struct store *st, struct queue *q, struct slots *slots, int n,
    struct workers **out);
/* Stop taking new jobs (running ones go on): shuts Q's takers out. */
void workers_quiesce(struct workers *w);
/* Join the threads (after their jobs ended) and free. */
void workers_stop(struct workers *w);
#endif
