/*
 * hookcfg.h — one entry of the configuration's "hooks" list: its id, its
 * signature scheme and secrets, its optional JWT policy, its idempotency
 * keys, and its job (destination, SSH files, command template, limits),
 * parsed and checked with errors that name the field. The warnings about a
 * single hook (a header the signature does not cover, replays under a new
 * idempotency key) are given here too. Private to config.c.
 */
#ifndef HOOKCFG_H
#define HOOKCFG_H
#include <stddef.h>

#include <cjson/cJSON.h>

#include "cfgfield.h"
#include "cfgtypes.h"

/* Parse O, the I-th entry of "hooks", into CFG->hooks[I] (zeroed by the
 * caller; CFG->hooks[0..I-1] are done, and the id must differ from theirs).
 * 0, -ENOMEM, or -EINVAL with the error in C naming the field. On error the
 * hook may be half built: hookcfg_clear releases it. */
int hookcfg_parse(struct cfgfield_ctx *c, const cJSON *o, size_t i, struct config *cfg);

/* Release everything H holds, wiping its secrets; H itself is not freed.
 * Safe on a zeroed or half-built hook. */
void hookcfg_clear(struct cfg_hook *h);
#endif
