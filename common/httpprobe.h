/*
 * httpprobe.c — one bounded HTTP/1.0 GET of a local health endpoint, shared
 * by `webhook-runner healthcheck` (/healthz) and `webhook-relay healthcheck`
 * (/live): a non-blocking TCP socket, an optional TLS session, connect, send
 * and answer together bounded by one deadline. What a container HEALTHCHECK
 * or a monitoring probe needs, without curl.
 *
 * Over TLS the probe checks that the daemon answers, not who it is: it
 * does not verify the certificate (it names an IP address, runs beside the
 * daemon and sends nothing secret). TLS 1.2 at least.
 *
 * Owns the URL grammar it accepts (http:// or https://; host an IPv4 literal,
 * [IPv6] literal or "localhost"; no name lookups, so the deadline holds) and
 * the parsing of the answer's status line, which is bounded (the answer is
 * read into a fixed buffer) and fuzzed (tests/fuzz/fuzz_runner_healthcheck.c).
 * Also the subcommand both programs run (httpprobe_main: --url, --port,
 * --help; exit 0/1, never Docker's reserved 2); each program gives its name,
 * usage text and default URL.
 */
#ifndef HTTPPROBE_H
#define HTTPPROBE_H
#include <stddef.h>

#define HTTPPROBE_TIMEOUT_MS 3000
#define HTTPPROBE_MAX_ANSWER 4096 /* bytes of the answer read; the rest is ignored */

struct httpprobe_target {
	char host[64];  /* numeric address, without brackets */
	int port;
	char path[256]; /* starts with '/' */
	int tls;        /* https:// */
};

/* The decimal port in S[0..N) (not NUL-terminated) into *PORT: 0, or
 * -EINVAL unless it is 1-65535 in at most 5 digits. */
int httpprobe_parse_port(const char *s, size_t n, int *port);
/* "http[s]://HOST[:PORT][/PATH]" into T (port 80 or 443 when absent, path
 * DEFPATH when absent or "/"). 0 or -EINVAL with ERR saying what is wrong. */
int httpprobe_parse_url(const char *url, const char *defpath, struct httpprobe_target *t, char *err,
    size_t errlen);
/* The status code of an answer that starts "HTTP/1.x NNN" (BUF holds LEN
 * bytes, not NUL-terminated). 0, or -EPROTO (not HTTP), or -EAGAIN (the
 * status line is not complete yet). */
int httpprobe_parse_status(const char *buf, size_t len, int *code);
/* GET T's path within TIMEOUT_MS, sending AGENT as User-Agent (none when
 * NULL). 0 when the answer is 200; otherwise negative, and MSG holds the
 * reason. On 0 MSG holds the body's first line. */
int httpprobe_check(const struct httpprobe_target *t, const char *agent, int timeout_ms, char *msg,
    size_t msglen);

/* What one program's `healthcheck` subcommand says and probes by default. */
struct httpprobe_cli {
	const char *prog;  /* "webhook-relay healthcheck": the prefix of every message */
	const char *usage; /* printed for --help (stdout) and bad arguments (stderr) */
	const char *path;  /* default path, e.g. "/live" */
	int port;          /* default port on 127.0.0.1 */
	const char *agent; /* User-Agent */
};
/* The subcommand: [--url URL | --port PORT] (ARGV[0] is the subcommand's
 * name). GETs http://127.0.0.1:PORT/PATH (or URL) within HTTPPROBE_TIMEOUT_MS;
 * prints "healthy: <body's first line>" and returns 0 on 200, else prints
 * "PROG: URL: reason" on stderr and returns 1 (bad arguments too). */
int httpprobe_main(const struct httpprobe_cli *cli, int argc, char **argv);
#endif
