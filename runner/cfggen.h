/*
 * cfggen.h — config generations. Owns the config in force and the one the
 * daemon started with. Every request and every async job takes a reference
 * to the current generation for its whole life, so a reload never frees a
 * config under a running job; the last reference frees it. A reload is
 * compared with the config the daemon started with (not merely with the last
 * reload) and each setting that only a restart changes is logged once.
 * Thread-safe: the HTTP threads, the workers and the main loop share one.
 */
#ifndef CFGGEN_H
#define CFGGEN_H
#include "config.h"

struct cfggen;

/* Take CFG (ownership passes on success; on error CFG stays the caller's)
 * as the first generation, and note its certificate and key files as they
 * are now (a later renewal at the same paths is a restart-only change).
 * Returns 0 or -ENOMEM. */
int cfggen_new(struct config *cfg, struct cfggen **out);
/* The current config, alive until cfggen_put(G, *REF). Never NULL. */
const struct config *cfggen_get(struct cfggen *g, void **ref);
/* The config the daemon started with (listeners, TLS, caps come from it),
 * alive until cfggen_free. */
const struct config *cfggen_first(struct cfggen *g);
/* Drop the reference REF from cfggen_get (frees that generation when it was
 * the last one). */
void cfggen_put(struct cfggen *g, void *ref);
/* Swap in CFG (ownership passes, also on failure, where it is freed and
 * the failure logged) for new references; holders of the old one keep it.
 * Restart-only differences from the first config are logged. */
void cfggen_swap(struct cfggen *g, struct config *cfg);
/* Free G and its generations (every reference must have been put). */
void cfggen_free(struct cfggen *g);
#endif
