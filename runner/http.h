/*
 * http.c — the daemon's HTTP face, the one module that speaks CivetWeb:
 * the listeners (the main one, TLS when configured, and server.ops_listen
 * for /healthz and /metrics), each request framed into an intake_req and
 * handed to its route, the answer written, counted and logged (one line per
 * request), and the draining flag SIGTERM raises.
 */
#ifndef HTTP_H
#define HTTP_H
#include <stddef.h>

#include "cfggen.h"
#include "jobs.h"
#include "store.h"

struct http;
struct workers;

/* Start listening as the config GENS started with says (GENS stays the
 * caller's and must outlive the server); each request runs under the
 * generation current when it arrived. 0, or -EADDRINUSE / -EINVAL (TLS
 * refused) / -ENOMEM with ERR saying why (port in use…). */
int http_start(struct cfggen *gens, struct store *st, struct jobs *jobs,
    struct http **out, char *err, size_t errlen);
/* SIGTERM: answer new deliveries 503, let running jobs finish for up to
 * TIMEOUT_S, then interrupt the rest (recorded "interrupted": the next
 * delivery runs them again). Returns how many had to be interrupted. */
int http_drain(struct http *s, int timeout_s);
/* The async worker pool to wake when a job is queued (may stay unset). */
void http_attach_workers(struct http *s, struct workers *w);
/* Stop listening, wait for requests in progress. NULL is a no-op. */
void http_stop(struct http *s);
#endif
