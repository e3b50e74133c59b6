/*
 * healthcheck.c — `webhook-runner healthcheck [--url URL | --port P]`: one
 * HTTP/1.0 GET of /healthz over a plain TCP socket (default
 * http://127.0.0.1:8080/healthz), bounded by a 3 s deadline for connect,
 * send and answer together. Exit 0 when the daemon answers 200 (the body's
 * first line on stdout), else 1 with a one-line reason on stderr (bad
 * arguments too: Docker reserves exit code 2) — what a container HEALTHCHECK
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
 */
#ifndef HEALTHCHECK_H
#define HEALTHCHECK_H
#include <stddef.h>

#define HEALTHCHECK_TIMEOUT_MS 3000
#define HEALTHCHECK_MAX_ANSWER 4096 /* bytes of the answer read; the rest is ignored */

struct healthcheck_target {
	char host[64];  /* numeric address, without brackets */
	int port;
	char path[256]; /* starts with '/' */
	int tls;        /* https:// */
};

/* Entry point for the subcommand; ARGV[0] is "healthcheck". Exit code. */
int healthcheck_main(int argc, char **argv);
/* "http[s]://HOST[:PORT][/PATH]" into T (port 80 or 443 when absent, path "/healthz"
 * when absent or "/"). 0 or -EINVAL with ERR saying what is wrong. */
int healthcheck_parse_url(const char *url, struct healthcheck_target *t, char *err, size_t errlen);
/* The status code of an answer that starts "HTTP/1.x NNN" (BUF holds LEN
 * bytes, not NUL-terminated). 0, or -EPROTO (not HTTP), or -EAGAIN (the
 * status line is not complete yet). */
int healthcheck_parse_status(const char *buf, size_t len, int *code);
/* GET T's path within TIMEOUT_MS. 0 when the answer is 200; otherwise
 * negative, and MSG holds the reason. On 0 MSG holds the body's first line. */
int healthcheck_check(const struct healthcheck_target *t, int timeout_ms, char *msg, size_t msglen);
#endif
