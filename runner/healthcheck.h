/*
 * healthcheck.c — `webhook-runner healthcheck [--url URL | --port P]`: one
 * GET of /healthz (default http://127.0.0.1:8080/healthz) through
 * common/httpprobe.c, bounded by a 3 s deadline for connect, send and answer
 * together. Exit 0 when the daemon answers 200 (the body's first line on
 * stdout), else 1 with a one-line reason on stderr (bad arguments too:
 * Docker reserves exit code 2). Owns the subcommand's options and messages.
 */
#ifndef HEALTHCHECK_H
#define HEALTHCHECK_H

/* Entry point for the subcommand; ARGV[0] is "healthcheck". Exit code. */
int healthcheck_main(int argc, char **argv);
#endif
