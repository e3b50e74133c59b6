/*
 * args.c — remote-executor's command line (contract in args.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"

#define EXECUTOR_VERSION "0.1.0"

static const char usage_text[] =
"usage: remote-executor [options] [user@]host[:port] -- command [args...]\n"
"       remote-executor [options] --command-fd N [user@]host[:port]\n"
"\n"
"Run one command on HOST over SSH (libssh2) and relay its stdout and stderr.\n"
"The words after -- are joined with spaces and reach the remote user's login\n"
"shell as one string, exactly as with ssh(1): quote for that shell. With\n"
"--posix-sh the command reaches /bin/sh instead, whatever the login shell.\n"
"No terminal is allocated and the remote command reads an empty stdin.\n"
"\n"
"Options:\n"
"  -i, --identity FILE        private key (OpenSSH format: ed25519, ecdsa, rsa).\n"
"                             Default: --agent if given, else ~/.ssh/id_ed25519,\n"
"                             id_ecdsa, id_rsa, whichever exist.\n"
"      --passphrase-fd N      read the key's passphrase from descriptor N (at\n"
"                             most 1 KiB; one trailing newline is dropped), then\n"
"                             close N\n"
"      --passphrase-env NAME  read the key's passphrase from environment\n"
"                             variable NAME, then wipe it there (never from the\n"
"                             command line). Either way the passphrase is read\n"
"                             before any network work and wiped from memory as\n"
"                             soon as authentication is over\n"
"  -A, --agent                authenticate with the keys of ssh-agent\n"
"                             ($SSH_AUTH_SOCK), before any identity file\n"
"  -k, --known-hosts FILE     known_hosts file (default ~/.ssh/known_hosts).\n"
"                             Checking is strict: an unknown or changed host\n"
"                             key is refused and nothing runs.\n"
"  -p, --port PORT            port (default 22, or the :port of the destination)\n"
"      --command-fd N         read the command from descriptor N until EOF (at\n"
"                             most 1 MiB, not empty, no NUL byte), then close N;\n"
"                             instead of -- command, and out of /proc/PID/cmdline\n"
"      --posix-sh             have /bin/sh on HOST parse the command, never the\n"
"                             account's login shell (fish, tcsh... quote in their\n"
"                             own ways): the exec request is \"exec /bin/sh\", and\n"
"                             the command travels on the channel's stdin as the\n"
"                             one-line script\n"
"                               { exec /bin/sh -c '<command>' </dev/null; }\n"
"                             (the command single-quoted). Quote for POSIX sh.\n"
"                             Unlike plain mode: the login shell must run\n"
"                             \"exec /bin/sh\" (nologin refuses: its message and\n"
"                             exit status come back, nothing runs); aliases and\n"
"                             functions of its startup files do not apply, the\n"
"                             variables they export do; a script cut short by a\n"
"                             lost connection runs nothing. As in plain mode the\n"
"                             command is one argument (of /bin/sh here, of the\n"
"                             login shell there): at most 128 KiB on Linux\n"
"      --connect-timeout SEC  TCP connect limit (default 10)\n"
"      --handshake-timeout SEC  SSH handshake + host key + auth limit (default 10)\n"
"  -t, --timeout SEC          limit for the whole run; on expiry the channel is\n"
"                             closed (sshd then closes the command's stdin,\n"
"                             stdout and stderr, but does not kill it), the\n"
"                             session dropped, and the exit is 255, without\n"
"                             waiting for the server (default: none). SEC may\n"
"                             have a fraction: 0.5\n"
"      --keepalive SEC        keepalive interval while the command runs\n"
"                             (default 15, 0 = off)\n"
"      --keepalive-max N      give up after N unanswered intervals (default 3)\n"
"      --max-output BYTES     relay at most BYTES of stdout+stderr together; the\n"
"                             rest is read and dropped (default: unlimited)\n"
"      --status-fd FD         write one JSON status line to descriptor FD at the\n"
"                             end: phase, error, exit, signal, bytes, timings,\n"
"                             host key fingerprint\n"
"      --exit-with-parent     stop (as on SIGTERM: close the channel, report\n"
"                             \"terminated\") when the calling process dies;\n"
"                             webhook-runner uses it so no job outlives it\n"
"      --parent-pid PID       with --exit-with-parent: the caller's pid, checked\n"
"                             once the death signal is armed (without it, a\n"
"                             parent of pid 1 counts as a caller that died, so\n"
"                             a caller that is pid 1, in a container, passes it)\n"
"  -h, --help                 this text\n"
"  -V, --version              version\n"
"\n"
"The process is not dumpable and writes no core file: its /proc files belong\n"
"to root, and a crash leaves no passphrase on disk.\n"
"\n"
"Exit status: the remote command's status; 255 when the run failed locally\n"
"(connect, host key, auth, timeout...) or the remote command died of a signal,\n"
"as ssh(1) does; 2 for bad arguments (a --command-fd or --passphrase-fd that\n"
"is unreadable, empty, too long or holds a NUL byte too). The status line\n"
"tells them apart.\n";

enum { O_PASS = 256, O_CTO, O_HTO, O_KA, O_KAMAX, O_MAXOUT, O_STATUSFD, O_PARENT, O_PPID, O_PASSFD,
	O_CMDFD, O_POSIXSH };

static const struct option longopts[] = {
	{ "identity", required_argument, NULL, 'i' },
	{ "passphrase-env", required_argument, NULL, O_PASS },
	{ "passphrase-fd", required_argument, NULL, O_PASSFD },
	{ "command-fd", required_argument, NULL, O_CMDFD },
	{ "posix-sh", no_argument, NULL, O_POSIXSH },
	{ "agent", no_argument, NULL, 'A' },
	{ "exit-with-parent", no_argument, NULL, O_PARENT },
	{ "parent-pid", required_argument, NULL, O_PPID },
	{ "known-hosts", required_argument, NULL, 'k' },
	{ "port", required_argument, NULL, 'p' },
	{ "connect-timeout", required_argument, NULL, O_CTO },
	{ "handshake-timeout", required_argument, NULL, O_HTO },
	{ "timeout", required_argument, NULL, 't' },
	{ "keepalive", required_argument, NULL, O_KA },
	{ "keepalive-max", required_argument, NULL, O_KAMAX },
	{ "max-output", required_argument, NULL, O_MAXOUT },
	{ "status-fd", required_argument, NULL, O_STATUSFD },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* Decimal seconds (at most 3 fraction digits) in [0, 30 days] to ms. 0 or
 * -EINVAL. */
