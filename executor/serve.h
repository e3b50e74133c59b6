/*
 * serve.c — `remote-executor serve --config FILE`: the executor as a
 * long-running service. Owns its start-up (config, the Unix socket and its
 * mode), the accept loop with the peer check (SO_PEERCRED against
 * allowed_uids), the job threads (one per client connection, at most
 * max_jobs; more are answered busy), the pool's upkeep thread (idle expiry,
 * keepalives), and the SIGTERM drain: new clients are answered busy while
 * running jobs finish (at most drain_timeout_s), then idle connections are
 * closed and the socket removed.
 *
 * Threads rather than an event loop: a run is the same blocking-with-poll
 * code as one-shot mode (conn.c, chan.c), every wait bounded by the run's
 * deadlines; a thread per job keeps that code as it is, and libssh2
 * sessions are independent between threads. The pool's mutex is held only
 * for list work, never across network I/O.
 */
#ifndef SERVE_H
#define SERVE_H

/* The service's main, with ARGV[0] "serve". The process exit status: 0
 * after a drain, 2 for bad arguments or config, 1 when it cannot start. */
int serve_main(int argc, char **argv);
#endif
