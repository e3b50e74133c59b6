/*
 * config.c — the daemon's configuration: one JSON file, read and validated
 * completely before anything starts (a bad file never half-starts). Owns
 * parsing (cJSON), defaults, strict validation with errors that name the
 * field (`hooks[0].jwt.algorithms: unknown algorithm "HS257"`), resolving
 * secret references (env:NAME, file:PATH, cred:NAME from
 * $CREDENTIALS_DIRECTORY; a literal secret is an error), and compiling each
 * hook's verifiers and command template. Unknown fields are errors, so a
 * typo is caught instead of silently ignored. Relative paths are taken from
 * the config file's directory. See config/README.md for every field.
 */
#ifndef CONFIG_H
#define CONFIG_H
#include <stddef.h>
#include <stdint.h>

#include "cfgtypes.h"

/* Load and validate PATH. On error returns -EINVAL (or -errno for an
 * unreadable file) with a one-line message in ERR naming the field. */
int config_load(const char *path, struct config **out, char *err, size_t errlen);
/* Release C and everything it holds, wiping its secrets. NULL is fine. */
void config_free(struct config *c);
/* The hook whose id is ID, or NULL when C has none. */
const struct cfg_hook *config_hook(const struct config *c, const char *id);
#endif
