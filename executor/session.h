/*
 * session.c — one SSH run, start to finish: connect, handshake, strict host
 * key check, public key auth, exec, relay, exit status. Owns the libssh2
 * session (non-blocking throughout, every wait bounded by the phase's
 * deadline), the socket, the identity's passphrase (wiped as soon as
 * authentication is over), the --posix-sh script sent on the channel's
 * stdin, and the relay of the remote streams to our stdout and stderr.
 *
 * Deadlines: connect <= --connect-timeout; handshake, host key and auth
 * together <= --handshake-timeout; everything <= --timeout when set. While
 * the command runs, a keepalive goes out every --keepalive seconds (at least
 * 2: libssh2's minimum) and the peer is declared dead when nothing at all was
 * received for (keepalive-max + 1) intervals, as with OpenSSH's
 * ServerAliveCountMax.
 *
 * A failed run (timeout, signal, dead peer) ends at once: the channel close
 * and the disconnect are handed to the kernel (for at most FLUSH_MS), never
 * waited for, since sshd answers a close only when the command has ended.
 * The close still does what it is for: sshd closes the command's stdin,
 * stdout and stderr (it does not signal a command without a terminal).
 */
#ifndef SESSION_H
#define SESSION_H
#include <signal.h>
#include "args.h"
#include "status.h"

/* Run A's command (A->command). PASSPHRASE (NULL: none) is taken: wiped
 * and freed once authentication is over, whatever its outcome. Fills ST as
 * it goes (never leaves error unset on failure) and returns the process
 * exit status: the remote status, or 255. STOP becomes non-zero when a
 * termination signal arrives. */
int session_run(const struct args *a, char *passphrase, struct status *st,
    volatile sig_atomic_t *stop);
#endif
