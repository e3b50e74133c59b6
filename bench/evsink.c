/*
 * bench/evsink.c — the HTTP target of the relay section of `make bench`
 * (bench/relay.sh): a small HTTP/1.1 server on 127.0.0.1 that answers every
 * request 200 at once and records, per request, when it arrived and the
 * SHA-256 of its body, so the bench can check each event byte for byte and
 * measure publish → receipt latency. Fast enough not to be the bottleneck
 * (a thread per connection, keep-alive, no logging on the hot path); the
 * bench prints the load sent straight to it as the ceiling.
 *
 *   evsink PORTFILE OUT
 *
 * Binds a free loopback port and writes it to PORTFILE. Each request with
 * Content-Length (no chunked bodies: answered 400) appends one line
 *   SEQ SENT_NS RECV_NS LEN SHA256HEX
 * to an in-memory buffer: SEQ and SENT_NS are the X-Seq and X-Sent-Ns
 * header values (-1 when absent), RECV_NS is CLOCK_MONOTONIC when the whole
 * body was in. "GET /_flush" writes the buffer to OUT (appending) and
 * answers the number of lines so far. Bounded: headers 16 KiB, body 4 MiB,
 * 64 connections; anything past a bound is answered 400 and the connection
 * closed. Runs until killed. Loopback only; a bench tool, not part of any
 * program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX (16 * 1024)
#define BODY_MAX (4 * 1024 * 1024)
#define CONN_MAX 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *recs;          /* the records not yet flushed */
static size_t recs_len, recs_cap;
static long long lines;     /* every record since start */
static const char *out_path;
static int conns;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void record(const char *line, size_t n)
{
	pthread_mutex_lock(&lock);
	if (recs_len + n > recs_cap) {
		size_t cap = recs_cap ? recs_cap * 2 : 1 << 20;
		char *p;

		while (cap < recs_len + n)
			cap *= 2;
		p = realloc(recs, cap);
		if (!p) {
			pthread_mutex_unlock(&lock);
			fprintf(stderr, "evsink: out of memory\n");
			exit(1);
		}
		recs = p;
		recs_cap = cap;
	}
	memcpy(recs + recs_len, line, n);
	recs_len += n;
	lines++;
	pthread_mutex_unlock(&lock);
}

/* The flush: what is buffered goes to OUT; returns the line count. */
static long long flush_out(void)
{
	long long n;
	FILE *f;

	pthread_mutex_lock(&lock);
	f = fopen(out_path, "a");
	if (f) {
		fwrite(recs, 1, recs_len, f);
		fclose(f);
		recs_len = 0;
	}
	n = lines;
	pthread_mutex_unlock(&lock);
	return n;
}

/* The value of header NAME in the header block H (NUL-terminated), as a
 * number; -1 when absent or not a number. */
static long long hdr_num(const char *h, const char *name)
{
	size_t nl = strlen(name);
	const char *p = h;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			char *end;
			long long v;

			p += nl + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			errno = 0;
			v = strtoll(p, &end, 10);
			if (errno || end == p)
				return -1;
			return v;
		}
	}
	return -1;
}

static int hdr_has(const char *h, const char *name)
{
	size_t nl = strlen(name);
	const char *p = h;

	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':')
			return 1;
	}
	return 0;
}

static const char OK[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
static const char BAD[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(HDR_MAX + BODY_MAX);
	size_t have = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (!buf || !md)
		goto out;
	for (;;) {
		char *end;
		size_t hlen;
		long long clen, seq, sent;
		unsigned char dig[32];
		unsigned int dl = 0;
		char line[160], hex[65];
		int i, n;

		/* the header block */
		while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
			ssize_t r;

			if (have >= HDR_MAX) {
				write_all(fd, BAD, sizeof BAD - 1);
				goto out;
			}
			r = read(fd, buf + have, HDR_MAX - have);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				goto out;
			have += (size_t)r;
		}
		hlen = (size_t)(end - buf) + 4;
		buf[hlen - 2] = '\0'; /* keeps the last header's CRLF for the scan */
		if (strncmp(buf, "GET /_flush", 11) == 0) {
			char ans[128];
			long long total = flush_out();
			int k = snprintf(ans, sizeof ans, "%lld\n", total);
			char head[128];
			int hl = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", k);

			if (write_all(fd, head, (size_t)hl) || write_all(fd, ans, (size_t)k))
				goto out;
			memmove(buf, buf + hlen, have - hlen);
			have -= hlen;
			continue;
		}
		if (hdr_has(buf, "Transfer-Encoding")) {
			write_all(fd, BAD, sizeof BAD - 1);
			goto out;
		}
		clen = hdr_num(buf, "Content-Length");
		if (clen < 0)
			clen = hdr_has(buf, "Content-Length") ? -2 : 0;
		if (clen < 0 || clen > BODY_MAX) {
			write_all(fd, BAD, sizeof BAD - 1);
			goto out;
		}
		seq = hdr_num(buf, "X-Seq");
		sent = hdr_num(buf, "X-Sent-Ns");
		/* the body, right after the headers */
		while (have < hlen + (size_t)clen) {
			ssize_t r = read(fd, buf + have, hlen + (size_t)clen - have);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				goto out;
			have += (size_t)r;
		}
		{
			long long recv_ns = now_ns();

			if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
			    !EVP_DigestUpdate(md, buf + hlen, (size_t)clen) ||
			    !EVP_DigestFinal_ex(md, dig, &dl) || dl != 32)
				goto out;
			for (i = 0; i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02x", dig[i]);
			n = snprintf(line, sizeof line, "%lld %lld %lld %lld %s\n", seq, sent, recv_ns, clen, hex);
			record(line, (size_t)n);
		}
		if (write_all(fd, OK, sizeof OK - 1))
			goto out;
		memmove(buf, buf + hlen + clen, have - hlen - (size_t)clen);
		have -= hlen + (size_t)clen;
	}
out:
	EVP_MD_CTX_free(md);
	free(buf);
	close(fd);
	pthread_mutex_lock(&lock);
	conns--;
	pthread_mutex_unlock(&lock);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	int one = 1, ls;
	FILE *pf;

	if (argc != 3) {
		fprintf(stderr, "usage: evsink PORTFILE OUT\n");
		return 2;
	}
	out_path = argv[2];
	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 128) ||
	    getsockname(ls, (struct sockaddr *)&a, &al)) {
		perror("evsink: listen");
		return 1;
	}
	pf = fopen(argv[1], "w");
	if (!pf || fprintf(pf, "%d\n", ntohs(a.sin_port)) < 0 || fclose(pf)) {
		perror("evsink: port file");
		return 1;
	}
	for (;;) {
		pthread_t t;
		int fd = accept(ls, NULL, NULL);
		int full;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("evsink: accept");
			return 1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		pthread_mutex_lock(&lock);
		full = conns >= CONN_MAX;
		if (!full)
			conns++;
		pthread_mutex_unlock(&lock);
		if (full || pthread_create(&t, NULL, serve, (void *)(intptr_t)fd)) {
			if (!full) {
				pthread_mutex_lock(&lock);
				conns--;
				pthread_mutex_unlock(&lock);
			}
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
}
