/*
 * chan.c — one run of a command on an open, authenticated connection
 * (conn.h): a session channel, the exec request (or, with --posix-sh,
 * POSIXSH_EXEC_REQUEST and the script on the channel's stdin), an empty
 * stdin for the command, the relay of its stdout and stderr, and its exit
 * status or signal. Owns the output cap (A->max_output, stdout + stderr,
 * the rest counted and dropped) and where the output goes: our fds 1 and 2
 * in one-shot mode, xproto stdout/stderr frames on the client's socket in
 * service mode (conn.frame_fd).
 *
 * While the command runs, a keepalive goes out every A->keepalive_s
 * seconds (at least 2: libssh2's minimum) and the peer is declared dead
 * when nothing at all was received for (keepalive-max + 1) intervals, as
 * with OpenSSH's ServerAliveCountMax.
 */
#ifndef CHAN_H
#define CHAN_H
#include "conn.h"

/* Run C->a->command on C (open, bound with conn_bind). 0 when the command
 * ended and its status was read (ST->phase "done", has_exit or signal
 * set); a negative errno with the status set otherwise. C->exec_sent tells
 * whether the exec request went out (after it, the command may have run).
 * The channel stays in C->ch for the caller to free or tear down. */
int chan_exec(struct conn *c);
#endif
