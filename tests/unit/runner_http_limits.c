/*
 * runner_http_limits.c — unit tests for our patches to CivetWeb
 * (third_party/patches/): a real CivetWeb server on 127.0.0.1 (an ephemeral
 * port, a handful of worker threads, trivial handlers), and raw client
 * sockets driven with poll and short timeouts. What they show: a request is
 * bounded as a whole by request_timeout_ms (headers dribbled, a byte just
 * before the deadline, a body dribbled into mg_read, the drain after a
 * handler that did not read the body), request_min_rate cuts a trickle after
 * its grace, mg_close_after_response closes after the answer without a drain
 * (and the client still reads the answer), keep_alive_timeout_ms bounds the
 * idle time only, a client that never reads its answers does not hold the
 * worker, more slow clients than threads still let a good request in, TLS
 * alike, and nothing legitimate is cut (a plain request, a pipelined pair, a
 * chunked body, 1 MiB at full speed). Bounds have generous slack: they check
 * behaviour, not speed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <civetweb.h>

#include "t.h"
#include "../../common/clock.h"

#define BIG (1024 * 1024)

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ the server */

/* What the last /read handler saw, and how many /big answers were begun. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int reads_done, read_last, big_started, big_short;
static long long read_total;
static int64_t read_ms, big_write_ms;
static char big_body[BIG], big_req[BIG + 128];

static void answer(struct mg_connection *conn, int code, const char *body)
{
	mg_printf(conn, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n%s",
	    code, code == 200 ? "OK" : "Refused", strlen(body),
	    code >= 400 ? "Connection: close\r\n" : "", body);
}

/* /read: reads the body to its end (or its cut), answers what it got. */
static int on_read(struct mg_connection *conn, void *cb)
{
	char buf[4096], out[64];
	long long total = 0;
	int64_t t0 = clock_mono_ms();
	int n;

	(void)cb;
	while ((n = mg_read(conn, buf, sizeof buf)) > 0)
		total += n;
	pthread_mutex_lock(&mu);
	read_total = total;
	read_last = n;
	read_ms = clock_mono_ms() - t0;
	reads_done++;
	pthread_mutex_unlock(&mu);
	snprintf(out, sizeof out, "read=%lld rc=%d", total, n);
	answer(conn, 200, out);
	return 200;
}

/* The status in CB, the body unread: /ok 200; /gone 413, an early refusal
 * that closes without a drain (mg_close_after_response); anything else 404,
 * which just returns (CivetWeb drains the body). */
static int on_status(struct mg_connection *conn, void *cb)
{
	int code = (int)(intptr_t)cb;

	if (code == 413)
		mg_close_after_response(conn);
	answer(conn, code, code == 200 ? "ok" : "refused");
	return code;
}

