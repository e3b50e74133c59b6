/*
 * cli_follow.c — `jobs follow` (contract in cli_follow.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_follow.h"
#include "../common/httpprobe.h"
#include "../common/secret.h"
#include "../common/sseparse.h"

#define CMD          "jobs follow"
#define DEFAULT_URL  "http://127.0.0.1:8080"
#define HEAD_MAX     8192            /* bytes of an answer's head (and an error body) */
#define LINE_MAX_SSE (64 * 1024)     /* bytes of one stream line */
#define EVENT_MAX    (256 * 1024)    /* bytes of one event's data */
#define IO_TIMEOUT_S 60              /* no byte this long: the connection is dropped */
#define CONNECT_S    5
#define RETRY_MIN_MS 100
#define RETRY_MAX_MS 30000
#define RETRY_DEF_MS 1000

static const char usage[] =
"usage: webhook-runner jobs follow ID --token REF [--url URL]\n"
"Print job ID's output live from a running daemon (GET /jobs/ID/output):\n"
"its stdout to stdout, its stderr to stderr, then exit with the job's exit\n"
"status (timeout 124, failed to run 125, interrupted 122, denied 121,\n"
"expired 120, runs on another instance 3, error 1, bad arguments 2).\n"
"Options:\n"
"  --token REF  the bearer token GET /jobs/ID takes (the hook's JWT or the\n"
"               read token), as env:NAME, file:PATH or cred:NAME\n"
"  --url URL    the daemon, http://HOST[:PORT] with HOST an IP address or\n"
"               localhost (default " DEFAULT_URL "; no https)\n";

static const struct { const char *name; int num; } signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },
};

int cli_follow_exit_code(const char *status, int has_exit, int exit_code, const char *signal)
{
	size_t i;

	if (!status)
		return CLI_FOLLOW_EXIT_NOT_RUN;
	if (!strcmp(status, "timeout"))
		return CLI_FOLLOW_EXIT_TIMEOUT;
	if (!strcmp(status, "interrupted"))
		return CLI_FOLLOW_EXIT_INTERRUPTED;
	if (!strcmp(status, "denied"))
		return CLI_FOLLOW_EXIT_DENIED;
	if (!strcmp(status, "expired"))
		return CLI_FOLLOW_EXIT_EXPIRED;
	if (strcmp(status, "succeeded") && strcmp(status, "failed"))
		return CLI_FOLLOW_EXIT_NOT_RUN;
	if (has_exit && exit_code >= 0 && exit_code <= 255)
		return exit_code;
	if (signal && *signal) {
		if (!strncmp(signal, "SIG", 3))
			signal += 3;
		for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
			if (!strcmp(signal, signals[i].name))
				return 128 + signals[i].num;
	}
	return CLI_FOLLOW_EXIT_NOT_RUN;
}

/* ---- the events ------------------------------------------------------ */

struct fl {
	struct sseparse p;
	int64_t id;
	int done, code;      /* an outcome or elsewhere came; the exit status */
	int tail_done;       /* the tail was printed (never twice) */
	int progress;        /* an event came on this connection */
	int werr;            /* writing our output failed (errno): stop */
	int tty[2];          /* stdout, stderr are terminals */
};

/* LEN bytes of S to F (index 0 stdout, 1 stderr), flushed; control bytes
 * made safe on a terminal. */
