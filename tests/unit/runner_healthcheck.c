/*
 * runner_healthcheck.c — unit tests for common/httpprobe.c: the URL
 * grammar (what is accepted, what is refused and why), the status line
 * parser, and httpprobe_check against a real loopback TCP server forked by the test
 * (200, 503, garbage, silence past the deadline, a close without an answer,
 * a closed port), including the exact request the server receives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/httpprobe.h"
#include "t.h"

static char err[256];

static void test_url_ok(void)
{
	struct httpprobe_target t;

	T_EQ_INT(httpprobe_parse_url("http://127.0.0.1:8080/healthz", "/healthz", &t, err, sizeof err), 0);
	T_EQ_STR(t.host, "127.0.0.1");
	T_EQ_INT(t.port, 8080);
	T_EQ_STR(t.path, "/healthz");
	T_EQ_INT(httpprobe_parse_url("http://localhost:9", "/healthz", &t, err, sizeof err), 0);
	T_EQ_STR(t.host, "127.0.0.1");
	T_EQ_INT(t.port, 9);
	T_EQ_STR(t.path, "/healthz");
	T_EQ_INT(httpprobe_parse_url("http://10.1.2.3/", "/healthz", &t, err, sizeof err), 0);
	T_EQ_INT(t.port, 80);
	T_EQ_STR(t.path, "/healthz");
	T_EQ_INT(t.tls, 0);
	T_EQ_INT(httpprobe_parse_url("http://[::1]:65535/other?x=1", "/healthz", &t, err, sizeof err), 0);
	T_EQ_STR(t.host, "::1");
	T_EQ_INT(t.port, 65535);
	T_EQ_STR(t.path, "/other?x=1");
	T_EQ_INT(httpprobe_parse_url("https://127.0.0.1/healthz", "/healthz", &t, err, sizeof err), 0);
	T_EQ_INT(t.port, 443);
	T_EQ_INT(t.tls, 1);
	T_EQ_INT(httpprobe_parse_url("https://localhost:8443", "/healthz", &t, err, sizeof err), 0);
	T_EQ_STR(t.host, "127.0.0.1");
	T_EQ_INT(t.port, 8443);
	T_EQ_INT(t.tls, 1);
}

static void test_url_refused(void)
{
	static const char *const bad[] = {
		"ftp://127.0.0.1/healthz", "HTTPS://127.0.0.1/", "https:/127.0.0.1/",
		"https://", "127.0.0.1:8080", "http://", "http://:8080/",
		"http://127.0.0.1:0/", "http://127.0.0.1:65536/", "http://127.0.0.1:80a/",
		"http://127.0.0.1:/", "http://example.com/healthz", "http://[::1/",
		"http://127.0.0.1?x", "http://127.0.0.1/a b", "http://999.1.1.1/",
		"http://[127.0.0.1]/",
	};
	struct httpprobe_target t;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = 0;
		if (httpprobe_parse_url(bad[i], "/healthz", &t, err, sizeof err) != -EINVAL || !err[0]) {
			T_CHECK(!"a bad URL was accepted or refused without a reason");
			printf("# %s\n", bad[i]);
		}
	}
}

static void test_status(void)
{
	int code = 0;

	T_EQ_INT(httpprobe_parse_status("HTTP/1.1 200 OK\r\n", 17, &code), 0);
	T_EQ_INT(code, 200);
	T_EQ_INT(httpprobe_parse_status("HTTP/1.0 503\r\n", 14, &code), 0);
	T_EQ_INT(code, 503);
	T_EQ_INT(httpprobe_parse_status("HTTP/1.0 404\n", 13, &code), 0);
	T_EQ_INT(code, 404);
	T_EQ_INT(httpprobe_parse_status("", 0, &code), -EAGAIN);
	T_EQ_INT(httpprobe_parse_status("HTTP/1.", 7, &code), -EAGAIN);
	T_EQ_INT(httpprobe_parse_status("HTTP/1.1 20", 11, &code), -EAGAIN);
	T_EQ_INT(httpprobe_parse_status("HTTP/1.1 200", 12, &code), -EAGAIN);
	T_EQ_INT(httpprobe_parse_status("HTTP/2 200 OK\r\n", 15, &code), -EPROTO);
	T_EQ_INT(httpprobe_parse_status("SSH-2.0-OpenSSH", 15, &code), -EPROTO);
	T_EQ_INT(httpprobe_parse_status("HTTP/1.1 20x OK", 15, &code), -EPROTO);
	T_EQ_INT(httpprobe_parse_status("HTTP/1.1 2000 OK", 16, &code), -EPROTO);
	T_EQ_INT(httpprobe_parse_status("http/1.1 200 OK", 15, &code), -EPROTO);
	/* Not NUL-terminated: only LEN bytes count. */
	T_EQ_INT(httpprobe_parse_status("HTTP/1.1 200 OKxxxx", 9, &code), -EAGAIN);
}

/* A one-shot server on 127.0.0.1: accepts one connection, reads the request
 * (sent back to the parent through REQ_FD), then behaves as MODE says. */
