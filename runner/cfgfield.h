/*
 * cfgfield.h — typed readers for one field of the JSON configuration, each
 * naming the field in its error (`hooks[0].job: "timeout_s" must be between
 * 1 and 86400`), and the context they share while one file is loaded: where
 * the error goes, the config file's directory, and the config being built
 * (which collects the warnings). Private to config.c and hookcfg.c.
 */
#ifndef CFGFIELD_H
#define CFGFIELD_H
#include <stddef.h>

#include <cjson/cJSON.h>

struct config;

struct cfgfield_ctx {
	char *err;
	size_t errlen;
	char *dir;           /* the config file's directory */
	struct config *cfg;  /* being built: the warnings go into it */
};

/* Add "PATH: message" to the config's warnings, for the operator
 * (check-config prints them, the daemon logs them): the config works, but
 * something in it weakens what the daemon promises. Out of memory drops the
 * warning, never the config. */
void cfgfield_warn(struct cfgfield_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write "PATH: message" into the context's error buffer. Returns -EINVAL,
 * so a caller can `return cfgfield_bad(...)`. */
int cfgfield_bad(struct cfgfield_ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resolve the secret reference REF (env:, file:, cred:) at field PATH into a
 * new string *OUT (the caller wipes and frees it). A secret file others can
 * read is a warning. 0, -ENOMEM, or -EINVAL with the error set. */
int cfgfield_secret(struct cfgfield_ctx *c, const char *path, const char *ref, char **out);

/* OBJ (at PATH) must be an object whose fields are all in ALLOWED (a
 * NULL-terminated list), none appearing twice. 0 or -EINVAL. */
int cfgfield_only_keys(struct cfgfield_ctx *c, const cJSON *obj, const char *path,
    const char *const *allowed);

/* Field NAME of OBJ (at PATH; OBJ may be NULL): a non-empty string, pointed
 * to by *OUT (borrowed from OBJ), or *OUT = NULL when absent and not
 * REQUIRED. 0 or -EINVAL. */
int cfgfield_str(struct cfgfield_ctx *c, const cJSON *obj, const char *path, const char *name,
    int required, const char **out);

/* Field NAME of OBJ (at PATH; OBJ may be NULL): a whole number in
 * [MIN, MAX] into *OUT, or DEF when absent. 0 or -EINVAL. */
int cfgfield_int(struct cfgfield_ctx *c, const cJSON *obj, const char *path, const char *name,
    long long min, long long max, long long def, long long *out);

/* Field NAME of OBJ (at PATH; OBJ may be NULL): true or false into *OUT,
 * left as it is when absent. 0 or -EINVAL. */
int cfgfield_bool(struct cfgfield_ctx *c, const cJSON *obj, const char *path, const char *name,
    int *out);

/* P made absolute against the config file's directory, into a new string
 * *OUT. 0 or -ENOMEM. */
int cfgfield_path(struct cfgfield_ctx *c, const char *p, char **out);
#endif
