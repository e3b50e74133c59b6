/*
 * http.c — the daemon's HTTP face, the one module that speaks CivetWeb:
 * the listeners (the main one, TLS when configured, and server.ops_listen
 * for /healthz and /metrics), each request framed into an intake_req and
 * handed to its route, the answer written, counted and logged (one line per
 * request).
 */
#ifndef HTTP_H
#define HTTP_H
#include <stddef.h>

#include "cfggen.h"
#include "store.h"

struct http;
struct queue;
struct slots;

/* Start listening as the config GENS started with says (GENS, ST, SLOTS and
 * QUEUE stay the caller's and must outlive the server: while SLOTS drain,
 * new deliveries are answered 503); each request runs under the
 * generation current when it arrived. 0, or -EADDRINUSE / -EINVAL (TLS
 * refused) / -ENOMEM with ERR saying why (port in use…). */
struct slackob;
/* The Slack poster the Slack routes hand their work to (slack_outbox.h);
 * called before http_start, or never (no Slack: NULL). */
void http_use_slack(struct slackob *ob);

struct liveout;
/* Where GET /jobs/<id>/output finds running jobs' output (liveout.h);
 * called before http_start, or never (NULL: every follower is refused 503). */
void http_use_liveout(struct liveout *lo);

int http_start(struct cfggen *gens, struct store *st, struct slots *slots, struct queue *queue,
    struct http **out, char *err, size_t errlen);
/* Stop listening, wait for requests in progress. NULL is a no-op. */
void http_stop(struct http *s);
#endif
