/*
 * chanload.c — benchmark: what the sshd itself can do for one command on
 * warm connections, with nothing of ours in the way (no HTTP, no service, no
 * runner). C threads each open one libssh2 session to the sshd (host key
 * checked against KNOWN_HOSTS, public key authentication), then run the
 * command TOTAL times between them, one fresh channel per run (open, exec,
 * read both streams to their end, close), as remote-executor does on a warm
 * session. Every run must exit 0. With --stdin FILE each run writes FILE's
 * bytes on the channel's stdin before its EOF (what --posix-sh does: the
 * exec request is then e.g. "exec /bin/sh" and FILE the script).
 *
 *   chanload HOST PORT USER KEY KNOWN_HOSTS CONC TOTAL COMMAND [--stdin FILE]
 *
 * Prints one line in the format of bench/fixed_load.py's:
 *   RESULT requests=N duration_us=… non2xx=… connect=… read=… write=0
 *          timeout=0 p50_us=… p99_us=… max_us=…
 * (non2xx: runs that did not exit 0; connect: sessions that could not be set
 * up; read: runs that failed on the connection). duration is from the
 * first run started, all sessions being up, to the last one ended.
 * Built and run by bench/warm.sh; by hand:
 *   cc -O2 -D_GNU_SOURCE bench/chanload.c -lssh2 -lpthread -o /tmp/chanload
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>

#define MAX_CONC 64
#define MAX_TOTAL 100000

struct cfg {
	const char *host, *user, *key, *known_hosts, *command;
	int port, conc, total;
	char *input;
	size_t input_len;
};

static struct cfg C;
static int next_run, n_bad, n_connect, n_read;
static int64_t *lat_us;
static int n_lat;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t ready;
static int64_t t_first, t_last;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int take(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = next_run < C.total ? next_run++ : -1;
	pthread_mutex_unlock(&mu);
	return n;
}

static void count(int *field)
{
	pthread_mutex_lock(&mu);
	(*field)++;
	pthread_mutex_unlock(&mu);
}

/* A connected, authenticated session whose host key KNOWN_HOSTS knows,
 * or NULL. *FD is its socket. */
