/*
 * notify.c — the systemd readiness protocol (sd_notify(3)) without
 * libsystemd, for Type=notify units. Owns $NOTIFY_SOCKET: notify_init()
 * reads it once (a path, or "@name" for an abstract socket) and removes it
 * from the environment, so no child — remote-executor, a job — ever inherits
 * it. Each message is then one datagram on a SOCK_DGRAM|SOCK_NONBLOCK|
 * SOCK_CLOEXEC unix socket: the daemon never waits for the service manager,
 * and a lost message costs only the manager's view, never a request.
 * Without $NOTIFY_SOCKET (a terminal, a container) every call is a no-op
 * returning 0.
 *
 * What main.c sends, and when:
 *   READY=1, STATUS=…, MAINPID=…   the listener is up and /healthz answers
 *   RELOADING=1, MONOTONIC_USEC=…  SIGHUP, before the new file is read;
 *   READY=1, STATUS=…              ... after it was applied or rejected
 *   STOPPING=1, STATUS=…, EXTEND_TIMEOUT_USEC=…   SIGTERM, before the drain
 * STATUS text is one line (newlines become spaces) and never holds secrets.
 *
 * Call from one thread only (main.c's signal loop); notify_init() before any
 * thread starts (it calls unsetenv).
 */
#ifndef NOTIFY_H
#define NOTIFY_H

/* Read and unset $NOTIFY_SOCKET, open the socket. 0 when it is unset or
 * usable; -EINVAL (bad address) or another negative errno, after which every
 * call is a no-op (the variable is unset in any case). */
int notify_init(void);
/* 1 when messages go somewhere. */
int notify_enabled(void);
/* One datagram of "KEY=VALUE\n…" as given. 0, or negative errno (-EAGAIN
 * when the manager's queue is full: the message is dropped, not retried). */
int notify_send(const char *msg);
/* READY=1 with STATUS (may be NULL) and MAINPID. */
int notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC now) and STATUS. */
int notify_reloading(const char *status);
/* STOPPING=1 with STATUS; EXTEND_TIMEOUT_USEC when EXTEND_S > 0, so a drain
 * longer than the unit's TimeoutStopSec= is not cut short. */
int notify_stopping(const char *status, int extend_s);
/* Close the socket; later calls are no-ops. */
void notify_close(void);
#endif
