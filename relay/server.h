/*
 * server.c — the relay's CivetWeb adapter (the only relay file that
 * includes civetweb.h). Owns the two listeners and their options, the
 * routes (POST /webhooks/<channel>/… publish; GET /subscribe/<channel>/
 * the SSE stream; /live, /ready, /metrics on the ops listener), framing a
 * request into an event, the JSON answers, one log line per request, and
 * the drain flag.
 *
 * Threads: CivetWeb runs one thread per connection. A subscriber holds its
 * thread for as long as it streams, so the main listener gets
 * max_subscribers + publish_threads threads and refuses a subscriber past
 * max_subscribers (503) before it can take a publisher's thread.
 * Deadlines: request_timeout_ms bounds the reading of a whole request
 * (CivetWeb with our patches), so a publisher that dribbles its body is cut;
 * a subscribe request has no body, and once its headers are in, the stream
 * reads nothing more, so the deadline never ends it: only each write is
 * bounded (a subscriber that stops reading for that long is cut).
 */
#ifndef RELAY_SERVER_H
#define RELAY_SERVER_H
#include <stddef.h>

#include "auth.h"
#include "evstore.h"
#include "hub.h"
#include "opts.h"

struct server;

/* Listen as O says; serve with AUTH, STORE, HUB (all outlive the server).
 * 0, or -EADDRINUSE / -ENOMEM with ERR for the operator. */
int server_start(const struct opts *o, const struct auth *auth, struct evstore *store,
    struct hub *hub, struct server **out, char *err, size_t errlen);

/* Stop taking work: publishes and new subscribers get 503, /ready fails,
 * and every stream gets a final retry hint and ends. */
void server_drain(struct server *s);

/* Close the listeners, wait for the handlers, free. NULL: nothing. */
void server_stop(struct server *s);
#endif