/* /big: a 1 MiB answer. */
static int on_big(struct mg_connection *conn, void *cb)
{
	int64_t t0;
	int n;

	(void)cb;
	pthread_mutex_lock(&mu);
	big_started++;
	pthread_mutex_unlock(&mu);
	mg_printf(conn, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", BIG);
	t0 = clock_mono_ms();
	n = mg_write(conn, big_body, BIG);
	if (n != BIG) {
		pthread_mutex_lock(&mu);
		if (!big_short++)
			big_write_ms = clock_mono_ms() - t0;
		pthread_mutex_unlock(&mu);
	}
	return 200;
}

static int quiet(const struct mg_connection *conn, const char *msg)
{
	(void)conn;
	(void)msg;
	return 1;
}

struct limits {
	const char *timeout_ms, *keep_alive_ms, *min_rate, *threads;
	const char *cert; /* PEM (key and certificate) for TLS, or NULL */
};

static int port;
static char tmp[] = "/tmp/wr-http-limits-XXXXXX"; /* made by main */

/* Start a server with these limits on 127.0.0.1:<ephemeral>; sets port. */
static struct mg_context *srv_start(const struct limits *l)
{
	struct mg_callbacks cb = { 0 };
	struct mg_server_port sp;
	struct mg_context *ctx;
	const char *opts[32];
	int n = 0;

	opts[n++] = "listening_ports";
	opts[n++] = l->cert ? "127.0.0.1:0s" : "127.0.0.1:0";
	opts[n++] = "num_threads";
	opts[n++] = l->threads;
	opts[n++] = "request_timeout_ms";
	opts[n++] = l->timeout_ms;
	opts[n++] = "keep_alive_timeout_ms";
	opts[n++] = l->keep_alive_ms;
	opts[n++] = "request_min_rate";
	opts[n++] = l->min_rate;
	opts[n++] = "request_min_rate_grace_ms";
	opts[n++] = "1000";
	opts[n++] = "enable_keep_alive";
	opts[n++] = "yes";
	opts[n++] = "max_request_size";
	opts[n++] = "32768";
	opts[n++] = "tcp_nodelay";
	opts[n++] = "1";
	if (l->cert) {
		opts[n++] = "ssl_certificate";
		opts[n++] = l->cert;
	}
	opts[n] = NULL;
	cb.log_message = quiet;
	if (!(ctx = mg_start(&cb, NULL, opts)))
		return NULL;
	mg_set_request_handler(ctx, "/read$", on_read, NULL);
	mg_set_request_handler(ctx, "/ok$", on_status, (void *)(intptr_t)200);
	mg_set_request_handler(ctx, "/gone$", on_status, (void *)(intptr_t)413);
	mg_set_request_handler(ctx, "/big$", on_big, NULL);
	mg_set_request_handler(ctx, "/", on_status, (void *)(intptr_t)404);
	if (mg_get_server_ports(ctx, 1, &sp) != 1) {
		mg_stop(ctx);
		return NULL;
	}
	port = sp.port;
	pthread_mutex_lock(&mu);
	reads_done = big_started = big_short = 0;
	read_total = -1;
	read_last = 99;
	pthread_mutex_unlock(&mu);
	return ctx;
}

/* srv_start, recorded as a check. */
static struct mg_context *started(const struct limits *l)
{
	struct mg_context *ctx = srv_start(l);

	T_CHECK(ctx != NULL);
	return ctx;
}

/* Wait up to MS for the /read handler to have finished N times. */
static int reads_wait(int n, int ms)
{
	int done = 0;

	for (; ms > 0 && !done; ms -= 20, sleep_ms(20)) {
		pthread_mutex_lock(&mu);
		done = reads_done >= n;
		pthread_mutex_unlock(&mu);
	}
	return done;
}

/* ------------------------------------------------------------ the clients */

static int dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Send all of BUF within MS; 0 or -1. */
static int send_all(int fd, const char *buf, size_t len, int ms)
{
	int64_t end = clock_mono_ms() + ms;

	while (len > 0) {
		struct pollfd p = { fd, POLLOUT, 0 };
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			return -1;
		if (clock_mono_ms() >= end || poll(&p, 1, (int)(end - clock_mono_ms())) < 0)
			return -1;
	}
	return 0;
}

/* A client that sends HEAD at once, then DRIP one byte every INTERVAL ms,
 * and watches the connection for up to MAX ms. Times from the connect. */
struct drip {
	const char *head, *drip;
	int interval, max;
	int64_t answer_ms; /* first byte of an answer; -1: none */
	int64_t eof_ms;    /* the server's FIN; -1: none */
	int64_t reset_ms;  /* a send or receive refused (reset); -1: none */
	char answer[256];  /* its first bytes */
	size_t answer_len;
};

/* An answer begins "HTTP/1.x CODE " (1.0 for a request never parsed). */
static int is_status(const char *answer, int code)
{
	char want[8];

	snprintf(want, sizeof want, " %d ", code);
	return strncmp(answer, "HTTP/1.", 7) == 0 && strncmp(answer + 8, want, 5) == 0;
}

/* The connection was closed by the server: at its FIN or a reset. */
static int64_t closed_ms(const struct drip *d)
{
	if (d->eof_ms >= 0 && (d->reset_ms < 0 || d->eof_ms < d->reset_ms))
		return d->eof_ms;
	return d->reset_ms;
}

static void drip_run(struct drip *d)
{
	size_t i = 0, dlen = strlen(d->drip);
	int64_t t0 = clock_mono_ms(), next = t0 + d->interval, end = t0 + d->max;
	int fd = dial();

	d->answer_ms = d->eof_ms = d->reset_ms = -1;
	d->answer_len = 0;
	if (fd < 0 || send_all(fd, d->head, strlen(d->head), 2000) != 0) {
		d->reset_ms = 0;
		goto out;
	}
	while (clock_mono_ms() < end && d->reset_ms < 0) {
		int64_t t = clock_mono_ms(), until = (i < dlen && next < end) ? next : end;
		struct pollfd p = { fd, d->eof_ms < 0 ? POLLIN : 0, 0 };
		char buf[4096];
		ssize_t n;

		/* After the FIN, only sleep until the next byte (poll would
		 * report the hang-up again and again). */
		if (until > t)
			poll(d->eof_ms < 0 ? &p : NULL, d->eof_ms < 0, (int)(until - t));
		if (d->eof_ms < 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
			n = recv(fd, buf, sizeof buf, 0);
			if (n > 0) {
				size_t k = sizeof d->answer - 1 - d->answer_len;
				if (d->answer_ms < 0)
					d->answer_ms = clock_mono_ms() - t0;
				memcpy(d->answer + d->answer_len, buf, (size_t)n < k ? (size_t)n : k);
				d->answer_len += (size_t)n < k ? (size_t)n : k;
				d->answer[d->answer_len] = '\0';
			} else if (n == 0) {
				d->eof_ms = clock_mono_ms() - t0;
			} else if (errno != EAGAIN) {
				d->reset_ms = clock_mono_ms() - t0;
			}
		}
		if (i < dlen && clock_mono_ms() >= next && d->reset_ms < 0) {
			if (send(fd, d->drip + i, 1, MSG_NOSIGNAL) == 1)
				i++;
			else if (errno != EAGAIN)
				d->reset_ms = clock_mono_ms() - t0;
			next += d->interval;
		}
		/* Headers or body all sent and the FIN seen: nothing more to learn. */
		if (d->eof_ms >= 0 && i >= dlen)
			break;
	}
out:
	if (fd >= 0)
		close(fd);
}

/* Read answers on FD until COUNT "HTTP/1.1 " status lines and their bodies
 * (Content-Length) are in OUT, the connection closes, or MS pass. Returns
 * the number of complete answers; *eof: the server closed. */
static int read_answers(int fd, int count, int ms, char *out, size_t size, int *eof)
{
	int64_t end = clock_mono_ms() + ms;
	size_t have = 0;

	*eof = 0;
	out[0] = '\0';
	for (;;) {
		const char *p = out;
		int done = 0;
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t n;

		while ((p = strstr(p, "HTTP/1.1 ")) != NULL) {
			const char *hend = strstr(p, "\r\n\r\n"), *cl = strstr(p, "Content-Length: ");
			if (!hend || !cl || cl > hend || hend + 4 + atol(cl + 16) > out + have)
				break;
			done++;
			p = hend + 4 + atol(cl + 16);
		}
		if (done >= count || *eof || clock_mono_ms() >= end)
			return done;
		if (poll(&pf, 1, (int)(end - clock_mono_ms())) <= 0)
			continue;
		n = recv(fd, out + have, size - 1 - have, 0);
		if (n > 0) {
			have += (size_t)n;
			out[have] = '\0';
		} else if (n == 0 || errno != EAGAIN) {
			*eof = 1;
		}
	}
}

/* One exchange on a fresh connection: REQ sent whole, COUNT answers read. */
static int exchange(const char *req, size_t len, int count, char *out, size_t size)
{
	int fd = dial(), eof, got = -1;

	if (fd >= 0 && send_all(fd, req, len, 8000) == 0)
		got = read_answers(fd, count, 8000, out, size, &eof);
	if (fd >= 0)
		close(fd);
	return got;
}

static const struct limits L_DEADLINE = { "1500", "500", "0", "4", NULL };
static const struct limits L_RATE = { "5000", "500", "1024", "4", NULL };
static const struct limits L_BOTH = { "1500", "500", "1024", "4", NULL };
static const struct limits L_DRAIN = { "4000", "500", "0", "4", NULL };

#define HEAD_GET "GET /ok HTTP/1.1\r\nHost: x\r\n"
#define HEAD_POST(path) "POST " path " HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
#define HDR_DRIP "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BODY_DRIP "{aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* What was measured, on stderr (tests/run.sh shows it on a failure). */
#define note(test, what, n) fprintf(stderr, "# %s: %s %lld\n", test, what, (long long)(n))

/* ------------------------------------------------------------ the tests */

/* Run D against a fresh server with limits L, and note what it saw. */
static void drip_against(const char *test, const struct limits *l, struct drip *d)
{
	struct mg_context *ctx;

	if (!(ctx = started(l))) {
		d->answer_ms = d->eof_ms = d->reset_ms = -1;
		return;
	}
	drip_run(d);
	fprintf(stderr, "# %s: answer %lld ms, FIN %lld ms, reset %lld ms (-1: none)\n", test,
	    (long long)d->answer_ms, (long long)d->eof_ms, (long long)d->reset_ms);
	mg_stop(ctx);
}

/* Headers a byte every 200 ms: cut at the 1500 ms deadline with a 408. */
static void test_header_dribble_cut_at_deadline(void)
{
	struct drip d = { HEAD_GET, HDR_DRIP, 200, 8000, 0, 0, 0, "", 0 };

	drip_against(__func__, &L_DEADLINE, &d);
	T_CHECK(closed_ms(&d) >= 1200);
	T_CHECK(closed_ms(&d) >= 0 && closed_ms(&d) < 3000);
	/* Unpatched CivetWeb answers a header timeout 400 "Malformed message". */
	T_CHECK(is_status(d.answer, 408));
}

/* One byte at 1300 ms, then silence: cut at the deadline (1500 ms).
 * Unpatched, that byte bought a whole new 1500 ms poll: cut at ~2800 ms. */
static void test_header_byte_before_deadline(void)
{
	struct drip d = { HEAD_GET, "X", 1300, 8000, 0, 0, 0, "", 0 };

	drip_against(__func__, &L_DEADLINE, &d);
	T_CHECK(closed_ms(&d) >= 1200);
	T_CHECK(closed_ms(&d) >= 0 && closed_ms(&d) < 2300);
}

/* Headers at ~5 bytes/s against a 1024 bytes/s floor (grace 1 s), with a
 * 5000 ms deadline: cut just after the grace, long before the deadline. */
static void test_header_dribble_below_min_rate(void)
{
	struct drip d = { HEAD_GET, HDR_DRIP, 200, 8000, 0, 0, 0, "", 0 };

	drip_against(__func__, &L_RATE, &d);
	T_CHECK(closed_ms(&d) >= 900);
	T_CHECK(closed_ms(&d) >= 0 && closed_ms(&d) < 2500);
	T_CHECK(is_status(d.answer, 408));
}

/* A body (Content-Length 100000) a byte every 200 ms into a handler's
 * mg_read loop: mg_read gives up (< 0) by the deadline, after a few bytes,
 * and the connection is closed. Unpatched, mg_read waits for ever. */
static void test_body_dribble_cut_at_deadline(void)
{
	struct drip d = { HEAD_POST("/read"), BODY_DRIP, 200, 8000, 0, 0, 0, "", 0 };

	drip_against(__func__, &L_DEADLINE, &d);
	T_CHECK(reads_wait(1, 2000));
	pthread_mutex_lock(&mu);
	note(__func__, "mg_read gave up after (ms)", read_ms);
	T_CHECK(read_last < 0);
	T_CHECK(read_total > 0 && read_total < 20);
	T_CHECK(read_ms >= 1000 && read_ms < 3000);
	pthread_mutex_unlock(&mu);
	T_CHECK(closed_ms(&d) >= 0 && closed_ms(&d) < 3000);
}

/* An unknown path refused at once with mg_close_after_response, its body
 * dribbled: the answer and the FIN come at once; the server reads and
 * discards for the bounded linger (1 s) and then stops, long before the
 * 4000 ms deadline. */
static void test_close_after_response_no_drain(void)
{
	struct drip d = { HEAD_POST("/gone"), BODY_DRIP BODY_DRIP, 100, 8000, 0, 0, 0, "", 0 };

	drip_against(__func__, &L_DRAIN, &d);
	T_CHECK(is_status(d.answer, 413));
	T_CHECK(d.answer_ms >= 0 && d.answer_ms < 1000);
	T_CHECK(d.eof_ms >= 0 && d.eof_ms < 1000);
	/* Lingering: the server went on reading (no reset) for about 1 s. */
	T_CHECK(d.reset_ms >= 800);
	T_CHECK(d.reset_ms >= 0 && d.reset_ms < 2500);
}

/* The same refusal from a handler that just returns: CivetWeb drains the
 * body, but only until the request's deadline (4000 ms). */
static void test_plain_refusal_drain_bounded(void)
{
	struct drip d = { HEAD_POST("/nowhere"), BODY_DRIP, 200, 9000, 0, 0, 0, "", 0 };

	drip_against(__func__, &L_DRAIN, &d);
	T_CHECK(is_status(d.answer, 404));
	T_CHECK(d.answer_ms >= 0 && d.answer_ms < 1000);
	T_CHECK(closed_ms(&d) >= 3500);
	T_CHECK(closed_ms(&d) >= 0 && closed_ms(&d) < 6500);
}

/* Kept alive: closed after about keep_alive_timeout_ms (500) of idleness;
 * a second request sent at once is served; and one begun within the idle
 * time may take longer than that to arrive (the request's own deadline
 * applies from its first byte; unpatched, 500 ms bounded its headers). */
static void test_keep_alive_idle(void)
{
	static const char req[] = HEAD_GET "\r\n";
	struct mg_context *ctx;
	char out[4096];
	int fd, eof = 0, got;
	int64_t t0;
	size_t i;

	if (!(ctx = started(&L_BOTH)))
		return;
	fd = dial();
	T_CHECK(fd >= 0 && send_all(fd, req, sizeof req - 1, 2000) == 0);
	T_EQ_INT(read_answers(fd, 1, 3000, out, sizeof out, &eof), 1);
	t0 = clock_mono_ms();
	got = read_answers(fd, 1, 5000, out, sizeof out, &eof);
	note(__func__, "idle connection closed after (ms)", clock_mono_ms() - t0);
	T_EQ_INT(got, 0);
	T_CHECK(eof && clock_mono_ms() - t0 >= 300 && clock_mono_ms() - t0 < 2000);
	close(fd);

	fd = dial();
	T_CHECK(fd >= 0 && send_all(fd, req, sizeof req - 1, 2000) == 0);
	T_EQ_INT(read_answers(fd, 1, 3000, out, sizeof out, &eof), 1);
	T_CHECK(send_all(fd, req, sizeof req - 1, 2000) == 0);
	T_EQ_INT(read_answers(fd, 1, 3000, out, sizeof out, &eof), 1);
	T_CHECK(strstr(out, "\r\n\r\nok") != NULL);
	/* Third request: first byte after 200 ms idle, the rest over ~900 ms. */
	sleep_ms(200);
	for (i = 0; i < sizeof req - 1 && fd >= 0; i++) {
		T_CHECK(send_all(fd, req + i, 1, 2000) == 0);
		sleep_ms(30);
	}
	T_EQ_INT(read_answers(fd, 1, 3000, out, sizeof out, &eof), 1);
	T_CHECK(strncmp(out, "HTTP/1.1 200 ", 13) == 0);
	if (fd >= 0)
		close(fd);
	mg_stop(ctx);
}

/* Nothing legitimate is cut (deadline 1500 ms and 1024 bytes/s floor). */
static void test_legitimate_requests_served(void)
{
	static const char one[] = HEAD_GET "\r\n", two[] = HEAD_GET "\r\n" HEAD_GET "\r\n";
	static const char chunked[] = "POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
	struct mg_context *ctx;
	char out[8192];
	int n;

	if (!(ctx = started(&L_BOTH)))
		return;
	T_EQ_INT(exchange(one, sizeof one - 1, 1, out, sizeof out), 1);
	T_CHECK(strstr(out, "HTTP/1.1 200 ") == out && strstr(out, "\r\n\r\nok"));
	T_EQ_INT(exchange(two, sizeof two - 1, 2, out, sizeof out), 2);
	T_EQ_INT(exchange(chunked, sizeof chunked - 1, 1, out, sizeof out), 1);
	T_CHECK(strstr(out, "read=31 rc=0") != NULL);
	n = snprintf(big_req, 128, "POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", BIG);
	memset(big_req + n, 'b', BIG);
	T_EQ_INT(exchange(big_req, (size_t)n + BIG, 1, out, sizeof out), 1);
	T_CHECK(strstr(out, "read=1048576 rc=0") != NULL);
	mg_stop(ctx);
}

static void *flood_run(void *arg)
{
	drip_run(arg);
	return NULL;
}

/* 8 slow clients (4 dribbling headers, 4 a body into mg_read) against 4
 * threads and a 1500 ms deadline: a good request sent meanwhile is answered
 * within about (8/4 + 1) x 1500 ms, and each slow client is cut within
 * about (8/4) x 1500 ms of its connect. Unpatched, the body dribblers hold
 * their threads for ever. */
static void test_more_slow_clients_than_threads(void)
{
	static const char req[] = HEAD_GET "\r\n";
	struct mg_context *ctx;
	struct drip f[8];
	pthread_t th[8];
	char out[4096];
	int64_t t0;
	int i, got;

	if (!(ctx = started(&L_DEADLINE)))
		return;
	for (i = 0; i < 8; i++) {
		struct drip d = { i % 2 ? HEAD_GET : HEAD_POST("/read"), i % 2 ? HDR_DRIP : BODY_DRIP,
			200, 10000, 0, 0, 0, "", 0 };
		f[i] = d;
		pthread_create(&th[i], NULL, flood_run, &f[i]);
	}
	sleep_ms(200);
	t0 = clock_mono_ms();
	got = exchange(req, sizeof req - 1, 1, out, sizeof out);
	note(__func__, "good request answered after (ms)", clock_mono_ms() - t0);
	T_EQ_INT(got, 1);
	T_CHECK(clock_mono_ms() - t0 < 4500 + 2000);
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		note(__func__, i % 2 ? "header dribbler closed after (ms)" : "body dribbler closed after (ms)",
		    closed_ms(&f[i]));
		T_CHECK(closed_ms(&f[i]) >= 0 && closed_ms(&f[i]) < 3000 + 2000);
	}
	mg_stop(ctx);
}

