/*
 * server.c — the HTTP face of the daemon (CivetWeb). Owns the routes
 * (/hooks/<id>, /healthz, everything else 404), the request pipeline in
 * DESIGN.md's order — caps, signature, JWT, idempotency key, template,
 * concurrency slot, claim, run, record, answer — and the per-request log
 * line. Every step rejects early: nothing untrusted reaches a later step
 * unverified, and nothing is recorded for a request that fails verification.
 * Sync hooks hold their worker thread for the job; the job runs to the end
 * even when the client goes away (the outcome is stored for the replay).
 */
#ifndef SERVER_H
#define SERVER_H
#include "cfggen.h"
#include "config.h"
#include "jobs.h"
#include "store.h"

struct server;

/* Start listening as the config GENS started with says (GENS stays the
 * caller's and must outlive the server); each request runs under the
 * generation current when it arrived. On failure ERR says why (port in
 * use…). */
int server_start(struct cfggen *gens, struct store *st, struct jobs *jobs,
    struct server **out, char *err, size_t errlen);
/* SIGTERM: answer new deliveries 503, let running jobs finish for up to
 * TIMEOUT_S, then interrupt the rest (recorded "interrupted": the next
 * delivery runs them again). Returns how many had to be interrupted. */
int server_drain(struct server *s, int timeout_s);
struct workers;
/* The async worker pool to wake when a job is queued (may stay unset). */
void server_attach_workers(struct server *s, struct workers *w);
/* Stop listening, wait for requests in progress. */
void server_stop(struct server *s);
#endif
