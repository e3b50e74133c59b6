/*
 * svcjob.c — one client of the executor service (contract in svcjob.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/xproto.h"
#include "chan.h"
#include "input.h"
#include "svcjob.h"

#define ANSWER_MS 5000 /* writing a final frame to a client that reads slowly */

#define COUNT(env, field) __atomic_add_fetch(&(env)->n->field, 1, __ATOMIC_RELAXED)
#define READ(env, field) __atomic_load_n(&(env)->n->field, __ATOMIC_RELAXED)

/* What the log line says about a job besides its status. */
struct jobinfo {
	uid_t uid;
	const char *job_id, *identity, *dest;
	int reuse, warm, retried;
	int64_t t0;
};

/* All of BUF to FD before DEADLINE. 0, -ETIMEDOUT, or the send's -errno. */
static int send_all(int fd, const void *buf, size_t n, int64_t deadline)
{
	const char *p = buf;
	size_t off = 0;

	while (off < n) {
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		int64_t left = deadline - clock_mono_ms();
		ssize_t k;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&pf, 1, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR)
			return -errno;
		k = send(fd, p + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0)
			off += (size_t)k;
		else if (k < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return 0;
}

static void send_header(int fd)
{
	unsigned char h[XPROTO_HDR_LEN];

	xproto_header(h);
	(void)send_all(fd, h, sizeof h, clock_mono_ms() + ANSWER_MS);
}

/* The final frame: TYPE with the one-line payload LINE. */
static int send_final(int fd, uint8_t type, const char *line, size_t len)
{
	unsigned char fr[XPROTO_FHDR_LEN + XPROTO_STATUS_MAX];
	int n = xproto_frame_put(XPROTO_RESPONSE, type, line, len, fr, sizeof fr);

	if (n < 0)
		return n;
	return send_all(fd, fr, (size_t)n, clock_mono_ms() + ANSWER_MS);
}

static int send_status(int fd, const struct status *st)
{
	char line[XPROTO_STATUS_MAX];
	int n = status_format(st, line, sizeof line);

	if (n < 0)
		return n;
	return send_final(fd, XPROTO_T_STATUS, line, (size_t)n);
}

void svcjob_answer(int fd, enum exstatus_error e, const char *msg)
{
	struct status st;

	status_init(&st, NULL, NULL, 0);
	status_fail(&st, e, "%s", msg);
	st.t_end = clock_mono_ms();
	send_header(fd);
	(void)send_status(fd, &st);
	close(fd);
}

/* Read the request from FD until it is complete, within
 * SVCJOB_REQUEST_MS. 0; -EPROTO with *WHY; -ETIMEDOUT; -ENOMEM; or the
 * read's -errno. */
static int read_request(int fd, struct xproto_req *r, enum xproto_why *why)
{
	unsigned char buf[65536];
	struct xproto_dec d;
	int64_t dl = clock_mono_ms() + SVCJOB_REQUEST_MS;
	int rc;

	*why = XPROTO_OK;
	xproto_dec_init(&d, XPROTO_REQUEST, 0);
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		int64_t left = dl - clock_mono_ms();
		size_t used;
		ssize_t k;

		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (poll(&pf, 1, left > 1000 ? 1000 : (int)left) <= 0)
			continue;
		k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k < 0) {
			rc = -errno;
			break;
		}
		if (k == 0) {
			rc = xproto_dec_eof(&d);
			break;
		}
		rc = xproto_req_feed(&d, r, buf, (size_t)k, &used);
		if (rc == 1 && used < (size_t)k) {
			/* Bytes after END: the client sends nothing more. */
			d.why = XPROTO_TRAILING;
			rc = -EPROTO;
		}
		if (rc != 0)
			break;
	}
	*why = d.why;
	explicit_bzero(buf, sizeof buf);
	xproto_dec_free(&d);
	return rc == 1 ? 0 : rc;
}

static void log_job(const struct jobinfo *ji, const struct status *st)
{
	char sig[40] = "", ex[16] = "-";

	if (st->has_exit)
		snprintf(ex, sizeof ex, "%d", st->exit_code);
	if (st->signal[0])
		snprintf(sig, sizeof sig, " signal=%s", st->signal);
	fprintf(stderr,
	    "remote-executor: job id=%s peer_uid=%u identity=%s dest=%s reuse=%d warm=%d "
	    "retried=%d phase=%s error=%s exit=%s%s bytes_out=%llu bytes_err=%llu truncated=%d "
	    "ms=%lld%s%s\n",
	    ji->job_id && ji->job_id[0] ? ji->job_id : "-", (unsigned)ji->uid,
	    ji->identity && ji->identity[0] ? ji->identity : "-", ji->dest && ji->dest[0] ? ji->dest : "-",
	    ji->reuse, ji->warm, ji->retried, exstatus_phase_name(st->phase),
	    st->error ? exstatus_error_name(st->error) : "-", ex, sig,
	    (unsigned long long)st->bytes_out, (unsigned long long)st->bytes_err, st->truncated,
	    (long long)(clock_mono_ms() - ji->t0), st->error ? " message=" : "",
	    st->error ? st->message : "");
}