static void put(struct fl *f, int which, const char *s, size_t len)
{
	FILE *o = which ? stderr : stdout;
	size_t i;

	if (!f->tty[which]) {
		fwrite(s, 1, len, o);
	} else {
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];
			fputc((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : c, o);
		}
	}
	if (fflush(o) != 0 || ferror(o))
		f->werr = errno ? errno : EIO;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void outcome(struct fl *f, const char *data, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(data, len);
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "exit_code");
	const char *st = jstr(o, "status"), *sig = jstr(o, "signal"), *err = jstr(o, "error");
	int has = cJSON_IsNumber(ex) && ex->valuedouble >= -1 && ex->valuedouble <= 65535;
	char s[64], e[300], g[32];

	f->done = 1;
	f->code = cli_follow_exit_code(st, has, has ? (int)ex->valuedouble : -1, sig);
	if (!st || strcmp(st, "succeeded") || f->code) {
		cli_safe(st ? st : "unreadable outcome", s, sizeof s, 0);
		cli_safe(err, e, sizeof e, 0);
		fprintf(stderr, "webhook-runner " CMD ": job %" PRId64 " %s", f->id, s);
		if (has)
			fprintf(stderr, " (exit %d)", (int)ex->valuedouble);
		else if (sig) {
			cli_safe(sig, g, sizeof g, 0);
			fprintf(stderr, " (signal %s)", g);
		}
		fprintf(stderr, "%s%s; exit status %d\n", *e ? ": " : "", e, f->code);
	}
	cJSON_Delete(o);
}

static int on_event(void *arg, const struct sseparse_event *ev)
{
	struct fl *f = arg;

	f->progress = 1;
	if (!strcmp(ev->type, "stdout") || !strcmp(ev->type, "stderr")) {
		put(f, ev->type[3] == 'e', ev->data, ev->data_len);
	} else if (!strcmp(ev->type, "tail")) {
		if (!f->tail_done && ev->data_len) {
			put(f, 0, ev->data, ev->data_len);
			if (ev->data[ev->data_len - 1] != '\n')
				put(f, 0, "\n", 1);
		}
		f->tail_done = 1;
	} else if (!strcmp(ev->type, "gap")) {
		cJSON *o = cJSON_ParseWithLength(ev->data, ev->data_len);
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "from");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "to");

		if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
			fprintf(stderr, "webhook-runner " CMD ": [%.0f bytes of output no longer kept: "
			    "offsets %.0f to %.0f]\n", b->valuedouble - a->valuedouble, a->valuedouble,
			    b->valuedouble);
		else
			fprintf(stderr, "webhook-runner " CMD ": [some output no longer kept]\n");
		cJSON_Delete(o);
	} else if (!strcmp(ev->type, "elsewhere")) {
		cJSON *o = cJSON_ParseWithLength(ev->data, ev->data_len);
		char m[300];

		cli_safe(jstr(o, "message") ? jstr(o, "message") : "the job runs on another instance",
		    m, sizeof m, 0);
		fprintf(stderr, "webhook-runner " CMD ": job %" PRId64 ": %s\n", f->id, m);
		cJSON_Delete(o);
		f->done = 1;
		f->code = CLI_FOLLOW_EXIT_ELSEWHERE;
	} else if (!strcmp(ev->type, "outcome")) {
		outcome(f, ev->data, ev->data_len);
	}
	return f->done || f->werr; /* stop reading after the last event */
}

/* ---- one connection -------------------------------------------------- */

enum conn_end { CONN_DONE, CONN_DROPPED, CONN_FAILED };

