/*
 * slots.c — how many jobs run at once, and the drain at shutdown. Owns the
 * concurrency caps (global and per destination, try-acquire: a full cap is
 * answered 429 by a request and waited out by a worker, never queued here),
 * the count of running jobs, the draining flag (SIGTERM received: new
 * deliveries are refused) and the interrupt flag that tells every job
 * running under these slots (exec.h: spec.owner) to stop.
 */
#ifndef SLOTS_H
#define SLOTS_H

struct slots;

/* Caps of MAX_JOBS running jobs in all, MAX_PER_DESTINATION per host:port.
 * 0 or -ENOMEM. */
int slots_new(int max_jobs, int max_per_destination, struct slots **out);
/* Free S (NULL is fine), slots still held or not. */
void slots_free(struct slots *s);
/* Take a slot for DEST (host:port). 0, -EBUSY when a cap is full, -ENOMEM. */
int slots_acquire(struct slots *s, const char *dest);
/* Give back a slot slots_acquire gave for DEST; one never taken is ignored. */
void slots_release(struct slots *s, const char *dest);
/* How many slots are held now. */
int slots_running(struct slots *s);
/* Shutdown after the drain timeout: every job running under S (spec.owner)
 * gets SIGTERM, then SIGKILL after a grace, and its result says
 * interrupted. Jobs started later are interrupted at once. One atomic store:
 * safe from any thread. */
void slots_interrupt_all(struct slots *s);
/* 1 once slots_interrupt_all was called on S (read by a running job). */
int slots_interrupted(struct slots *s);
/* SIGTERM: from now on slots_draining says 1 (new deliveries are answered
 * 503); let running jobs finish for up to TIMEOUT_S, then interrupt the rest
 * (recorded "interrupted": the next delivery runs them again) and wait for
 * them to end, bounded. Returns how many had to be interrupted. */
int slots_drain(struct slots *s, int timeout_s);
/* 1 once slots_drain started on S. */
int slots_draining(struct slots *s);
#endif