static LIBSSH2_SESSION *open_session(int *fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)C.port) };
	LIBSSH2_SESSION *s = NULL;
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	struct libssh2_knownhost *found;
	const char *blob;
	size_t len;
	int type, one = 1, ok = 0;

	*fd = -1;
	if (inet_pton(AF_INET, C.host, &sa.sin_addr) != 1)
		return NULL;
	if ((*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return NULL;
	setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(*fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		goto out;
	if (!(s = libssh2_session_init()) || libssh2_session_handshake(s, *fd) != 0)
		goto out;
	if (!(kh = libssh2_knownhost_init(s)) ||
	    libssh2_knownhost_readfile(kh, C.known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) <= 0)
		goto out;
	if (!(blob = libssh2_session_hostkey(s, &len, &type)) ||
	    libssh2_knownhost_checkp(kh, C.host, C.port, blob, len,
		LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW, &found) !=
		LIBSSH2_KNOWNHOST_CHECK_MATCH)
		goto out;
	if (libssh2_userauth_publickey_fromfile(s, C.user, NULL, C.key, NULL) != 0)
		goto out;
	ok = 1;
out:
	if (kh)
		libssh2_knownhost_free(kh);
	if (!ok && s) {
		libssh2_session_free(s);
		s = NULL;
	}
	if (!ok && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return s;
}

/* One run on S: 0 with *EXIT, or -EIO. */
static int run_one(LIBSSH2_SESSION *s, int *exit_code)
{
	LIBSSH2_CHANNEL *ch = libssh2_channel_open_session(s);
	char buf[4096];
	size_t off = 0;
	ssize_t k;
	int rc = -EIO;

	if (!ch)
		return -EIO;
	if (libssh2_channel_exec(ch, C.command) != 0)
		goto out;
	while (off < C.input_len) {
		if ((k = libssh2_channel_write(ch, C.input + off, C.input_len - off)) < 0)
			goto out;
		off += (size_t)k;
	}
	if (libssh2_channel_send_eof(ch) != 0)
		goto out;
	for (;;) {
		k = libssh2_channel_read(ch, buf, sizeof buf);
		if (k < 0)
			goto out;
		if (k == 0 && libssh2_channel_eof(ch))
			break;
		while (libssh2_channel_read_stderr(ch, buf, sizeof buf) > 0)
			;
	}
	if (libssh2_channel_close(ch) != 0 || libssh2_channel_wait_closed(ch) != 0)
		goto out;
	*exit_code = libssh2_channel_get_exit_status(ch);
	rc = 0;
out:
	libssh2_channel_free(ch);
	return rc;
}

static void *worker(void *arg)
{
	LIBSSH2_SESSION *s;
	int fd, n, ex;

	(void)arg;
	s = open_session(&fd);
	if (!s)
		count(&n_connect);
	pthread_barrier_wait(&ready);
	if (!s)
		return NULL;
	while ((n = take()) >= 0) {
		int64_t t0 = now_us(), t1;
		ex = -1;
		if (run_one(s, &ex) != 0) {
			count(&n_read);
			break; /* the session is unusable */
		}
		t1 = now_us();
		pthread_mutex_lock(&mu);
		lat_us[n_lat++] = t1 - t0;
		if (ex != 0)
			n_bad++;
		if (t1 > t_last)
			t_last = t1;
		pthread_mutex_unlock(&mu);
	}
	libssh2_session_disconnect(s, "done");
	libssh2_session_free(s);
	close(fd);
	return NULL;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t pct(double p)
{
	int i;

	if (!n_lat)
		return 0;
	i = (int)((p / 100.0) * n_lat + 0.999999) - 1;
	return lat_us[i < 0 ? 0 : i];
}

/* FILE's bytes into C.input. 0 or -errno. */
static int read_input(const char *path)
{
	FILE *f = fopen(path, "rb");
	char buf[4096];
	size_t k;

	if (!f)
		return -errno;
	while ((k = fread(buf, 1, sizeof buf, f)) > 0) {
		char *p = realloc(C.input, C.input_len + k);
		if (!p) {
			fclose(f);
			return -ENOMEM;
		}
		C.input = p;
		memcpy(C.input + C.input_len, buf, k);
		C.input_len += k;
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t t[MAX_CONC];
	int i;

	if (argc != 9 && !(argc == 11 && !strcmp(argv[9], "--stdin"))) {
		fprintf(stderr, "usage: chanload HOST PORT USER KEY KNOWN_HOSTS CONC TOTAL COMMAND "
		    "[--stdin FILE]\n");
		return 2;
	}
	C = (struct cfg){ .host = argv[1], .port = atoi(argv[2]), .user = argv[3], .key = argv[4],
		.known_hosts = argv[5], .conc = atoi(argv[6]), .total = atoi(argv[7]),
		.command = argv[8] };
	if (C.conc < 1 || C.conc > MAX_CONC || C.total < 1 || C.total > MAX_TOTAL) {
		fprintf(stderr, "chanload: CONC is 1..%d, TOTAL 1..%d\n", MAX_CONC, MAX_TOTAL);
		return 2;
	}
	if (argc == 11 && read_input(argv[10]) != 0) {
		fprintf(stderr, "chanload: cannot read %s\n", argv[10]);
		return 2;
	}
	if (libssh2_init(0) != 0 || !(lat_us = calloc((size_t)C.total, sizeof *lat_us)))
		return 1;
	pthread_barrier_init(&ready, NULL, (unsigned)C.conc + 1);
	for (i = 0; i < C.conc; i++)
		if (pthread_create(&t[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "chanload: cannot start a thread\n");
			return 1; /* the others wait at the barrier: end them all */
		}
	pthread_barrier_wait(&ready);
	t_first = t_last = now_us();
	for (i = 0; i < C.conc; i++)
		pthread_join(t[i], NULL);
	qsort(lat_us, (size_t)n_lat, sizeof *lat_us, cmp64);
	printf("RESULT requests=%d duration_us=%lld non2xx=%d connect=%d read=%d write=0 timeout=0 "
	    "p50_us=%lld p99_us=%lld max_us=%lld\n", n_lat, (long long)(t_last - t_first), n_bad,
	    n_connect, n_read, (long long)pct(50), (long long)pct(99), (long long)pct(100));
	free(lat_us);
	free(C.input);
	libssh2_exit();
	return n_connect || n_read ? 1 : 0;
}
