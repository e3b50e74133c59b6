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
#include "config.h"
#include "jobs.h"
#include "store.h"

struct server;

/* Start listening with CFG (borrowed; it must outlive the server). On
 * failure ERR says why (port in use…). */
int server_start(const struct config *cfg, struct store *st, struct jobs *jobs,
    struct server **out, char *err, size_t errlen);
/* Stop accepting and wait for requests in progress (their jobs finish). */
void server_stop(struct server *s);
#endif
