/*
 * serve.c — the executor service's process (contract and design in
 * serve.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libssh2.h>

#include "../common/clock.h"
#include "serve.h"
#include "svcjob.h"

static volatile sig_atomic_t drain_flag;
static volatile int upkeep_stop;

static void on_term(int sig)
{
	(void)sig;
	drain_flag = 1;
}

struct jobarg {
	const struct svcjob_env *env;
	int fd;
	uid_t uid;
};

static void *job_thread(void *p)
{
	struct jobarg *j = p;

	svcjob_serve(j->env, j->fd, j->uid);
	__atomic_sub_fetch(&j->env->n->running, 1, __ATOMIC_RELAXED);
	free(j);
	return NULL;
}

static void *upkeep_thread(void *p)
{
	struct pool *pool = p;

	while (!__atomic_load_n(&upkeep_stop, __ATOMIC_RELAXED)) {
		pool_tick(pool, clock_mono_ms());
		usleep(500 * 1000);
	}
	return NULL;
}

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "remote-executor serve: %s\n", msg);
	fprintf(stderr, "usage: remote-executor serve --config FILE\n");
	return 2;
}

/* The listening socket at C->socket (a stale socket there is replaced;
 * anything else is an error), with C->socket_mode. */
static int listen_on(const struct svccfg *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat sb;
	int fd, e;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", c->socket);
	if (lstat(c->socket, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			fprintf(stderr, "remote-executor serve: %s exists and is not a socket\n", c->socket);
			return -EEXIST;
		}
		unlink(c->socket);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || chmod(c->socket, c->socket_mode) != 0 ||
	    listen(fd, 128) != 0) {
		e = errno;
		fprintf(stderr, "remote-executor serve: cannot listen on %s: %s\n", c->socket, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

/* One accepted client: checked, then handed to a job thread, or answered. */
static void take_client(const struct svcjob_env *env, int fd, sigset_t *all)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	struct jobarg *j;
	pthread_attr_t at;
	pthread_t t;
	sigset_t old;
	char msg[128];
	int rc;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || len != sizeof cr) {
		close(fd);
		return;
	}
	if (!svccfg_uid_allowed(env->cfg, cr.uid)) {
		__atomic_add_fetch(&env->n->refused_peers, 1, __ATOMIC_RELAXED);
		fprintf(stderr, "remote-executor: refused a client with uid %u pid %d: not in "
		    "allowed_uids\n", (unsigned)cr.uid, (int)cr.pid);
		snprintf(msg, sizeof msg, "peer uid %u is not allowed to use this executor service",
		    (unsigned)cr.uid);
		svcjob_answer(fd, EXSTATUS_EREFUSED, msg);
		return;
	}
	if (drain_flag) {
		__atomic_add_fetch(&env->n->busy, 1, __ATOMIC_RELAXED);
		svcjob_answer(fd, EXSTATUS_EBUSY, "the executor service is shutting down");
		return;
	}
	if (__atomic_add_fetch(&env->n->running, 1, __ATOMIC_RELAXED) > (uint64_t)env->cfg->max_jobs) {
		__atomic_sub_fetch(&env->n->running, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&env->n->busy, 1, __ATOMIC_RELAXED);
		snprintf(msg, sizeof msg, "the executor service runs %d jobs already (max_jobs)",
		    env->cfg->max_jobs);
		svcjob_answer(fd, EXSTATUS_EBUSY, msg);
		return;
	}
	if (!(j = malloc(sizeof *j))) {
		__atomic_sub_fetch(&env->n->running, 1, __ATOMIC_RELAXED);
		svcjob_answer(fd, EXSTATUS_EINTERNAL, "out of memory");
		return;
	}
	*j = (struct jobarg){ env, fd, cr.uid };
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	/* Job threads take no signals: the main thread drains. */
	pthread_sigmask(SIG_BLOCK, all, &old);
	rc = pthread_create(&t, &at, job_thread, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		free(j);
		__atomic_sub_fetch(&env->n->running, 1, __ATOMIC_RELAXED);
		svcjob_answer(fd, EXSTATUS_EINTERNAL, "cannot start a job thread");
	}
}

int serve_main(int argc, char **argv)
{
	struct svcjob_counters counters = { 0 };
	struct svcjob_env env = { .n = &counters };
	struct svccfg *cfg = NULL;
	struct pool *pool = NULL;
	const char *path = NULL;
	struct sigaction sa;
	sigset_t all;
	pthread_t upkeep;
	char err[512] = "";
	int lfd = -1, rc = 1, have_upkeep = 0, i;
	int64_t drain_end = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: remote-executor serve --config FILE\n");
			return 0;
		}
		else
			return usage("unknown argument");
	}
	if (!path)
		return usage("--config FILE is required");
	if (svccfg_load(path, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "remote-executor serve: %s: %s\n", path, err);
		return 2;
	}
	env.cfg = cfg;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term; /* no SA_RESTART: poll returns and sees the flag */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&all);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	if (libssh2_init(0) != 0) {
		fprintf(stderr, "remote-executor serve: libssh2_init failed\n");
		goto out;
	}
	if (pool_new(cfg->max_sessions, cfg->idle_timeout_s, &pool) != 0)
		goto out;
	env.pool = pool;
	if ((lfd = listen_on(cfg)) < 0)
		goto out;
	{
		sigset_t old;
		pthread_sigmask(SIG_BLOCK, &all, &old);
		have_upkeep = pthread_create(&upkeep, NULL, upkeep_thread, pool) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (!have_upkeep) {
		fprintf(stderr, "remote-executor serve: cannot start the pool thread\n");
		goto out;
	}
	fprintf(stderr, "remote-executor: serving on %s (%zu identities, max_jobs %d, "
	    "max_sessions_per_destination %d, idle_timeout_s %d, keepalive_s %d)\n", cfg->socket,
	    cfg->nids, cfg->max_jobs, cfg->max_sessions, cfg->idle_timeout_s, cfg->keepalive_s);
	for (;;) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };
		int fd;

		if (drain_flag && !drain_end) {
			drain_end = clock_mono_ms() + (int64_t)cfg->drain_timeout_s * 1000;
			fprintf(stderr, "remote-executor: draining: %llu jobs running, new ones are "
			    "answered busy\n", (unsigned long long)__atomic_load_n(&counters.running,
				__ATOMIC_RELAXED));
		}
		if (drain_end && !__atomic_load_n(&counters.running, __ATOMIC_RELAXED))
			break;
		if (drain_end && clock_mono_ms() >= drain_end) {
			fprintf(stderr, "remote-executor: drain timeout: %llu jobs still running are "
			    "cut off\n", (unsigned long long)__atomic_load_n(&counters.running,
				__ATOMIC_RELAXED));
			break;
		}
		if (poll(&p, 1, 200) <= 0)
			continue;
		while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0)
			take_client(&env, fd, &all);
	}
	rc = 0;