/* A client that pipelines 20 requests for 1 MiB answers and never reads:
 * the first write that times out (1500 ms) ends the connection. Unpatched,
 * every request got its own timed-out write, then the rest were served. */
static void test_client_that_never_reads(void)
{
	static const char req[] = "GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
	struct mg_context *ctx;
	char reqs[20 * sizeof req], buf[65536];
	long long got = 0;
	int fd, i, closed = 0;
	int64_t end;

	if (!(ctx = started(&L_DEADLINE)))
		return;
	for (i = 0; i < 20; i++)
		memcpy(reqs + i * (sizeof req - 1), req, sizeof req - 1);
	fd = dial();
	T_CHECK(fd >= 0 && send_all(fd, reqs, 20 * (sizeof req - 1), 2000) == 0);
	sleep_ms(3500);
	end = clock_mono_ms() + 4000;
	while (fd >= 0 && !closed && clock_mono_ms() < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, (int)(end - clock_mono_ms())) <= 0)
			continue;
		n = recv(fd, buf, sizeof buf, 0);
		if (n > 0)
			got += n;
		else if (n == 0 || errno != EAGAIN)
			closed = 1;
	}
	note(__func__, "bytes received before the close", got);
	T_CHECK(closed);
	T_CHECK(got < 10LL * BIG);
	pthread_mutex_lock(&mu);
	note(__func__, "the short write gave up after (ms)", big_write_ms);
	note(__func__, "answers begun", big_started);
	T_CHECK(big_short >= 1);
	T_CHECK(big_write_ms < 1500 + 1500);
	T_CHECK(big_started < 10);
	pthread_mutex_unlock(&mu);
	if (fd >= 0)
		close(fd);
	mg_stop(ctx);
}