static void stats_reply(const struct svcjob_env *env, int fd)
{
	struct pool_stats ps;
	char line[1024];
	int n;

	pool_get_stats(env->pool, &ps);
	n = snprintf(line, sizeof line,
	    "{\"jobs\":%llu,\"running\":%llu,\"done\":%llu,\"failed\":%llu,\"refused\":%llu,"
	    "\"refused_peers\":%llu,\"busy\":%llu,\"bad_requests\":%llu,\"retries\":%llu,"
	    "\"connects\":%llu,\"reuses\":%llu,\"overflow\":%llu,\"idle_closed\":%llu,"
	    "\"dead_closed\":%llu,\"sessions_open\":%u,\"sessions_idle\":%u}\n",
	    (unsigned long long)READ(env, jobs), (unsigned long long)READ(env, running),
	    (unsigned long long)READ(env, done), (unsigned long long)READ(env, failed),
	    (unsigned long long)READ(env, refused), (unsigned long long)READ(env, refused_peers),
	    (unsigned long long)READ(env, busy), (unsigned long long)READ(env, bad_requests),
	    (unsigned long long)READ(env, retries), (unsigned long long)ps.connects,
	    (unsigned long long)ps.reuses, (unsigned long long)ps.overflow,
	    (unsigned long long)ps.idle_closed, (unsigned long long)ps.dead_closed, ps.open, ps.idle);
	send_header(fd);
	if (n > 0 && (size_t)n < sizeof line)
		(void)send_final(fd, XPROTO_T_STATSREPLY, line, (size_t)n);
}

/* A new connection for run A, open and authenticated, or NULL with the
 * status set. */
static struct conn *open_new(const struct svcjob_env *env, const struct args *a,
    const struct svccfg_ident *id, struct status *st, volatile sig_atomic_t *stop, int fd)
{
	struct conn *c = malloc(sizeof *c);
	char *pass = NULL;

	if (!c || (id->passphrase && !(pass = strdup(id->passphrase)))) {
		free(c);
		status_fail(st, EXSTATUS_EINTERNAL, "out of memory");
		return NULL;
	}
	conn_init(c, a, pass, st, stop); /* takes PASS */
	c->watch_fd = fd;
	if (conn_open(c) != 0) {
		conn_teardown(c);
		free(c);
		return NULL;
	}
	pool_count_connect(env->pool);
	return c;
}

/* Whether a failed run on a warm connection may run again on a new one:
 * only when its exec request never went out, and the failure was the
 * connection's (not a stop, not the run's own deadline). */
static int may_retry(const struct conn *c, const struct status *st)
{
	if (c->exec_sent || *c->stop || (c->deadline && clock_mono_ms() >= c->deadline))
		return 0;
	return st->error == EXSTATUS_EEXEC || st->error == EXSTATUS_EIO ||
	    st->error == EXSTATUS_ETIMEOUT || st->error == EXSTATUS_EKEEPALIVE;
}

/* Run A on a warm or new connection, streaming to FD. 1 when the
 * response stream is unusable (an output frame cut short, the client
 * gone): no status frame may follow; else 0. */
static int run(const struct svcjob_env *env, const struct args *a, const struct svccfg_ident *id,
    const char *key, int reuse, struct status *st, int fd, struct jobinfo *ji)
{
	volatile sig_atomic_t stop = 0;
	struct conn *c = NULL;
	int pooled = 0, rc, keep, cut;
	int64_t t0;

	pool_take(env->pool, key, reuse, 0, &c, &pooled);
	if (c) {
		ji->warm = 1;
		conn_bind(c, a, st, &stop);
		c->watch_fd = c->frame_fd = fd;
		rc = chan_exec(c);
		if (rc == 0 || !may_retry(c, st))
			goto done;
		/* The warm connection broke before the command could start. */
		fprintf(stderr, "remote-executor: job id=%s: warm connection to %s failed before exec "
		    "(%s); once more on a new connection\n", ji->job_id[0] ? ji->job_id : "-", ji->dest,
		    st->message);
		pool_give(env->pool, key, c, pooled, 0);
		COUNT(env, retries);
		ji->retried = 1;
		ji->warm = 0;
		t0 = st->t_start; /* the retry stays within the job's own deadline */
		status_init(st, a->user, a->host, a->port);
		st->t_start = t0;
		pool_take(env->pool, key, reuse, 1, &c, &pooled);
	}
	if (!(c = open_new(env, a, id, st, &stop, fd))) {
		pool_give(env->pool, key, NULL, pooled, 0);
		return stop != 0;
	}
	c->frame_fd = fd;
	rc = chan_exec(c);
done:
	cut = c->frame_cut || c->out_closed[0] || stop;
	keep = rc == 0 && st->error == EXSTATUS_OK && conn_release_channel(c) == 0;
	pool_give(env->pool, key, c, pooled, keep);
	return cut;
}