out:
	if (lfd >= 0) {
		close(lfd);
		unlink(cfg->socket);
	}
	if (have_upkeep) {
		__atomic_store_n(&upkeep_stop, 1, __ATOMIC_RELAXED);
		pthread_join(upkeep, NULL);
	}
	if (pool) {
		struct pool_stats ps;
		pool_get_stats(pool, &ps);
		fprintf(stderr, "remote-executor: stats jobs=%llu done=%llu failed=%llu refused=%llu "
		    "refused_peers=%llu busy=%llu bad_requests=%llu retries=%llu connects=%llu "
		    "reuses=%llu idle_closed=%llu dead_closed=%llu\n",
		    (unsigned long long)counters.jobs, (unsigned long long)counters.done,
		    (unsigned long long)counters.failed, (unsigned long long)counters.refused,
		    (unsigned long long)counters.refused_peers, (unsigned long long)counters.busy,
		    (unsigned long long)counters.bad_requests, (unsigned long long)counters.retries,
		    (unsigned long long)ps.connects, (unsigned long long)ps.reuses,
		    (unsigned long long)ps.idle_closed, (unsigned long long)ps.dead_closed);
	}
	/* Jobs cut off by the drain timeout still use the pool, the config and
	 * their connections: end the process at once, under them (the kernel
	 * closes their sockets; sshd then closes their commands' streams). */
	if (__atomic_load_n(&counters.running, __ATOMIC_RELAXED)) {
		fflush(NULL);
		_exit(rc);
	}
	pool_free(pool);
	svccfg_free(cfg);
	libssh2_exit();
	return rc;
}
