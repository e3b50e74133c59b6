/* httpprobe.c — see httpprobe.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "httpprobe.h"

int httpprobe_parse_port(const char *s, size_t n, int *port)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

int httpprobe_parse_url(const char *url, const char *defpath, struct httpprobe_target *t, char *err,
    size_t errlen)
{
	const char *p, *host, *hend, *path;
	unsigned char addr[sizeof(struct in6_addr)];
	size_t hlen;
	int v6 = 0;

	memset(t, 0, sizeof *t);
	t->port = 80;
	if (strncmp(url, "http://", 7) == 0) {
		p = host = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		p = host = url + 8;
		t->port = 443;
		t->tls = 1;
	} else {
		snprintf(err, errlen, "only http:// and https:// URLs are supported");
		return -EINVAL;
	}
	if (*p == '[') {
		host = ++p;
		if (!(hend = strchr(p, ']'))) {
			snprintf(err, errlen, "unterminated [IPv6] address");
			return -EINVAL;
		}
		p = hend + 1;
		v6 = 1;
	} else {
		hend = p + strcspn(p, ":/?#");
		p = hend;
	}
	hlen = (size_t)(hend - host);
	if (*p == ':') {
		size_t n = strcspn(p + 1, "/?#");
		if (httpprobe_parse_port(p + 1, n, &t->port) != 0) {
			snprintf(err, errlen, "bad port in URL");
			return -EINVAL;
		}
		p += 1 + n;
	}
	if (*p && *p != '/') {
		snprintf(err, errlen, "unexpected \"%c\" after the host", *p);
		return -EINVAL;
	}
	path = *p && strcmp(p, "/") != 0 ? p : defpath;
	if (strlen(path) >= sizeof t->path || strchr(path, '#')) {
		snprintf(err, errlen, "bad path in URL");
		return -EINVAL;
	}
	for (p = path; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(err, errlen, "space or control character in the URL's path");
			return -EINVAL;
		}
	}
	if (hlen == 0 || hlen >= sizeof t->host) {
		snprintf(err, errlen, "missing or overlong host in URL");
		return -EINVAL;
	}
	if (!v6 && hlen == 9 && strncmp(host, "localhost", 9) == 0) {
		host = "127.0.0.1";
		hlen = strlen(host);
	}
	memcpy(t->host, host, hlen);
	t->host[hlen] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, t->host, addr) != 1) {
		snprintf(err, errlen, "host must be an IP address or localhost (no name lookups)");
		return -EINVAL;
	}
	strcpy(t->path, path);
	return 0;
}

int httpprobe_parse_status(const char *buf, size_t len, int *code)
{
	/* "HTTP/1.x NNN" then a space or the end of the line; '#' is a digit. */
	static const char shape[] = "HTTP/1.# ###";
	size_t i, n = sizeof shape - 1;
	int v = 0;

	for (i = 0; i < n && i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (shape[i] == '#' ? c < '0' || c > '9' : c != (unsigned char)shape[i])
			return -EPROTO;
	}
	if (len <= n)
		return -EAGAIN;
	if (buf[n] != ' ' && buf[n] != '\r' && buf[n] != '\n')
		return -EPROTO;
	for (i = 9; i < 12; i++)
		v = v * 10 + (buf[i] - '0');
	*code = v;
	return 0;
}

/* The first line of the answer's body (or of the answer), printable, in MSG. */
static void httpprobe_body_line(const char *buf, size_t len, char *msg, size_t msglen)
{
	const char *b = memmem(buf, len, "\r\n\r\n", 4);
	size_t i, o = 0;

	b = b ? b + 4 : buf;
	for (i = (size_t)(b - buf); i < len && o + 1 < msglen && buf[i] != '\r' && buf[i] != '\n'; i++)
		msg[o++] = (unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] < 0x7f ? buf[i] : '?';
	if (msglen)
		msg[o] = '\0';
}

