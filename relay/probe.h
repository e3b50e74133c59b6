/*
 * probe.c — `webhook-relay healthcheck [--url URL | --port PORT]`: one GET
 * of the ops listener's /live (default http://127.0.0.1:9000/live) through
 * common/httpprobe.c, connect, send and answer bounded together by 3 s. Exit
 * 0 when the relay answers 200 (the body's first line on stdout), else 1
 * with a one-line reason on stderr (bad arguments too: Docker reserves exit
 * code 2) — the container's HEALTHCHECK, without curl. Owns the
 * subcommand's options and messages.
 */
#ifndef PROBE_H
#define PROBE_H

/* Entry point for the subcommand; ARGV[0] is "healthcheck". Exit code. */
int probe_main(int argc, char **argv);
#endif
