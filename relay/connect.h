/*
 * connect.h — `webhook-relay connect`: the client that follows a relay's
 * SSE stream and forwards each stored request to a target. Owns the
 * command line and its environment fallbacks (SOURCE_URL,
 * TARGET_BASE_URL, RELAY_TOKEN, RELAY_STATE_FILE, RELAY_LOG_FORMAT), the
 * token's secret reference (common/secret.h: env:NAME, file:PATH,
 * cred:NAME; never a literal), loading the state file, the signals (SIGTERM/SIGINT: stop
 * after the forward in flight), and the summary line at exit. The loop
 * itself is connect_run.h.
 */
#ifndef CONNECT_H
#define CONNECT_H
#include <stddef.h>

/* Entry point of `webhook-relay connect ARGS...`: ARGV[0] is "connect"
 * (main.c's table hands each subcommand ARGV from its own name on).
 * Exit status: 0 after SIGTERM/SIGINT or --help, 2 for a usage or
 * configuration error (a message on stderr), 1 when it cannot go on (the
 * state file is unreadable or corrupt, out of memory). */
int connect_main(int argc, char **argv);

#endif