static int parse_seconds(const char *s, int64_t *ms)
{
	int64_t whole = 0, frac = 0;
	int fd = 0;
	const char *p = s;

	if (!*p)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > 30 * 86400)
			return -EINVAL;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, fd++)
			if (fd < 3)
				frac = frac * 10 + (*p - '0');
		if (fd == 0)
			return -EINVAL;
		for (; fd < 3; fd++)
			frac *= 10;
	}
	if (*p || p == s)
		return -EINVAL;
	*ms = whole * 1000 + frac;
	return 0;
}

/* A plain decimal number up to MAX. 0 or -EINVAL. */
static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* [user@]host[:port] and [user@][v6addr]:port. */
int args_parse_dest(const char *d, struct args *a, char *err, size_t errlen)
{
	const char *at = strrchr(d, '@'), *h = at ? at + 1 : d, *colon = NULL, *hend;
	unsigned long long port;

	if (at) {
		if (at == d) {
			snprintf(err, errlen, "empty user in destination \"%s\"", d);
			return -EINVAL;
		}
		if (at - d > 255) {
			snprintf(err, errlen, "user name longer than 255 bytes in destination");
			return -EINVAL;
		}
		if (!(a->user = strndup(d, (size_t)(at - d))))
			return -ENOMEM;
	}
	if (*h == '[') {
		const char *rb = strchr(h, ']');
		if (!rb || (rb[1] && rb[1] != ':')) {
			snprintf(err, errlen, "bad destination \"%s\"", d);
			return -EINVAL;
		}
		colon = rb[1] ? rb + 1 : NULL;
		h++;
		hend = rb;
	} else {
		colon = strchr(h, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		hend = colon ? colon : h + strlen(h);
	}
	if (hend == h || (size_t)(hend - h) > 253 || memchr(h, ' ', (size_t)(hend - h)) ||
	    *h == '-') {
		snprintf(err, errlen, "bad host in destination \"%s\"", d);
		return -EINVAL;
	}
	if (!(a->host = strndup(h, (size_t)(hend - h))))
		return -ENOMEM;
	if (colon) {
		if (parse_uint(colon + 1, 65535, &port) != 0 || port == 0) {
			snprintf(err, errlen, "bad port in destination \"%s\"", d);
			return -EINVAL;
		}
		a->port = (int)port;
	}
	return 0;
}

/* --NAME N: an open descriptor; 1 and 2 are ours to write to, never a
 * source, and the status descriptor is written, never read. */
static int parse_in_fd(const char *name, const char *v, int *fd, char *err, size_t errlen)
{
	unsigned long long u;

	if (parse_uint(v, INT_MAX, &u) != 0 || u == 1 || u == 2 || fcntl((int)u, F_GETFD) < 0) {
		snprintf(err, errlen, "--%s %s: not an open descriptor (0, or above 2)", name, v);
		return -EINVAL;
	}
	*fd = (int)u;
	return 0;
}

static char *join_words(char **w, int n)
{
	size_t len = 1;
	char *s, *p;
	int i;

	for (i = 0; i < n; i++)
		len += strlen(w[i]) + 1;
	if (!(s = p = malloc(len)))
		return NULL;
	for (i = 0; i < n; i++) {
		size_t l = strlen(w[i]);
		if (i)
			*p++ = ' ';
		memcpy(p, w[i], l);
		p += l;
	}
	*p = '\0';
	return s;
}

/* The descriptors we read and the one we write are distinct; one
 * passphrase source. */
static int check_fds(const struct args *a, char *err, size_t errlen)
{
	if (a->passphrase_env && a->passphrase_fd >= 0) {
		snprintf(err, errlen, "--passphrase-env and --passphrase-fd exclude each other");
		return -EINVAL;
	}
	if (a->command_fd >= 0 && a->command_fd == a->passphrase_fd) {
		snprintf(err, errlen, "--command-fd and --passphrase-fd name the same descriptor %d",
		    a->command_fd);
		return -EINVAL;
	}
	if (a->status_fd >= 0 && (a->status_fd == a->command_fd || a->status_fd == a->passphrase_fd)) {
		snprintf(err, errlen, "--status-fd %d is also an input descriptor", a->status_fd);
		return -EINVAL;
	}
	return 0;
}

int args_parse(int argc, char **argv, struct args *a, char *err, size_t errlen)
{
	unsigned long long u;
	int64_t ms;
	int c, port_opt = 0, rc;
	const char *home;

	memset(a, 0, sizeof *a);
	a->port = 22;
	a->connect_timeout_ms = 10000;
	a->handshake_timeout_ms = 10000;
	a->keepalive_s = 15;
	a->keepalive_max = 3;
	a->status_fd = -1;
	a->command_fd = -1;
	a->passphrase_fd = -1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+i:Ak:p:t:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': a->identity = optarg; break;
		case 'A': a->agent = 1; break;
		case O_PARENT: a->exit_with_parent = 1; break;
		case O_PPID:
			if (parse_uint(optarg, INT_MAX, &u) != 0 || u < 1) {
				snprintf(err, errlen, "--parent-pid %s: not a process id", optarg);
				return -EINVAL;
			}
			a->parent_pid = (int)u;
			break;
		case O_PASS:
			if (!*optarg) {
				snprintf(err, errlen, "--passphrase-env needs a variable name");
				return -EINVAL;
			}
			a->passphrase_env = optarg;
			break;
		case O_PASSFD:
			if ((rc = parse_in_fd("passphrase-fd", optarg, &a->passphrase_fd, err, errlen)))
				return rc;
			break;
		case O_CMDFD:
			if ((rc = parse_in_fd("command-fd", optarg, &a->command_fd, err, errlen)))
				return rc;
			break;
		case O_POSIXSH: a->posix_sh = 1; break;
		case 'k':
			free(a->known_hosts);
			if (!(a->known_hosts = strdup(optarg)))
				return -ENOMEM;
			break;
		case 'p':
			if (parse_uint(optarg, 65535, &u) != 0 || u == 0) {
				snprintf(err, errlen, "bad port \"%s\"", optarg);
				return -EINVAL;
			}
			port_opt = (int)u;
			break;
		case O_CTO: case O_HTO: case 't':
			if (parse_seconds(optarg, &ms) != 0 || (c != 't' && ms == 0)) {
				snprintf(err, errlen, "bad duration \"%s\" (seconds, e.g. 10 or 0.5)", optarg);
				return -EINVAL;
			}
			*(c == O_CTO ? &a->connect_timeout_ms :
			    c == O_HTO ? &a->handshake_timeout_ms : &a->timeout_ms) = ms;
			break;
		case O_KA: case O_KAMAX:
			if (parse_uint(optarg, c == O_KA ? 3600 : 100, &u) != 0 || (c == O_KAMAX && !u)) {
				snprintf(err, errlen, "bad value \"%s\" for --%s", optarg,
				    c == O_KA ? "keepalive" : "keepalive-max");
				return -EINVAL;
			}
			*(c == O_KA ? &a->keepalive_s : &a->keepalive_max) = (int)u;
			break;
		case O_MAXOUT:
			if (parse_uint(optarg, ULLONG_MAX / 2, &u) != 0) {
				snprintf(err, errlen, "bad byte count \"%s\"", optarg);
				return -EINVAL;
			}
			a->max_output = u;
			break;
		case O_STATUSFD:
			if (parse_uint(optarg, INT_MAX, &u) != 0 || u < 3 || fcntl((int)u, F_GETFD) < 0) {
				snprintf(err, errlen, "--status-fd %s: not an open descriptor above 2", optarg);
				return -EINVAL;
			}
			a->status_fd = (int)u;
			break;
		case 'h':
			fputs(usage_text, stdout);
			a->info_only = 1;
			return 0;
		case 'V':
			printf("remote-executor %s\n", EXECUTOR_VERSION);
			a->info_only = 1;
			return 0;
		default:
			if (optopt && optopt < 256)
				snprintf(err, errlen, "unknown option or missing value: -%c (see --help)", optopt);
			else
				snprintf(err, errlen, "unknown option or missing value: %s (see --help)",
				    argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind >= argc) {
		snprintf(err, errlen, "missing destination (see --help)");
		return -EINVAL;
	}
	if ((rc = args_parse_dest(argv[optind], a, err, errlen)) != 0)
		return rc;
	optind++;
	if ((rc = check_fds(a, err, errlen)) != 0)
		return rc;
	if (a->command_fd >= 0) {
		if (optind < argc) {
			snprintf(err, errlen, "--command-fd and a command after the destination exclude "
			    "each other: give one");
			return -EINVAL;
		}
	} else {
		if (optind >= argc || strcmp(argv[optind], "--") != 0) {
			snprintf(err, errlen, "expected -- and a command after the destination "
			    "(or --command-fd N)");
			return -EINVAL;
		}
		optind++;
		if (optind >= argc || !*argv[optind]) {
			snprintf(err, errlen, "missing command after --");
			return -EINVAL;
		}
		if (!(a->command = join_words(argv + optind, argc - optind)))
			return -ENOMEM;
	}
	if (port_opt)
		a->port = port_opt;
	if (!a->user) {
		struct passwd *pw = getpwuid(getuid());
		if (!pw || !(a->user = strdup(pw->pw_name))) {
			snprintf(err, errlen, "no user given and none known for uid %u", (unsigned)getuid());
			return -EINVAL;
		}
	}
	if (!a->known_hosts) {
		home = getenv("HOME");
		if (!home || !*home) {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : "/";
		}
		if (asprintf(&a->known_hosts, "%s/.ssh/known_hosts", home) < 0) {
			a->known_hosts = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

void args_clear(struct args *a)
{
	free(a->user);
	free(a->host);
	free(a->known_hosts);
	free(a->command);
	memset(a, 0, sizeof *a);
}
