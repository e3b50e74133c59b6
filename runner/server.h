/*
 * server.c — the HTTP face of the daemon (CivetWeb). Owns the routes
 * (/hooks/<id>, /healthz, everything else 404), the request pipeline in
 * this order — caps, signature, JWT, idempotency key, template, claim,
 * concurrency slot, run, record, answer — and the per-request log line.
 * Every step rejects early: nothing untrusted reaches a later step
 * unverified, and nothing is recorded for a request that fails verification.
 * Sync hooks hold their worker thread for the job; the job runs to the end
 * even when the client goes away (the outcome is stored for the replay).
 */
#ifndef SERVER_H
#define SERVER_H
#include "cfggen.h"
#include "config.h"
#include "store.h"

struct queue;
struct slots;

struct server;

/* Start listening as the config GENS started with says (GENS stays the
 * caller's and must outlive the server); each request runs under the
 * generation current when it arrived. Sync jobs hold a slot of SLOTS; async
 * hooks' jobs go into QUEUE (ST, SLOTS and QUEUE must outlive the server).
 * On failure ERR says why (port in use…). */
int server_start(struct cfggen *gens, struct store *st, struct slots *slots, struct queue *queue,
    struct server **out, char *err, size_t errlen);
/* Stop listening, wait for requests in progress. */
void server_stop(struct server *s);
#endif
