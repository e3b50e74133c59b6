/*
 * session.c — one SSH run in one-shot mode, start to finish: a connection
 * (conn.c: connect, handshake, strict host key check, auth), the run on it
 * (chan.c: exec, relay, exit status) and the teardown. Deadlines, keepalives
 * and teardown are as conn.h and chan.h say.
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
