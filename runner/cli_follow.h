/*
 * cli_follow.c — `webhook-runner jobs follow ID [--url URL] --token REF`:
 * the terminal client of GET /jobs/<id>/output (route_output.h), the live
 * output of a job as Server-Sent Events. Owns the subcommand's options, the
 * HTTP/1.1 GET over a plain TCP socket (http:// only, host an IP literal or
 * localhost, as common/httpprobe.h parses the URL; no TLS: https:// is
 * refused rather than sending the token to a server whose certificate
 * nothing checks), the reconnection with Last-Event-ID, and what each event
 * becomes on the terminal. The stream itself is parsed by common/sseparse.h
 * (bounded, fuzzed); the answer's status line by httpprobe_parse_status.
 *
 * Output: `stdout` chunks to stdout and `stderr` chunks to stderr as they
 * come, each flushed; `tail` (a job this daemon no longer holds live) to
 * stdout; a `gap` as a note on stderr; `elsewhere` as a message on stderr.
 * On a terminal, control bytes other than newline and tab become '?'.
 *
 * A dropped connection (end of stream, read error, 60 s without a byte:
 * the daemon sends heartbeats) is reconnected with Last-Event-ID set to the
 * last offset received, so no byte is printed twice; the delay is the
 * stream's `retry:` hint (bounded to 100 ms .. 30 s), at most
 * CLI_FOLLOW_RETRIES attempts in a row without a new event. The first
 * connection is not retried: its failure is reported at once.
 *
 * Exit status: on the `outcome` event, cli_follow_exit_code's mapping;
 * CLI_FOLLOW_EXIT_ELSEWHERE when the job runs on another instance;
 * 1 for every failure of the client (unknown job, refused token, daemon
 * unreachable, connection lost past the retries, a malformed stream);
 * 2 for bad arguments.
 */
#ifndef CLI_FOLLOW_H
#define CLI_FOLLOW_H

#define CLI_FOLLOW_RETRIES          5
#define CLI_FOLLOW_EXIT_ELSEWHERE   3   /* runs on another instance of the store */
#define CLI_FOLLOW_EXIT_EXPIRED     120 /* its approval expired: never ran */
#define CLI_FOLLOW_EXIT_DENIED      121 /* its approval was denied: never ran */
#define CLI_FOLLOW_EXIT_INTERRUPTED 122 /* a daemon stopped or died while it ran */
#define CLI_FOLLOW_EXIT_TIMEOUT     124 /* killed at the hook's timeout (as timeout(1)) */
#define CLI_FOLLOW_EXIT_NOT_RUN     125 /* failed to run: no exit status (ssh, executor) */

/* The exit status for an outcome: STATUS is GET /jobs/<id>'s "status",
 * HAS_EXIT/EXIT_CODE its "exit_code" (when not null), SIGNAL its "signal"
 * (NULL or "" for none). timeout, interrupted, denied and expired give
 * their CLI_FOLLOW_EXIT_* code; otherwise the exit code when it is 0..255,
 * else 128 + the signal's number for a known signal name ("TERM" or
 * "SIGTERM"), else CLI_FOLLOW_EXIT_NOT_RUN. A NULL or unknown STATUS is
 * CLI_FOLLOW_EXIT_NOT_RUN too. Pure. */
int cli_follow_exit_code(const char *status, int has_exit, int exit_code, const char *signal);

/* Entry point; ARGV[0] is "follow" (after "jobs"). Returns the exit status. */
int cli_follow_main(int argc, char **argv);
#endif