static int dial(const struct httpprobe_target *t, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct timeval tv = { CONNECT_S, 0 };
	socklen_t sl;
	int fd;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, t->host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)t->port);
		sl = sizeof *s4;
	} else if (inet_pton(AF_INET6, t->host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)t->port);
		sl = sizeof *s6;
	} else {
		snprintf(err, errlen, "bad address %s", t->host);
		return -EINVAL;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	/* Linux bounds connect() by the send timeout too. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		int e = errno;

		snprintf(err, errlen, "connect: %s", e == EINPROGRESS || e == EAGAIN ?
		    "timed out" : strerror(e));
		close(fd);
		return -e;
	}
	tv.tv_sec = IO_TIMEOUT_S;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The error a non-200 answer gives: "HTTP 404: no such job". */
static void answer_error(int status, const char *body, size_t len, char *err, size_t errlen)
{
	cJSON *o = cJSON_ParseWithLength(body, len);
	char m[300];

	cli_safe(jstr(o, "error") ? jstr(o, "error") : "", m, sizeof m, 0);
	snprintf(err, errlen, "HTTP %d%s%s", status, *m ? ": " : "", m);
	cJSON_Delete(o);
}

/* One GET of PATH on T, events fed to F's parser. *STATUS gets the answer's
 * status (0 when none came). ERR says why on CONN_DROPPED / CONN_FAILED. */
static enum conn_end one(struct fl *f, const struct httpprobe_target *t, const char *path,
    const char *token, int *status, char *err, size_t errlen)
{
	char *buf = malloc(HEAD_MAX + 1), *req = NULL, lei[SSEPARSE_ID_MAX + 40] = "";
	enum conn_end end = CONN_FAILED;
	enum sseparse_why why = SSEPARSE_OK;
	size_t have = 0;
	char *eoh = NULL;
	int fd = -1, n, rc;
	ssize_t r;

	*status = 0;
	f->progress = 0; /* a failed reconnection is no progress */
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (f->p.id[0])
		snprintf(lei, sizeof lei, "Last-Event-ID: %s\r\n", f->p.id);
	n = asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nAuthorization: Bearer %s\r\n"
	    "Accept: text/event-stream\r\nUser-Agent: webhook-runner-jobs-follow\r\n%s"
	    "Connection: close\r\n\r\n", path, strchr(t->host, ':') ? "[" : "", t->host,
	    strchr(t->host, ':') ? "]" : "", t->port, token, lei);
	if (n < 0) {
		req = NULL;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((fd = dial(t, err, errlen)) < 0) {
		end = CONN_DROPPED;
		goto out;
	}
	if (send_all(fd, req, (size_t)n) != 0) {
		snprintf(err, errlen, "sending the request: %s", strerror(errno));
		end = CONN_DROPPED;
		goto out;
	}
	/* The head, then whatever of the body came with it. */
	while (!eoh) {
		if (have == HEAD_MAX) {
			snprintf(err, errlen, "the answer's head is over %d bytes", HEAD_MAX);
			goto out;
		}
		r = recv(fd, buf + have, HEAD_MAX - have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s before the answer's head", r ? strerror(errno) :
			    "connection closed");
			end = CONN_DROPPED;
			goto out;
		}
		have += (size_t)r;
		buf[have] = 0;
		eoh = memmem(buf, have, "\r\n\r\n", 4);
	}
	if (httpprobe_parse_status(buf, have, status) != 0) {
		snprintf(err, errlen, "not an HTTP answer");
		goto out;
	}
	if (*status != 200) {
		size_t at = (size_t)(eoh + 4 - buf);

		while (have < HEAD_MAX && (r = recv(fd, buf + have, HEAD_MAX - have, 0)) > 0)
			have += (size_t)r;
		answer_error(*status, buf + at, have - at, err, errlen);
		goto out;
	}
	sseparse_reset(&f->p);
	rc = sseparse_feed(&f->p, eoh + 4, have - (size_t)(eoh + 4 - buf), on_event, f, &why);
	while (rc == 0) {
		r = recv(fd, buf, HEAD_MAX, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s", r ? (errno == EAGAIN ? "no byte for 60 s" :
			    strerror(errno)) : "connection closed before the outcome");
			end = CONN_DROPPED;
			goto out;
		}
		rc = sseparse_feed(&f->p, buf, (size_t)r, on_event, f, &why);
	}
	if (f->werr) {
		snprintf(err, errlen, "writing the output: %s", strerror(f->werr));
		goto out;
	}
	if (f->done) {
		end = CONN_DONE;
		goto out;
	}
	snprintf(err, errlen, "bad event stream: %s", sseparse_why_text(why));
out:
	if (fd >= 0)
		close(fd);
	if (req) {
		explicit_bzero(req, strlen(req));
		free(req);
	}
	free(buf);
	return end;
}

/* ---- the subcommand -------------------------------------------------- */

