/*
 * input.c — what the executor reads before any network work: the command
 * from --command-fd and the key passphrase from --passphrase-fd or
 * --passphrase-env. Owns the bounded, deadline- and signal-aware read of a
 * descriptor, the checks on what was read (not empty, no NUL byte, not too
 * long), closing the descriptor, and wiping the source of a secret: a
 * memfd's content is overwritten and truncated after reading, an
 * environment variable's value is overwritten in place (the bytes that
 * /proc/PID/environ shows) and the variable unset.
 */
#ifndef INPUT_H
#define INPUT_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

enum input_error {
	INPUT_OK = 0,
	INPUT_EMPTY,     /* nothing (left after the stripped newline) */
	INPUT_NUL,       /* a NUL byte: a command or passphrase cannot hold one */
	INPUT_TOO_LONG,  /* more than the maximum */
	INPUT_READ,      /* read or poll failed (bad descriptor, I/O error) */
	INPUT_TIMEOUT,   /* the deadline passed before EOF */
	INPUT_STOPPED,   /* *stop became non-zero (a termination signal) */
};

/* How input_read_fd treats the data. */
#define INPUT_SECRET   1 /* one buffer allocated up front, wiped on every failure; wipe a memfd source */
#define INPUT_STRIP_NL 2 /* drop one trailing "\n" */

/* Read descriptor FD until EOF: at most MAX bytes (after INPUT_STRIP_NL),
 * until DEADLINE_MS (clock_mono_ms time; 0 = none), while *STOP is 0.
 * FD is closed in every case; one of 0-2 is left open on /dev/null
 * instead, so that no later descriptor takes its number. 0 with *OUT
 * (malloc'ed, NUL-terminated, *LEN bytes), or -errno with *WHY saying why:
 * -EINVAL (empty, NUL byte), -E2BIG (too long), -ETIMEDOUT, -EINTR, or the
 * -errno of the failed read. */
int input_read_fd(int fd, size_t max, int flags, int64_t deadline_ms, volatile sig_atomic_t *stop,
    char **out, size_t *len, enum input_error *why);

/* Take environment variable NAME: a copy in *OUT (malloc'ed), the value
 * overwritten with NULs in place, the variable unset. 0, -ENOENT when it
 * is not set, -ENOMEM. */
int input_take_env(const char *name, char **out);

/* explicit_bzero S (LEN bytes; strlen when LEN is 0) and free it. NULL is fine. */
void input_wipe(char *s, size_t len);

/* A short English phrase for WHY ("is empty", "holds a NUL byte"…). */
const char *input_error_text(enum input_error why);
#endif