enum mode { ANSWER, SILENT, CLOSE };

static pid_t serve_once(int *port, enum mode mode, const char *answer, int *req_fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	int ls, p[2];
	pid_t pid;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) ||
	    listen(ls, 1) || getsockname(ls, (struct sockaddr *)&sa, &sl) || pipe(p))
		return -1;
	*port = ntohs(sa.sin_port);
	if ((pid = fork()) == 0) {
		char req[1024];
		size_t n = 0;
		ssize_t r;
		int c = accept(ls, NULL, NULL);

		close(p[0]);
		alarm(10);
		while (c >= 0 && n < sizeof req && (r = read(c, req + n, sizeof req - n)) > 0) {
			n += (size_t)r;
			if (memmem(req, n, "\r\n\r\n", 4))
				break;
		}
		if (write(p[1], req, n) < 0)
			_exit(1);
		close(p[1]);
		if (mode == ANSWER && write(c, answer, strlen(answer)) < 0)
			_exit(1);
		if (mode == SILENT)
			pause();
		_exit(0);
	}
	close(p[1]);
	close(ls);
	*req_fd = p[0];
	return pid;
}

static int run(enum mode mode, const char *answer, int timeout_ms, char *msg, size_t msglen,
    char *req, size_t reqlen)
{
	struct httpprobe_target t;
	int port = 0, rfd = -1, rc;
	ssize_t n;
	pid_t pid = serve_once(&port, mode, answer, &rfd);

	if (pid < 0)
		return -999;
	memset(&t, 0, sizeof t);
	strcpy(t.host, "127.0.0.1");
	t.port = port;
	strcpy(t.path, "/healthz");
	rc = httpprobe_check(&t, NULL, timeout_ms, msg, msglen);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	n = read(rfd, req, reqlen - 1);
	req[n > 0 ? n : 0] = '\0';
	close(rfd);
	return rc;
}

static void test_check_200(void)
{
	char msg[256], req[1024];

	T_EQ_INT(run(ANSWER, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"status\":\"ok\"}\n",
	    2000, msg, sizeof msg, req, sizeof req), 0);
	T_EQ_STR(msg, "{\"status\":\"ok\"}");
	T_CHECK(strncmp(req, "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1:", 39) == 0);
	T_CHECK(strstr(req, "\r\nConnection: close\r\n") != NULL);
}

static void test_check_503(void)
{
	char msg[256], req[1024];

	T_EQ_INT(run(ANSWER, "HTTP/1.1 503 Service Unavailable\r\n\r\n{\"status\":\"draining\"}",
	    2000, msg, sizeof msg, req, sizeof req), -EIO);
	T_EQ_STR(msg, "answered 503: {\"status\":\"draining\"}");
}

static void test_check_garbage(void)
{
	char msg[256], req[1024];

	T_EQ_INT(run(ANSWER, "SSH-2.0-OpenSSH_9.2\r\n\x01\x02", 2000, msg, sizeof msg, req, sizeof req),
	    -EPROTO);
	T_EQ_STR(msg, "not an HTTP answer");
	/* Control bytes in the body never reach the one-line message. */
	T_EQ_INT(run(ANSWER, "HTTP/1.0 500 x\r\n\r\nbad\x1b[31m\x01", 2000, msg, sizeof msg, req,
	    sizeof req), -EIO);
	T_EQ_STR(msg, "answered 500: bad?[31m?");
}

static void test_check_silent(void)
{
	char msg[256], req[1024];
	struct timespec a, b;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	T_EQ_INT(run(SILENT, NULL, 300, msg, sizeof msg, req, sizeof req), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	T_CHECK(ms >= 290 && ms < 2000);
	T_EQ_STR(msg, "answer: no answer within 300 ms");
}

static void test_check_closed(void)
{
	char msg[256], req[1024];
	struct httpprobe_target t;
	int port = 0, rfd = -1;
	pid_t pid;

	T_EQ_INT(run(CLOSE, NULL, 2000, msg, sizeof msg, req, sizeof req), -EPROTO);
	T_EQ_STR(msg, "connection closed without an answer");
	/* A port nobody listens on: the one-shot server's, once it is gone. */
	if ((pid = serve_once(&port, CLOSE, NULL, &rfd)) < 0) {
		T_CHECK(!"cannot start the server");
		return;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(rfd);
	memset(&t, 0, sizeof t);
	strcpy(t.host, "127.0.0.1");
	t.port = port;
	strcpy(t.path, "/healthz");
	T_EQ_INT(httpprobe_check(&t, NULL, 2000, msg, sizeof msg), -ECONNREFUSED);
	T_EQ_STR(msg, "connect: Connection refused");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(test_url_ok);
	T_RUN(test_url_refused);
	T_RUN(test_status);
	T_RUN(test_check_200);
	T_RUN(test_check_503);
	T_RUN(test_check_garbage);
	T_RUN(test_check_silent);
	T_RUN(test_check_closed);
	return T_EXIT();
}
