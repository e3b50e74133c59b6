/*
 * xclient.c — a small client of the executor service for the e2e tests:
 * sends one request over the Unix socket (common/xproto.h) and prints what
 * comes back: stdout chunks on stdout, stderr chunks on stderr, the final
 * status (or stats) line into --status FILE.
 *
 *   xclient SOCKET --dest U@H:P --identity NAME (--command STR | --command-file F)
 *           [--job ID] [--connect-ms N] [--handshake-ms N] [--run-ms N]
 *           [--max-output N] [--no-reuse] [--no-posix-sh] [--status FILE]
 *           [--quit-after-ms N]
 *   xclient SOCKET --stats [--status FILE]
 *   xclient SOCKET --raw FILE [--status FILE]   the bytes of FILE as they are,
 *           then the sending side is shut (for malformed requests)
 *
 * Exit: 0 the final frame arrived; 3 the response ended without one or was
 * malformed (the reason on stderr); 4 cannot connect or send; 5
 * --quit-after-ms hung up as asked; 2 bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../common/readfile.h"
#include "../../common/xproto.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const void *b, size_t n)
{
	const char *p = b;

	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct xproto_req r;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char *req = NULL, buf[65536];
	size_t reqlen = 0, fl;
	const char *status_path = NULL, *raw = NULL;
	char *cmdbuf = NULL;
	long long quit_after = -1, t0;
	enum xproto_why why;
	struct xproto_dec d;
	FILE *stf = NULL;
	int fd, i, final = 0, rc;

	xproto_req_init(&r);
	r.connect_ms = 5000;
	r.handshake_ms = 10000;
	r.run_ms = 30000;
	r.flags = XPROTO_F_REUSE | XPROTO_F_POSIX_SH;
	if (argc < 3) {
		fprintf(stderr, "usage: xclient SOCKET OPTIONS (see the source)\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (!strcmp(o, "--stats")) {
			r.stats = 1;
			takes = 0;
		} else if (!strcmp(o, "--no-reuse")) {
			r.flags &= ~XPROTO_F_REUSE;
			takes = 0;
		} else if (!strcmp(o, "--no-posix-sh")) {
			r.flags &= ~XPROTO_F_POSIX_SH;
			takes = 0;
		} else if (!v) {
			fprintf(stderr, "xclient: %s needs a value\n", o);
			return 2;
		} else if (!strcmp(o, "--dest")) {
			snprintf(r.dest, sizeof r.dest, "%s", v);
		} else if (!strcmp(o, "--identity")) {
			snprintf(r.identity, sizeof r.identity, "%s", v);
		} else if (!strcmp(o, "--job")) {
			snprintf(r.job_id, sizeof r.job_id, "%s", v);
		} else if (!strcmp(o, "--command")) {
			free(cmdbuf);
			cmdbuf = strdup(v);
		} else if (!strcmp(o, "--command-file")) {
			free(cmdbuf);
			cmdbuf = NULL;
			if (readfile_read(v, XPROTO_COMMAND_MAX + 1, &cmdbuf, &fl) != 0) {
				fprintf(stderr, "xclient: cannot read %s\n", v);
				return 2;
			}
		} else if (!strcmp(o, "--connect-ms")) {
			r.connect_ms = (uint32_t)strtoul(v, NULL, 10);
		} else if (!strcmp(o, "--handshake-ms")) {
			r.handshake_ms = (uint32_t)strtoul(v, NULL, 10);
		} else if (!strcmp(o, "--run-ms")) {
			r.run_ms = (uint32_t)strtoul(v, NULL, 10);
		} else if (!strcmp(o, "--max-output")) {
			r.max_output = strtoull(v, NULL, 10);
		} else if (!strcmp(o, "--status")) {
			status_path = v;
		} else if (!strcmp(o, "--raw")) {
			raw = v;
		} else if (!strcmp(o, "--quit-after-ms")) {
			quit_after = atoll(v);
		} else {
			fprintf(stderr, "xclient: unknown option %s\n", o);
			return 2;
		}
		i += takes;
	}
	if (raw) {
		char *b = NULL;
		if (readfile_read(raw, 4u << 20, &b, &reqlen) != 0) {
			fprintf(stderr, "xclient: cannot read %s\n", raw);
			return 2;
		}
		req = (unsigned char *)b;
	} else {
		r.command = cmdbuf;
		r.command_len = cmdbuf ? strlen(cmdbuf) : 0;
		cmdbuf = NULL;
		rc = xproto_req_encode(&r, &req, &reqlen, &why);
		xproto_req_free(&r);
		if (rc != 0) {
			fprintf(stderr, "xclient: cannot encode the request: %s\n", xproto_why_text(why));
			return 2;
		}
	}
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "xclient: cannot connect to %s: %s\n", argv[1], strerror(errno));
		return 4;
	}
	signal(SIGPIPE, SIG_IGN);
	if (write_all(fd, req, reqlen) != 0) {
		fprintf(stderr, "xclient: cannot send the request: %s\n", strerror(errno));
		/* The service may have answered already (a refusal): read on. */
	}
	free(req);
	req = NULL;
	if (raw)
		shutdown(fd, SHUT_WR);
	if (status_path && !(stf = fopen(status_path, "w"))) {
		fprintf(stderr, "xclient: cannot write %s\n", status_path);
		return 2;
	}
	xproto_dec_init(&d, XPROTO_RESPONSE, 0);
	t0 = now_ms();
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ms = 1000;
		ssize_t k;
		size_t off = 0, used;
		struct xproto_frame f;

		if (quit_after >= 0) {
			long long left = t0 + quit_after - now_ms();
			if (left <= 0) {
				close(fd);
				fprintf(stderr, "xclient: hung up after %lld ms as asked\n", quit_after);
				rc = 5;
				goto out;
			}
			if (left < ms)
				ms = (int)left;
		}
		if (poll(&p, 1, ms) <= 0)
			continue;
		k = read(fd, buf, sizeof buf);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = xproto_dec_eof(&d);
			if (rc != 0 || !final) {
				fprintf(stderr, "xclient: the service ended the response without a final "
				    "frame: %s\n", xproto_why_text(d.why));
				rc = 3;
				goto out;
			}
			break;
		}
		while (off < (size_t)k) {
			rc = xproto_dec_feed(&d, buf + off, (size_t)k - off, &used, &f);
			off += used;
			if (rc < 0) {
				fprintf(stderr, "xclient: bad response: %s\n", xproto_why_text(d.why));
				rc = 3;
				goto out;
			}
			if (rc == 0)
				break;
			if (f.type == XPROTO_T_STDOUT)
				write_all(1, f.data, f.len);
			else if (f.type == XPROTO_T_STDERR)
				write_all(2, f.data, f.len);
			else {
				final = 1;
				if (stf)
					fwrite(f.data, 1, f.len, stf);
				else
					write_all(1, f.data, f.len);
			}
		}
	}
	rc = 0;
	close(fd);
out:
	if (stf)
		fclose(stf);
	xproto_dec_free(&d);
	return rc;
}
