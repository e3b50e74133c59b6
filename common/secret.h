/*
 * secret.c — secrets by reference. Owns turning a reference from the
 * configuration into the secret's bytes: env:NAME (the daemon's environment),
 * file:PATH, cred:NAME ($CREDENTIALS_DIRECTORY/NAME, systemd's
 * LoadCredential=); a literal is refused, so a config file never holds one.
 * Also owns the environment scrub that keeps env: secrets out of
 * /proc/<pid>/environ. Files are read with common/readfile.h's bounded,
 * wiping read.
 *
 * Errors are 0 or a negative errno with one line in ERR; nothing here logs.
 */
#ifndef SECRET_H
#define SECRET_H
#include <stddef.h>

#define SECRET_MAX_BYTES 65536

/* What a resolved secret's source looked like. */
struct secret_info {
	int loose_mode;            /* a file readable or writable by group or others */
	char path[4096];           /* the file's path (file:, cred:), else "" */
};

/* Resolve REF into a malloc'ed, NUL-terminated secret (one trailing newline
 * and carriage return of a file dropped). INFO (may be NULL) gets what the
 * source looked like. -EINVAL for a literal, a malformed reference, an empty
 * secret or one with a NUL byte; -ENOENT when the variable or file is
 * missing; -ENOMEM. The caller wipes and frees *OUT. */
int secret_resolve(const char *ref, char **out, struct secret_info *info, char *err, size_t errlen);

/* "cred:NAME" -> $CREDENTIALS_DIRECTORY/NAME into PATH (LEN bytes). 0, or
 * -EINVAL (bad name), -ENOENT (no $CREDENTIALS_DIRECTORY), -ENAMETOOLONG,
 * with ERR saying which. */
int secret_cred_path(const char *ref, char *path, size_t len, char *err, size_t errlen);

/* 1 when the file at PATH can be read or written by group or others (a
 * private key or a secret should not), 0 when not or when it cannot be
 * looked at. */
int secret_mode_loose(const char *path);

/* Move the process environment into private memory and wipe the block the
 * kernel shows as /proc/self/environ, so that env: secrets are not readable
 * there (getenv keeps working; children get their own environment). Call
 * once at start-up, before any thread. 0 or -ENOMEM (the environment is then
 * left as it was). */
int secret_scrub_environ(void);
#endif