/* Wait for EVENTS on FD until DEADLINE; 0, or -ETIMEDOUT, or -errno. */
static int httpprobe_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int n;

	for (;;) {
		if ((left = deadline - clock_mono_ms()) <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* The probe's connection: a socket, and a TLS session over it for https. */
struct httpprobe_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char why[160]; /* OpenSSL's reason for the last TLS failure */
};

/* OpenSSL's first reason (the root cause) into C->why; the error queue is
 * left empty. */
static void httpprobe_tls_why(struct httpprobe_conn *c)
{
	unsigned long e = ERR_peek_error();

	if (e)
		ERR_error_string_n(e, c->why, sizeof c->why);
	else
		snprintf(c->why, sizeof c->why, "TLS failure");
	ERR_clear_error();
}

/* What SSL_connect/_read/_write returning R means: 0 (go on; *CLOSED set
 * when the peer closed the TLS session), -EAGAIN with *EV the event to wait
 * for, or -errno / -EPROTO. The caller cleared errno and the error queue
 * before the call. */
static int httpprobe_tls_result(struct httpprobe_conn *c, int r, short *ev, int *closed)
{
	int e = errno;

	*closed = 0;
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_NONE: return 0;
	case SSL_ERROR_WANT_READ: *ev = POLLIN; return -EAGAIN;
	case SSL_ERROR_WANT_WRITE: *ev = POLLOUT; return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN: *closed = 1; return 0;
	case SSL_ERROR_SYSCALL:
		if (e && e != EAGAIN && e != EWOULDBLOCK) {
			ERR_clear_error();
			return -e;
		}
		/* fall through */
	default:
		httpprobe_tls_why(c);
		return -EPROTO;
	}
}

/* The TLS handshake on C->fd (TLS 1.2 at least, no certificate check: see
 * healthcheck.h). 0 or negative. */
static int httpprobe_tls_start(struct httpprobe_conn *c, int64_t deadline)
{
	short ev = 0;
	int rc, closed;

	ERR_clear_error();
	if (!(c->ctx = SSL_CTX_new(TLS_client_method())) ||
	    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1 ||
	    !(c->ssl = SSL_new(c->ctx)) || SSL_set_fd(c->ssl, c->fd) != 1) {
		httpprobe_tls_why(c);
		return -EPROTO;
	}
	/* CivetWeb may close without a close_notify; the answer is whole anyway. */
	SSL_set_options(c->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
	for (;;) {
		int r;
		ERR_clear_error();
		errno = 0;
		r = SSL_connect(c->ssl);
		if (r == 1)
			return 0;
		if ((rc = httpprobe_tls_result(c, r, &ev, &closed)) == 0 && closed)
			rc = -ECONNRESET;
		if (rc != -EAGAIN)
			return rc;
		if ((rc = httpprobe_wait(c->fd, ev, deadline)) != 0)
			return rc;
	}
}

/* One send (OUT) or receive of up to LEN bytes: the count (> 0), 0 when the
 * peer closed, -EAGAIN with *EV the event to wait for, or negative. */
static ssize_t httpprobe_io(struct httpprobe_conn *c, int out, void *buf, size_t len, short *ev)
{
	size_t done = 0;
	ssize_t n;
	int r, closed;

	if (!c->ssl) {
		n = out ? send(c->fd, buf, len, MSG_NOSIGNAL) : recv(c->fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			*ev = out ? POLLOUT : POLLIN;
			return -EAGAIN;
		}
		return -errno;
	}
	ERR_clear_error();
	errno = 0;
	r = out ? SSL_write_ex(c->ssl, buf, len, &done) : SSL_read_ex(c->ssl, buf, len, &done);
	if (r == 1)
		return (ssize_t)done;
	return httpprobe_tls_result(c, r, ev, &closed); /* 0 as well when the peer closed */
}

int httpprobe_check(const struct httpprobe_target *t, const char *agent, int timeout_ms, char *msg,
    size_t msglen)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct httpprobe_conn c = { .fd = -1 };
	const struct sockaddr *sa;
	socklen_t salen;
	char req[512], buf[HTTPPROBE_MAX_ANSWER], body[160];
	size_t reqlen, sent = 0, got = 0;
	int rc, code = 0, v6 = strchr(t->host, ':') != NULL, soerr = 0;
	socklen_t elen = sizeof soerr;
	const char *phase = "connect";
	short ev = 0;

	if (v6) {
		sin6.sin6_port = htons((uint16_t)t->port);
		rc = inet_pton(AF_INET6, t->host, &sin6.sin6_addr);
		sa = (const struct sockaddr *)&sin6;
		salen = sizeof sin6;
	} else {
		sin.sin_port = htons((uint16_t)t->port);
		rc = inet_pton(AF_INET, t->host, &sin.sin_addr);
		sa = (const struct sockaddr *)&sin;
		salen = sizeof sin;
	}
	if (rc != 1) {
		snprintf(msg, msglen, "bad address %s", t->host);
		rc = -EINVAL;
		goto out;
	}
	rc = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s%s%s:%d\r\n"
	    "%s%s%sConnection: close\r\n\r\n",
	    t->path, v6 ? "[" : "", t->host, v6 ? "]" : "", t->port,
	    agent ? "User-Agent: " : "", agent ? agent : "", agent ? "\r\n" : "");
	if (rc < 0 || (size_t)rc >= sizeof req) {
		snprintf(msg, msglen, "request too long");
		rc = -EINVAL;
		goto out;
	}
	reqlen = (size_t)rc;
	if ((c.fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		rc = -errno;
		goto fail;
	}
	if (connect(c.fd, sa, salen) != 0) {
		if (errno != EINPROGRESS) {
			rc = -errno;
			goto fail;
		}
		if ((rc = httpprobe_wait(c.fd, POLLOUT, deadline)) != 0)
			goto fail;
		if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) != 0)
			soerr = errno;
		if (soerr) {
			rc = -soerr;
			goto fail;
		}
	}
	phase = "TLS handshake";
	if (t->tls && (rc = httpprobe_tls_start(&c, deadline)) != 0)
		goto fail;
	phase = "send";
	while (sent < reqlen) {
		ssize_t n = httpprobe_io(&c, 1, req + sent, reqlen - sent, &ev);
		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n != -EAGAIN) {
			rc = n ? (int)n : -ECONNRESET;
			goto fail;
		}
		if ((rc = httpprobe_wait(c.fd, ev, deadline)) != 0)
			goto fail;
	}
	phase = "answer";
	while (got < sizeof buf) {
		ssize_t n = httpprobe_io(&c, 0, buf + got, sizeof buf - got, &ev);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (n != -EAGAIN) {
			rc = (int)n;
			if (got > 0) /* a reset after an answer: judge the answer */
				break;
			goto fail;
		}
		if ((rc = httpprobe_wait(c.fd, ev, deadline)) != 0) {
			/* A complete status line is enough when the rest is slow. */
			if (rc == -ETIMEDOUT && httpprobe_parse_status(buf, got, &code) == 0)
				break;
			goto fail;
		}
	}
	if ((rc = httpprobe_parse_status(buf, got, &code)) != 0) {
		if (got == 0)
			snprintf(msg, msglen, "connection closed without an answer");
		else
			snprintf(msg, msglen, "not an HTTP answer");
		rc = -EPROTO;
		goto out;
	}
	httpprobe_body_line(buf, got, body, sizeof body);
	if (code != 200) {
		snprintf(msg, msglen, "answered %d%s%s", code, *body ? ": " : "", body);
		rc = -EIO;
		goto out;
	}
	snprintf(msg, msglen, "%s", body);
	rc = 0;
	goto out;