/* TLS: a plain request is served, then, kept alive, a body dribbled one
 * TLS record per 200 ms into mg_read is cut by the 1500 ms deadline. */
static void test_tls_body_dribble(void)
{
	static const char req[] = HEAD_POST("/read");
	static const char ok[] = HEAD_GET "\r\n";
	char cmd[512], pem[128], buf[512];
	struct timeval tv = { 5, 0 };
	struct limits l = L_DEADLINE;
	struct mg_context *ctx = NULL;
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	int fd = -1, closed = 0;
	int64_t t0, cut = -1;

	snprintf(pem, sizeof pem, "%s/server.pem", tmp);
	snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -days 2 -subj /CN=127.0.0.1 -keyout %s/k -out %s/c >/dev/null 2>&1 && "
	    "cat %s/k %s/c >%s", tmp, tmp, tmp, tmp, pem);
	T_EQ_INT(system(cmd), 0);
	l.cert = pem;
	T_CHECK(cctx != NULL);
	if (!cctx || !(ctx = started(&l)) || (fd = dial()) < 0)
		goto out;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ssl = SSL_new(cctx);
	T_CHECK(ssl && SSL_set_fd(ssl, fd) == 1 && SSL_connect(ssl) == 1);
	if (!ssl || SSL_is_init_finished(ssl) != 1)
		goto out;
	/* Served as usual. */
	T_EQ_INT(SSL_write(ssl, ok, sizeof ok - 1), (int)sizeof ok - 1);
	T_CHECK(SSL_read(ssl, buf, sizeof buf - 1) > 0 && strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
	/* Then the dribble, read with 200 ms waits. */
	tv.tv_sec = 0;
	tv.tv_usec = 200000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	t0 = clock_mono_ms();
	T_EQ_INT(SSL_write(ssl, req, sizeof req - 1), (int)sizeof req - 1);
	while (!closed && clock_mono_ms() - t0 < 8000) {
		int n;

		if (SSL_write(ssl, "a", 1) != 1)
			closed = 1;
		n = closed ? 0 : SSL_read(ssl, buf, sizeof buf);
		if (!closed && n <= 0) {
			int e = SSL_get_error(ssl, n);
			if (!(e == SSL_ERROR_WANT_READ ||
			    (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK))))
				closed = 1;
		}
		ERR_clear_error();
		if (closed)
			cut = clock_mono_ms() - t0;
	}
	note(__func__, "closed after (ms)", cut);
	T_CHECK(cut >= 1000 && cut < 3000);
	T_CHECK(reads_wait(1, 2000));
	pthread_mutex_lock(&mu);
	T_CHECK(read_last < 0);
	T_CHECK(read_total > 0 && read_total < 20);
	pthread_mutex_unlock(&mu);
