/*
 * args.c — remote-executor's command line. Owns option parsing and
 * validation, the destination syntax (user@host[:port], user@[v6]:port) and
 * the --help text. Bad arguments produce one line in ERR and -EINVAL; the
 * caller exits 2 (never 255, which means "the remote run failed").
 */
#ifndef ARGS_H
#define ARGS_H
#include <stddef.h>
#include <stdint.h>

struct args {
	char *user, *host;               /* owned */
	int port;
	const char *identity;            /* NULL: --agent or the default keys */
	char *known_hosts;               /* owned */
	int64_t connect_timeout_ms;      /* TCP connect */
	int64_t handshake_timeout_ms;    /* SSH handshake + host key + auth */
	int64_t timeout_ms;              /* whole run; 0 = none */
	int keepalive_s, keepalive_max;  /* 0 s = off */
	uint64_t max_output;             /* bytes relayed to stdout+stderr; 0 = unlimited */
	int status_fd;                   /* -1: none */
	const char *passphrase_env;      /* name of the env var holding the passphrase */
	int passphrase_fd;               /* -1: none */
	int command_fd;                  /* -1: the command is the words after -- */
	int posix_sh;                    /* --posix-sh: the command goes to /bin/sh on stdin */
	int agent;
	int exit_with_parent;            /* PR_SET_PDEATHSIG: stop when the caller dies */
	int parent_pid;                  /* --parent-pid: the caller's pid; 0: not given */
	int info_only;                   /* --help/--version was printed: run nothing, exit 0 */
	char *command;                   /* owned: the words after -- joined by spaces;
	                                    NULL with --command-fd (main reads it) */
};

/* 0: ready to run, or, with A->info_only set, --help/--version was printed
 * (exit 0); -EINVAL with a one-line ERR, or -ENOMEM. Descriptors named by --status-fd,
 * --command-fd and --passphrase-fd are checked to be open and distinct;
 * nothing is read from them here. */
int args_parse(int argc, char **argv, struct args *a, char *err, size_t errlen);
void args_clear(struct args *a);
/* The destination D ([user@]host[:port], [user@][v6addr]:port) into
 * A->user and A->host (owned, for args_clear) and A->port (left alone when D
 * has none). 0; -EINVAL with a one-line ERR; -ENOMEM. */
int args_parse_dest(const char *d, struct args *a, char *err, size_t errlen);
#endif
