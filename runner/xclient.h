/*
 * xclient.c — running one hook's job through the remote-executor service
 * (`remote-executor serve`, executor.socket) instead of spawning the
 * executor. Owns: the connection to the service's Unix socket, the request
 * (common/xproto: destination, identity name, command, timeouts, output
 * cap, reuse and /bin/sh flags, job id), reading the output chunks into the
 * tail and the live output (runner/liveout.h) and the final status line, and the deadline backstop.
 *
 * The result is a struct exec_result exactly as exec_run fills it, so
 * exec_outcome maps it the same way: HTTP answers and job states do not
 * depend on how the job ran. What only the service can say arrives in the
 * same status line ("refused": the service's config does not allow this
 * identity for this destination, 502; "busy", 503).
 *
 * Failures of the service itself:
 *  - no service (no socket, nobody listening), or it hung up before taking
 *    the whole request: nothing ran; the result says unavailable (503 with
 *    a Retry-After, the next delivery runs it);
 *  - the service went away after taking the request, without a status:
 *    has_status stays 0, as when a spawned executor dies (500 "failed");
 *    nothing is run again by the runner.
 * Deadlines: the service ends the run at the job's timeout itself; the
 * runner's backstop is a second later. At the backstop, or when the daemon
 * shuts down (slots_interrupt_all), the runner half-closes the connection
 * (the service stops the job when its client goes), reads what comes for
 * half a second more, and closes: killed (504) or interrupted (503).
 */
#ifndef XCLIENT_H
#define XCLIENT_H
#include <stddef.h>
#include <stdint.h>

#include "exec.h"

struct slots;

struct xclient_spec {
	struct slots *owner;       /* whose slots_interrupt_all stops it; may be NULL */
	const char *socket_path;   /* executor.socket */
	const char *destination;   /* user@host:port */
	const char *identity_name; /* an identity of the service */
	const char *command;       /* rendered, quoted for POSIX sh */
	int64_t timeout_ms, connect_timeout_ms, handshake_timeout_ms;
	size_t max_output_bytes, tail_bytes;
	int reuse;                 /* may run on a warm session */
	const char *job_id;        /* for the service's log line; may be NULL */
	struct liveout_job *live;  /* where each output frame also goes; may be NULL */
};

/* Run SPEC through the service to completion (blocking). 0 with RES filled
 * (RES->unavailable when the service could not take the job; a message in
 * RES->message either way), or -ENOMEM. A request the protocol cannot
 * carry (a command over its cap) is -EINVAL with the reason in
 * RES->message. */
int xclient_run(const struct xclient_spec *spec, struct exec_result *res);
#endif
