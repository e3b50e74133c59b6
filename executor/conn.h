/*
 * conn.c — one authenticated SSH connection over libssh2: connect,
 * handshake, strict host key check, public key auth, keepalives, the
 * bounded waits every step uses, and teardown. Owns the socket, the libssh2
 * session and the identity's passphrase (wiped as soon as authentication is
 * over). A connection serves one run in one-shot mode (session.c) or many
 * runs in turn in service mode (pool.c); what a run needs (its arguments,
 * status record, stop flag, deadline, channel) is bound to it per run.
 *
 * Deadlines: connect <= connect timeout; handshake, host key and auth
 * together <= handshake timeout; everything <= the run's timeout when set.
 * Host keys are checked against the known_hosts file read afresh for every
 * new connection (knownhosts.c), never cached.
 *
 * Teardown after a failure (timeout, stop, dead peer) never waits for the
 * server: the channel close and the disconnect are handed to the kernel (for
 * at most FLUSH_MS), since sshd answers a close only when the command has
 * ended. The close still does what it is for: sshd closes the command's
 * stdin, stdout and stderr (it does not signal a command without a
 * terminal).
 */
#ifndef CONN_H
#define CONN_H
#include <signal.h>
#include <stdint.h>

#include <libssh2.h>

#include "args.h"
#include "status.h"

struct conn {
	/* Bound per run (conn_bind). */
	const struct args *a;
	struct status *st;
	volatile sig_atomic_t *stop;
	const char *stop_why;   /* how a stop reads in the status: "terminated by signal" */
	int watch_fd;           /* service: the client; readable or hung up means it left; -1 */
	int frame_fd;           /* service: output goes there as xproto frames; -1: fds 1 and 2 */
	int64_t deadline;       /* the run's, 0 = none */
	LIBSSH2_CHANNEL *ch;
	int out_closed[2];      /* our stdout/stderr (or the client) went away */
	int exec_sent;          /* the run's exec request was issued: its command may run */
	int frame_cut;          /* service: an output frame was cut short; the stream is unusable */
	/* The connection. */
	int fd;
	LIBSSH2_SESSION *ssh;
	char *pass;             /* the identity's passphrase until auth is over, or NULL */
	int64_t last_rx;        /* when the peer last sent us anything */
	int64_t dead_ms;        /* silence that means a dead peer (keepalive on) */
	int keepalive_s;        /* the interval configured on the session, 0: none */
	char hostkey_type[32], hostkey[64];
	int64_t idle_since;     /* service: when it went back to the pool */
	int idle_queued;        /* service: bytes the peer had queued at the last idle check */
	unsigned runs;          /* runs started on it */
};

/* Bind run A (status ST, stop flag STOP) to C. The run's deadline starts
 * at ST's start when A has a timeout. With a connection already open (a
 * warm one), the host key it was checked with is copied into ST. */
void conn_bind(struct conn *c, const struct args *a, struct status *st, volatile sig_atomic_t *stop);

/* A fresh C for run A (see conn_bind), holding PASSPHRASE (NULL: none),
 * which it takes: wiped and freed once authentication is over, whatever
 * its outcome, or at teardown. */
void conn_init(struct conn *c, const struct args *a, char *passphrase, struct status *st,
    volatile sig_atomic_t *stop);

/* Connect, handshake, check the host key against A->known_hosts, and
 * authenticate. 0, or a negative errno with the status set (never left
 * without an error kind). */
int conn_open(struct conn *c);

/* Wait until libssh2's socket is ready in the direction it blocked on, at
 * most until DEADLINE (0: none) and at most CAP_MS; with a watch_fd, a
 * client that leaves sets the stop flag. 0 when the call may be retried,
 * -ETIMEDOUT at the deadline, -EINTR when asked to stop. */
int conn_wait_io(struct conn *c, int64_t deadline, int cap_ms);

/* A failed wait (W from conn_wait_io) during WHAT, recorded in the status:
 * the stop, the run's timeout, or the phase's own (PHASE_TIMEOUT). */
void conn_fail_wait(struct conn *c, int w, enum exstatus_error phase_timeout, const char *what);

/* libssh2's last error message for C. */
const char *conn_errmsg(struct conn *c);

/* Keepalives from now on, every A->keepalive_s (when not 0). */
void conn_keepalive_start(struct conn *c);

/* Between waits: send a keepalive when one is due (only when CAN_SEND: no
 * packet of ours is half-sent, which libssh2 must finish first), and call
 * the peer dead after dead_ms of silence. 0, or -EIO (connection lost) or
 * -ETIMEDOUT (dead peer) with the status set. */
int conn_keepalive_tick(struct conn *c, int can_send);

/* An idle connection in the pool, checked at NOW: a keepalive sent when
 * due, and bytes from the peer (keepalive answers) looked at without
 * taking them. 1 while it is usable; 0 when the peer closed it, the socket
 * failed, or the peer answered nothing for dead_ms. Never blocks. */
int conn_idle_ok(struct conn *c, int64_t now);

/* After a run that ended well (chan_exec returned 0): free its channel,
 * keeping the connection for another run. 0, or -EIO when libssh2 could not
 * (the connection is then only fit for conn_teardown). */
int conn_release_channel(struct conn *c);

/* Close what is open (see the header comment) and free the libssh2
 * session; C may be initialised again. */
void conn_teardown(struct conn *c);

/* The lesser non-zero deadline of A and B (0: none). */
int64_t conn_min_deadline(int64_t a, int64_t b);
#endif
