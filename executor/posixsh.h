/*
 * posixsh.c — what --posix-sh sends: the exec request and the one-line
 * script written on the channel's stdin. Owns their text; the command is
 * single-quoted with common/shquote.h.
 *
 * The exec request is POSIXSH_EXEC_REQUEST, two plain words that bash, dash,
 * zsh, fish and tcsh (any POSIX or csh-like shell) parse alike: the
 * account's login shell replaces itself with /bin/sh, which reads the
 * script from its stdin:
 *
 *   { exec /bin/sh -c '<command, single-quoted>' </dev/null; }
 *
 * followed by a newline. The login shell never sees the command; /bin/sh
 * removes one level of quotes (a literal, nothing expands inside '…') and
 * the inner /bin/sh parses the command exactly once, reading /dev/null.
 * Because the login shell and the outer /bin/sh each exec, the command's
 * own process reports to sshd: its exit status, or the signal that killed
 * it, arrives as with ssh(1) whatever the login shell.
 *
 * The braces make a cut-short script harmless: if the connection ends
 * while the script is being sent, the shell reads a prefix, and every
 * prefix that stops before the closing brace is a syntax error (an
 * unclosed quote or brace group), so nothing runs. Without them, a prefix
 * ending just after a quote inside the command would be a complete,
 * shorter command ('rm -rf /srv/app/'\''old'\''' cut to
 * 'rm -rf /srv/app/').
 */
#ifndef POSIXSH_H
#define POSIXSH_H
#include <stddef.h>

#define POSIXSH_EXEC_REQUEST "exec /bin/sh"

/* The script for COMMAND (LEN bytes). 0 with *OUT (malloc'ed,
 * NUL-terminated) and *OUTLEN; -EINVAL when COMMAND holds a NUL byte (a
 * shell argument cannot), -EOVERFLOW when LEN is absurd, -ENOMEM. */
int posixsh_script(const char *command, size_t len, char **out, size_t *outlen);
#endif