static int parse_args(int argc, char **argv, int64_t *id, const char **url, const char **token)
{
	static const struct option lopts[] = {
		{ "url", required_argument, NULL, 'u' }, { "token", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	char *end;
	long long v;
	int c;

	*id = 0;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "-:h", lopts, NULL)) != -1) {
		switch (c) {
		case 1:
			if (*id)
				return cli_say(2, CMD, "unexpected argument \"%s\" (see --help)", optarg);
			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || errno || *end || v < 1)
				return cli_say(2, CMD, "bad job id \"%s\" (a positive number)", optarg);
			*id = v;
			break;
		case 'u':
			if (*url)
				return cli_say(2, CMD, "--url given twice");
			*url = optarg;
			break;
		case 't':
			if (*token)
				return cli_say(2, CMD, "--token given twice");
			*token = optarg;
			break;
		case 'h': fputs(usage, stdout); return -1;
		case ':': return cli_say(2, CMD, "%s needs a value (see --help)", argv[optind - 1]);
		default: return cli_say(2, CMD, "unknown option \"%s\" (see --help)", argv[optind - 1]);
		}
	}
	if (!*id)
		return cli_say(2, CMD, "which job? give its id (see --help)");
	if (!*token)
		return cli_say(2, CMD, "--token REF is required (env:NAME, file:PATH or cred:NAME)");
	return 0;
}

int cli_follow_main(int argc, char **argv)
{
	struct httpprobe_target t;
	struct fl f;
	const char *url = NULL, *ref = NULL;
	char *token = NULL, err[512], path[400];
	int rc, tries = 0, status, started = 0;
	enum conn_end end;
	size_t i;

	memset(&f, 0, sizeof f);
	if ((rc = parse_args(argc, argv, &f.id, &url, &ref)) != 0)
		return rc < 0 ? 0 : rc;
	if (!url)
		url = DEFAULT_URL;
	if (!strncmp(url, "https://", 8))
		return cli_say(2, CMD, "https is not supported: the token would go to a server whose "
		    "certificate nothing checks; use http:// on loopback (or an SSH tunnel)");
	if (httpprobe_parse_url(url, "/", &t, err, sizeof err) != 0)
		return cli_say(2, CMD, "--url %s: %s", url, err);
	snprintf(path, sizeof path, "%s/jobs/%" PRId64 "/output",
	    strcmp(t.path, "/") ? t.path : "", f.id);
	if (secret_resolve(ref, &token, NULL, err, sizeof err) != 0)
		return cli_say(2, CMD, "--token %s: %s", ref, err);
	for (i = 0; token[i]; i++)
		if ((unsigned char)token[i] <= ' ' || token[i] == 0x7f) {
			rc = cli_say(2, CMD, "--token %s: a space or control character in the token", ref);
			goto out;
		}
	if (sseparse_init(&f.p, LINE_MAX_SSE, EVENT_MAX) != 0) {
		rc = cli_say(1, CMD, "out of memory");
		goto out;
	}
	f.tty[0] = isatty(1);
	f.tty[1] = isatty(2);
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		end = one(&f, &t, path, token, &status, err, sizeof err);
		if (end == CONN_DONE) {
			rc = f.code;
			break;
		}
		if (status == 409) {
			rc = cli_say(CLI_FOLLOW_EXIT_ELSEWHERE, CMD, "job %" PRId64 ": %s", f.id, err);
			break;
		}
		/* Retried: a drop once the stream has started, a daemon busy or
		 * restarting meanwhile. Never the first connection's failure. */
		if (status == 200)
			started = 1;
		if (f.progress)
			tries = 0;
		if (!started || (end == CONN_FAILED && status != 503) || ++tries > CLI_FOLLOW_RETRIES) {
			rc = cli_say(1, CMD, "%s: %s%s", url, err, started ? " (gave up reconnecting)" : "");
			break;
		}
		{
			long long ms = f.p.retry_ms >= 0 ? f.p.retry_ms : RETRY_DEF_MS;
			struct timespec ts;

			ms = ms < RETRY_MIN_MS ? RETRY_MIN_MS : ms > RETRY_MAX_MS ? RETRY_MAX_MS : ms;
			fprintf(stderr, "webhook-runner " CMD ": %s; reconnecting in %lld ms%s%s\n", err, ms,
			    f.p.id[0] ? " from offset " : "", f.p.id);
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (ms % 1000) * 1000000L;
			nanosleep(&ts, NULL);
		}
	}
out:
	sseparse_free(&f.p);
	explicit_bzero(token, strlen(token));
	free(token);
	return rc;
}