/* KEY: the pool's key for identity ID and A's destination. */
static void pool_key(char *key, size_t len, const char *id, const struct args *a)
{
	if (strchr(a->host, ':'))
		snprintf(key, len, "%s %s@[%s]:%d", id, a->user, a->host, a->port);
	else
		snprintf(key, len, "%s %s@%s:%d", id, a->user, a->host, a->port);
}

void svcjob_serve(const struct svcjob_env *env, int fd, uid_t uid)
{
	struct jobinfo ji = { .uid = uid, .t0 = clock_mono_ms() };
	const struct svccfg_ident *id;
	struct xproto_req r;
	struct status st;
	struct args a;
	enum xproto_why why;
	char err[256] = "", key[POOL_KEY_MAX];
	int rc, cut;

	xproto_req_init(&r);
	memset(&a, 0, sizeof a);
	status_init(&st, NULL, NULL, 0);
	if ((rc = read_request(fd, &r, &why)) != 0) {
		COUNT(env, bad_requests);
		if (rc == -EPROTO)
			status_fail(&st, EXSTATUS_EREQUEST, "bad request: %s", xproto_why_text(why));
		else if (rc == -ETIMEDOUT)
			status_fail(&st, EXSTATUS_EREQUEST, "bad request: not complete within %d ms",
			    SVCJOB_REQUEST_MS);
		else
			status_fail(&st, EXSTATUS_EREQUEST, "bad request: %s", strerror(-rc));
		goto answer;
	}
	if (r.stats) {
		COUNT(env, stats);
		stats_reply(env, fd);
		goto out;
	}
	ji.job_id = r.job_id;
	ji.identity = r.identity;
	ji.dest = r.dest;
	ji.reuse = !!(r.flags & XPROTO_F_REUSE);
	COUNT(env, jobs);
	a.port = 22;
	if ((rc = args_parse_dest(r.dest, &a, err, sizeof err)) != 0) {
		COUNT(env, bad_requests);
		status_fail(&st, EXSTATUS_EREQUEST, "bad request: %s", rc == -ENOMEM ? "out of memory" : err);
		goto answer;
	}
	status_init(&st, a.user, a.host, a.port);
	if (!(id = svccfg_identity(env->cfg, r.identity))) {
		COUNT(env, refused);
		status_fail(&st, EXSTATUS_EREFUSED, "no identity \"%s\" in the service's config", r.identity);
		goto answer;
	}
	if (!svccfg_allows(id, a.user, a.host, a.port)) {
		COUNT(env, refused);
		status_fail(&st, EXSTATUS_EREFUSED, "identity \"%s\" may not reach %s", r.identity, r.dest);
		goto answer;
	}
	a.identity = id->key_path;
	a.known_hosts = env->cfg->known_hosts; /* borrowed: cleared before args_clear */
	a.connect_timeout_ms = r.connect_ms;
	a.handshake_timeout_ms = r.handshake_ms;
	a.timeout_ms = r.run_ms;
	a.keepalive_s = env->cfg->keepalive_s;
	a.keepalive_max = env->cfg->keepalive_max;
	a.max_output = r.max_output;
	a.posix_sh = !!(r.flags & XPROTO_F_POSIX_SH);
	a.status_fd = a.passphrase_fd = a.command_fd = -1;
	a.command = r.command;
	pool_key(key, sizeof key, id->name, &a);
	send_header(fd);
	cut = run(env, &a, id, key, ji.reuse, &st, fd, &ji);
	st.t_end = clock_mono_ms();
	if (st.error)
		COUNT(env, failed);
	else
		COUNT(env, done);
	log_job(&ji, &st);
	/* After a cut-short output frame the stream is unreadable: no status. */
	if (!cut)
		(void)send_status(fd, &st);
	goto out;
answer:
	st.t_end = clock_mono_ms();
	log_job(&ji, &st);
	send_header(fd);
	(void)send_status(fd, &st);
out:
	a.known_hosts = NULL;
	a.command = NULL;
	args_clear(&a);
	xproto_req_free(&r);
	close(fd);
}
