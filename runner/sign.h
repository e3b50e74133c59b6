/*
 * sign.c — `webhook-runner sign`: the headers a hook's sender would add for
 * a payload file (signature of the hook's scheme with its first secret, a
 * JWT when the hook wants one, an idempotency key), one "Name: value" per
 * line so that `curl -H @file` sends them. For operators' first requests,
 * docs and tests. Reads the same config (and the same secret references)
 * as the daemon.
 */
#ifndef SIGN_H
#define SIGN_H
/* Entry point for the subcommand; ARGV[0] is "sign". Returns the exit code. */
int sign_main(int argc, char **argv);
#endif