fail:
	if (rc == -ETIMEDOUT)
		snprintf(msg, msglen, "%s: no answer within %d ms", phase, timeout_ms);
	else if (rc == -EPROTO && c.why[0])
		snprintf(msg, msglen, "%s: %s", phase, c.why);
	else
		snprintf(msg, msglen, "%s: %s", phase, strerror(-rc));
out:
	SSL_free(c.ssl);
	SSL_CTX_free(c.ctx);
	if (c.fd >= 0)
		close(c.fd);
	return rc;
}

int httpprobe_main(const struct httpprobe_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' }, { "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *port = NULL;
	char ubuf[320], err[256], msg[256];
	struct httpprobe_target t;
	int c, p = cli->port;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'p': port = optarg; break;
		case 'h': fputs(cli->usage, stdout); return 0;
		default: fputs(cli->usage, stderr); return 1;
		}
	}
	if (optind != argc || (url && port)) {
		fputs(cli->usage, stderr);
		return 1;
	}
	if (port && httpprobe_parse_port(port, strlen(port), &p) != 0) {
		fprintf(stderr, "%s: bad --port \"%s\"\n", cli->prog, port);
		return 1;
	}
	if (!url) {
		snprintf(ubuf, sizeof ubuf, "http://127.0.0.1:%d%s", p, cli->path);
		url = ubuf;
	}
	if (httpprobe_parse_url(url, cli->path, &t, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s: %s\n", cli->prog, url, err);
		return 1;
	}
	if (httpprobe_check(&t, cli->agent, HTTPPROBE_TIMEOUT_MS, msg, sizeof msg) != 0) {
		fprintf(stderr, "%s: %s: %s\n", cli->prog, url, msg);
		return 1;
	}
	printf("healthy: %s\n", msg);
	return 0;
}
