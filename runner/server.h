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

/* Start listening with CFG (ownership passes to the server, also on
 * failure the caller keeps it: on error CFG is untouched). On failure ERR
 * says why (port in use…). */
int server_start(struct config *cfg, struct store *st, struct jobs *jobs,
    struct server **out, char *err, size_t errlen);
/* Swap in CFG (ownership passes) for new requests; requests in progress keep
 * the config they started with, freed when the last of them ends. Settings
 * read only at start (listen, threads, timeouts, store, caps) are logged as
 * needing a restart. */
void server_reload(struct server *s, struct config *cfg);
/* SIGTERM: answer new deliveries 503, let running jobs finish for up to
 * TIMEOUT_S, then interrupt the rest (recorded "interrupted": the next
 * delivery runs them again). Returns how many had to be interrupted. */
int server_drain(struct server *s, int timeout_s);
struct workers;
/* The async worker pool to wake when a job is queued (may stay unset). */
void server_attach_workers(struct server *s, struct workers *w);
/* The current config, kept alive until server_config_put (for workers). */
const struct config *server_config_get(struct server *s, void **ref);
void server_config_put(struct server *s, void *ref);

/* Stop listening, wait for requests in progress, free the config. */
void server_stop(struct server *s);
#endif
