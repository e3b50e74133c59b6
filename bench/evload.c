/*
 * bench/evload.c — the publisher of the relay section of `make bench`
 * (bench/relay.sh): TOTAL POSTs of random binary bodies over CONC
 * keep-alive connections, as fast as they are answered or at a fixed rate,
 * recording what was sent so the target's records can be checked byte for
 * byte and timed.
 *
 *   evload HOST:PORT[,HOST:PORT...] PATH CONC TOTAL OUT
 *          [--rate R] [--min-len A] [--max-len B] [--seed S] [--first F]
 *          [--deadline SEC]
 *
 * Connection i goes to the (i mod n)-th address. Request k (0 ≤ k < TOTAL)
 * carries X-Seq: F + k (F: --first, default 0, so that runs never share a
 * sequence number) and X-Sent-Ns: CLOCK_MONOTONIC just before its first
 * byte is written, and a body of A..B random bytes (every byte value) from a
 * generator seeded by S and k. --rate R: request k is not sent before
 * start + k/R seconds (an open-loop schedule; 0: as fast as answered). No
 * request starts after --deadline seconds (default 120). A connection that
 * fails is reopened; its request is recorded with status 0. OUT gets one
 * line per request:
 *   SEQ STATUS SENT_NS DONE_NS LEN SHA256HEX
 * and stdout one line in bench/post.lua's format (publish answers):
 *   RESULT requests=N duration_us=… non2xx=… connect=… read=… write=…
 *          timeout=0 p50_us=… p99_us=… max_us=…
 * Loopback only; a bench tool, not part of any program.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
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
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct rec {
	long long sent, done;
	int status, len;
	unsigned char sha[32];
};

static struct sockaddr_in addrs[16];
static char hosts[16][64];
static int naddrs;
static const char *path;
static long long total, next_k, t0, first_seq;
static double rate, deadline = 120;
static int min_len = 1, max_len = 2048;
static uint64_t seed = 1;
static struct rec *recs;
static long long n_connect, n_read, n_write;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int conn_open(int i)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&addrs[i % naddrs], sizeof addrs[0])) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read one answer on FD: its status, or -1. BUF holds leftovers (HAVE). */
static int read_answer(int fd, char *buf, size_t cap, size_t *have)
{
	for (;;) {
		char *end = memmem(buf, *have, "\r\n\r\n", 4);

		if (end) {
			size_t hlen = (size_t)(end - buf) + 4;
			long long clen = 0;
			int status;
			char *p = buf;

			if (sscanf(buf, "HTTP/1.%*c %d", &status) != 1)
				return -1;
			while ((p = memmem(p, hlen - (size_t)(p - buf), "\r\n", 2)) != NULL && p < end) {
				p += 2;
				if (strncasecmp(p, "Content-Length:", 15) == 0)
					clen = strtoll(p + 15, NULL, 10);
			}
			if (clen < 0 || hlen + (size_t)clen > cap)
				return -1;
			while (*have < hlen + (size_t)clen) {
				ssize_t r = read(fd, buf + *have, cap - *have);

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					return -1;
				*have += (size_t)r;
			}
			memmove(buf, buf + hlen + clen, *have - hlen - (size_t)clen);
			*have -= hlen + (size_t)clen;
			return status;
		}
		if (*have >= cap)
			return -1;
		{
			ssize_t r = read(fd, buf + *have, cap - *have);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			*have += (size_t)r;
		}
	}
}

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg, fd = -1;
	size_t cap = 65536, have = 0;
	char *ans = malloc(cap);
	unsigned char *body = malloc((size_t)max_len + 1);
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (!ans || !body || !md)
		goto out;
	for (;;) {
		long long k, due;
		uint64_t s;
		int len, j, status;
		char head[512];
		int hl;
		struct iovec iov[2];
		unsigned int dl = 0;
		struct rec *r;

		pthread_mutex_lock(&lock);
		k = next_k < total ? next_k++ : -1;
		pthread_mutex_unlock(&lock);
		if (k < 0 || (now_ns() - t0) / 1e9 > deadline)
			break;
		r = &recs[k];
		if (rate > 0) {
			due = t0 + (long long)(k * 1e9 / rate);
			for (long long d; (d = due - now_ns()) > 0;) {
				struct timespec ts = { d / 1000000000LL, d % 1000000000LL };

				nanosleep(&ts, NULL);
			}
		}
		s = seed * 0x100000001b3ULL ^ (uint64_t)k;
		len = min_len + (int)(splitmix(&s) % (uint64_t)(max_len - min_len + 1));
		for (j = 0; j < len; j++)
			body[j] = (unsigned char)splitmix(&s);
		if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL) || !EVP_DigestUpdate(md, body, (size_t)len) ||
		    !EVP_DigestFinal_ex(md, r->sha, &dl))
			goto out;
		r->len = len;
		if (fd < 0 && (fd = conn_open(i)) < 0) {
			pthread_mutex_lock(&lock);
			n_connect++;
			pthread_mutex_unlock(&lock);
			r->status = 0;
			continue;
		}
		r->sent = now_ns();
		hl = snprintf(head, sizeof head,
			      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\n"
			      "X-Seq: %lld\r\nX-Sent-Ns: %lld\r\nContent-Length: %d\r\n\r\n",
			      path, hosts[i % naddrs], first_seq + k, r->sent, len);
		iov[0] = (struct iovec){ head, (size_t)hl };
		iov[1] = (struct iovec){ body, (size_t)len };
		{
			size_t want = (size_t)hl + (size_t)len, done = 0;

			while (done < want) {
				ssize_t w = writev(fd, iov, 2);

				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					break;
				done += (size_t)w;
				if (done < want) { /* a short write: send the rest plainly */
					if ((size_t)w < iov[0].iov_len) {
						iov[0].iov_base = (char *)iov[0].iov_base + w;
						iov[0].iov_len -= (size_t)w;
					} else {
						size_t b = (size_t)w - iov[0].iov_len;

						iov[0].iov_len = 0;
						iov[1].iov_base = (char *)iov[1].iov_base + b;
						iov[1].iov_len -= b;
					}
				}
			}
			if (done < want) {
				pthread_mutex_lock(&lock);
				n_write++;
				pthread_mutex_unlock(&lock);
				r->status = 0;
				close(fd);
				fd = -1;
				have = 0;
				continue;
			}
		}
		status = read_answer(fd, ans, cap, &have);
		r->done = now_ns();
		if (status < 0) {
			pthread_mutex_lock(&lock);
			n_read++;
			pthread_mutex_unlock(&lock);
			r->status = 0;
			close(fd);
			fd = -1;
			have = 0;
			continue;
		}
		r->status = status;
	}
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(md);
	free(body);
	free(ans);
	return NULL;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int conc, i, j;
	char *list, *tok, *save = NULL;
	pthread_t *th;
	FILE *out;
	long long *lat, n = 0, non2xx = 0, first = -1, last = 0;

	if (argc < 6) {
		fprintf(stderr, "usage: evload HOST:PORT[,...] PATH CONC TOTAL OUT [--rate R] [--min-len A]"
				" [--max-len B] [--seed S] [--first F] [--deadline SEC]\n");
		return 2;
	}
	path = argv[2];
	conc = atoi(argv[3]);
	total = atoll(argv[4]);
	for (i = 6; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rate"))
			rate = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--min-len"))
			min_len = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--max-len"))
			max_len = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--first"))
			first_seq = atoll(argv[i + 1]);
		else if (!strcmp(argv[i], "--deadline"))
			deadline = atof(argv[i + 1]);
		else {
			fprintf(stderr, "evload: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i != argc || conc < 1 || conc > 256 || total < 1 || min_len < 0 || max_len < min_len) {
		fprintf(stderr, "evload: bad arguments\n");
		return 2;
	}
	list = strdup(argv[1]);
	for (tok = strtok_r(list, ",", &save); tok && naddrs < 16; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strrchr(tok, ':');

		if (!colon)
			return 2;
		*colon = '\0';
		addrs[naddrs].sin_family = AF_INET;
		addrs[naddrs].sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, tok, &addrs[naddrs].sin_addr) != 1)
			return 2;
		snprintf(hosts[naddrs], sizeof hosts[0], "%s:%s", tok, colon + 1);
		naddrs++;
	}
	recs = calloc((size_t)total, sizeof *recs);
	th = calloc((size_t)conc, sizeof *th);
	lat = calloc((size_t)total, sizeof *lat);
	if (!recs || !th || !lat || !naddrs)
		return 1;
	t0 = now_ns();
	for (i = 0; i < conc; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i))
			return 1;
	for (i = 0; i < conc; i++)
		pthread_join(th[i], NULL);
	out = fopen(argv[5], "w");
	if (!out)
		return 1;
	for (long long k = 0; k < next_k && k < total; k++) {
		struct rec *r = &recs[k];
		char hex[65];

		for (j = 0; j < 32; j++)
			snprintf(hex + 2 * j, 3, "%02x", r->sha[j]);
		fprintf(out, "%lld %d %lld %lld %d %s\n", first_seq + k, r->status, r->sent, r->done, r->len, hex);
		if (r->status == 0)
			continue;
		lat[n++] = (r->done - r->sent) / 1000;
		if (r->status < 200 || r->status > 299)
			non2xx++;
		if (first < 0 || r->sent < first)
			first = r->sent;
		if (r->done > last)
			last = r->done;
	}
	if (fclose(out))
		return 1;
	qsort(lat, (size_t)n, sizeof *lat, cmp_ll);
#define PCT(p) (n ? lat[(long long)((p) / 100.0 * (double)n + 0.999999) - 1 < 0 ? 0 : \
		    (long long)((p) / 100.0 * (double)n + 0.999999) - 1] : 0)
	printf("RESULT requests=%lld duration_us=%lld non2xx=%lld connect=%lld read=%lld write=%lld "
	       "timeout=0 p50_us=%lld p99_us=%lld max_us=%lld\n",
	       n, first < 0 ? 0 : (last - first) / 1000, non2xx, n_connect, n_read, n_write, PCT(50),
	       PCT(99), n ? lat[n - 1] : 0);
	return 0;
}