out:
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	if (cctx)
		SSL_CTX_free(cctx);
	if (ctx)
		mg_stop(ctx);
	T_CHECK(fd >= 0);
}

/* curl posts 10 MB to a handler that answers 413 without reading it and
 * closes (mg_close_after_response): curl must show the 413, with and
 * without Expect: 100-continue (the bounded lingering close keeps a reset
 * from destroying the answer while curl is still sending). */
static void test_curl_sees_early_413(void)
{
	static const char *const expect[] = { "Expect:", "Expect: 100-continue" };
	char cmd[512], out[64];
	struct mg_context *ctx;
	unsigned i;

	snprintf(cmd, sizeof cmd, "head -c 10000000 /dev/zero >%s/body", tmp);
	T_EQ_INT(system(cmd), 0);
	if (!(ctx = started(&L_BOTH)))
		return;
	for (i = 0; i < 2; i++) {
		FILE *p;

		snprintf(cmd, sizeof cmd, "curl -sS -o /dev/null -w '%%{http_code}' --max-time 20 "
		    "-H '%s' --data-binary @%s/body http://127.0.0.1:%d/gone", expect[i], tmp, port);
		out[0] = '\0';
		if ((p = popen(cmd, "r")) != NULL) {
			if (!fgets(out, sizeof out, p))
				out[0] = '\0';
			pclose(p);
		}
		fprintf(stderr, "# %s: %s: curl shows %s\n", __func__, expect[i], out);
		T_EQ_STR(out, "413");
	}
	mg_stop(ctx);
}

int main(void)
{
	char cmd[128];

	signal(SIGPIPE, SIG_IGN); /* a TLS write to a closed connection */
	if (!mkdtemp(tmp)) {
		printf("FAIL setup: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	mg_init_library(MG_FEATURES_TLS);
	memset(big_body, 'x', sizeof big_body);
	T_RUN(test_header_dribble_cut_at_deadline);
	T_RUN(test_header_byte_before_deadline);
	T_RUN(test_header_dribble_below_min_rate);
	T_RUN(test_body_dribble_cut_at_deadline);
	T_RUN(test_close_after_response_no_drain);
	T_RUN(test_plain_refusal_drain_bounded);
	T_RUN(test_keep_alive_idle);
	T_RUN(test_legitimate_requests_served);
	T_RUN(test_more_slow_clients_than_threads);
	T_RUN(test_client_that_never_reads);
	T_RUN(test_tls_body_dribble);
	T_RUN(test_curl_sees_early_413);
	mg_exit_library();
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		printf("FAIL cleanup: %s\n", cmd);
	return T_EXIT();
}
