/*
 * executor_input.c — unit tests of executor/input.c with real descriptors:
 * pipes (written whole, in slow pieces by another process, or never
 * closed), memfds, a regular file, a closed number, descriptor 0. Covers
 * the limits (exactly the maximum, one byte more, the stripped newline),
 * empty and NUL-holding input, the deadline and the stop flag, that the
 * descriptor is always closed (0-2 left on /dev/null), that a secret's
 * memfd is zeroed and emptied while a regular file is never touched, and
 * that an environment variable's value is overwritten where it lives.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../executor/input.h"
#include "../../executor/status.h"
#include "t.h"
#include "../../common/clock.h"

static volatile sig_atomic_t no_stop;

/* A pipe's read end with DATA (N bytes) written by a child in pieces of
 * PIECE bytes, SLEEP_US apart; the writer closes (EOF) unless KEEP. */
static int fed_pipe(const char *data, size_t n, size_t piece, int sleep_us, int keep, pid_t *pid)
{
	int p[2];

	if (pipe(p) != 0)
		abort();
	*pid = fork();
	if (*pid < 0)
		abort();
	if (*pid == 0) {
		size_t off = 0;
		close(p[0]);
		while (off < n) {
			size_t k = n - off < piece ? n - off : piece;
			if (write(p[1], data + off, k) != (ssize_t)k)
				_exit(1);
			off += k;
			if (sleep_us)
				usleep((useconds_t)sleep_us);
		}
		if (keep)
			pause();
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int is_closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

/* Read N bytes of DATA through a pipe with FLAGS and MAX; 0 or -errno. */
static int through_pipe(const char *data, size_t n, size_t max, int flags, char **out, size_t *len,
    enum input_error *why)
{
	pid_t pid;
	int fd = fed_pipe(data, n, 4096, 0, 0, &pid), rc;

	*out = NULL;
	rc = input_read_fd(fd, max, flags, 0, &no_stop, out, len, why);
	T_CHECK(is_closed(fd));
	reap(pid);
	return rc;
}

static void test_pipe_basic(void)
{
	char *s = NULL;
	size_t n = 0;
	enum input_error why;

	T_EQ_INT(through_pipe("echo 'hi' \"$x\"\n", 15, 100, 0, &s, &n, &why), 0);
	T_EQ_INT(why, INPUT_OK);
	T_EQ_STR(s, "echo 'hi' \"$x\"\n"); /* a command keeps its newline */
	T_EQ_INT(n, 15);
	free(s);
	T_EQ_INT(through_pipe("pass phrase\n", 12, 100, INPUT_SECRET | INPUT_STRIP_NL, &s, &n, &why), 0);
	T_EQ_STR(s, "pass phrase");
	T_EQ_INT(n, 11);
	input_wipe(s, n);
	/* Only one newline goes. */
	T_EQ_INT(through_pipe("pw\n\n", 4, 100, INPUT_SECRET | INPUT_STRIP_NL, &s, &n, &why), 0);
	T_EQ_STR(s, "pw\n");
	input_wipe(s, n);
}

static void test_bad_content(void)
{
	char *s = NULL;
	size_t n;
	enum input_error why;

	T_EQ_INT(through_pipe("", 0, 100, 0, &s, &n, &why), -EINVAL);
	T_EQ_INT(why, INPUT_EMPTY);
	T_CHECK(s == NULL);
	T_EQ_INT(through_pipe("\n", 1, 100, INPUT_SECRET | INPUT_STRIP_NL, &s, &n, &why), -EINVAL);
	T_EQ_INT(why, INPUT_EMPTY);
	T_EQ_INT(through_pipe("echo a\0; rm -rf /", 17, 100, 0, &s, &n, &why), -EINVAL);
	T_EQ_INT(why, INPUT_NUL);
	T_CHECK(s == NULL);
	T_EQ_INT(through_pipe("\0", 1, 100, INPUT_SECRET, &s, &n, &why), -EINVAL);
	T_EQ_INT(why, INPUT_NUL);
}

static void test_limits(void)
{
	const size_t max = 1024 * 1024;
	char *big = malloc(max + 2), *s = NULL;
	size_t n = 0;
	enum input_error why;
	pid_t pid;
	int fd;

	if (!big)
		abort();
	memset(big, 'x', max + 2);
	/* Exactly the maximum, written in odd pieces: all of it. */
	fd = fed_pipe(big, max, 7777, 0, 0, &pid);
	T_EQ_INT(input_read_fd(fd, max, 0, 0, &no_stop, &s, &n, &why), 0);
	reap(pid);
	T_EQ_INT(n, max);
	T_CHECK(s && strlen(s) == max);
	free(s);
	s = NULL;
	/* One more byte: refused, whatever the writer does next. */
	fd = fed_pipe(big, max + 1, 65536, 0, 1, &pid);
	T_EQ_INT(input_read_fd(fd, max, 0, 0, &no_stop, &s, &n, &why), -E2BIG);
	T_EQ_INT(why, INPUT_TOO_LONG);
	T_CHECK(s == NULL);
	T_CHECK(is_closed(fd));
	reap(pid);
	/* A secret of 1024 bytes plus its newline is fine; 1025 are not. */
	big[1024] = '\n';
	T_EQ_INT(through_pipe(big, 1025, 1024, INPUT_SECRET | INPUT_STRIP_NL, &s, &n, &why), 0);
	T_EQ_INT(n, 1024);
	input_wipe(s, n);
	s = NULL;
	big[1024] = 'x';
	T_EQ_INT(through_pipe(big, 1025, 1024, INPUT_SECRET | INPUT_STRIP_NL, &s, &n, &why), -E2BIG);
	T_EQ_INT(why, INPUT_TOO_LONG);
	big[1025] = '\n';
	T_EQ_INT(through_pipe(big, 1026, 1024, INPUT_SECRET | INPUT_STRIP_NL, &s, &n, &why), -E2BIG);
	T_EQ_INT(why, INPUT_TOO_LONG);
	free(big);
}

static void test_bad_descriptor(void)
{
	char *s = NULL;
	size_t n;
	enum input_error why;
	int fd = open("/dev/null", O_RDONLY);

	close(fd); /* a number that is free now */
	T_CHECK(input_read_fd(fd, 100, 0, 0, &no_stop, &s, &n, &why) < 0);
	T_EQ_INT(why, INPUT_READ);
	T_CHECK(s == NULL);
	T_CHECK(is_closed(fd));
}

static void test_deadline_and_stop(void)
{
	static volatile sig_atomic_t stop = 1;
	char *s = NULL;
	size_t n;
	enum input_error why;
	int64_t t0;
	pid_t pid;
	int fd;

	/* A writer that never closes: the deadline ends the wait, in time. */
	fd = fed_pipe("part", 4, 4, 0, 1, &pid);
	t0 = clock_mono_ms();
	T_EQ_INT(input_read_fd(fd, 100, 0, t0 + 300, &no_stop, &s, &n, &why), -ETIMEDOUT);
	T_EQ_INT(why, INPUT_TIMEOUT);
	T_CHECK(clock_mono_ms() - t0 >= 300);
	T_CHECK(clock_mono_ms() - t0 < 1000);
	T_CHECK(s == NULL && is_closed(fd));
	reap(pid);
	/* Slow pieces that do end before it: read whole. */
	fd = fed_pipe("slow but in time", 16, 3, 20000, 0, &pid);
	T_EQ_INT(input_read_fd(fd, 100, 0, clock_mono_ms() + 5000, &no_stop, &s, &n, &why), 0);
	T_EQ_STR(s, "slow but in time");
	free(s);
	s = NULL;
	reap(pid);
	fd = fed_pipe("x", 1, 1, 0, 1, &pid);
	T_EQ_INT(input_read_fd(fd, 100, 0, 0, &stop, &s, &n, &why), -EINTR);
	T_EQ_INT(why, INPUT_STOPPED);
	T_CHECK(is_closed(fd));
	reap(pid);
}

/* Descriptor 0 as the source: read, then left on /dev/null, not free. */
static void test_stdin_left_on_dev_null(void)
{
	char *s = NULL, link[64] = "";
	size_t n;
	enum input_error why;
	pid_t pid;
	int saved = dup(0), fd = fed_pipe("from stdin", 10, 10, 0, 0, &pid);

	dup2(fd, 0);
	close(fd);
	T_EQ_INT(input_read_fd(0, 100, 0, 0, &no_stop, &s, &n, &why), 0);
	T_EQ_STR(s, "from stdin");
	free(s);
	T_CHECK(readlink("/proc/self/fd/0", link, sizeof link - 1) > 0);
	T_EQ_STR(link, "/dev/null");
	dup2(saved, 0);
	close(saved);
	reap(pid);
}

static void test_memfd_secret_wiped(void)
{
	static const char secret[] = "correct horse battery staple\n";
	char *s = NULL, back[64];
	size_t n;
	enum input_error why;
	struct stat sb;
	int mfd = memfd_create("input-test", MFD_CLOEXEC | MFD_ALLOW_SEALING), ours;

	T_CHECK(mfd >= 0);
	if (mfd < 0)
		return;
	T_EQ_INT(write(mfd, secret, sizeof secret - 1), (long long)(sizeof secret - 1));
	lseek(mfd, 0, SEEK_SET);
	ours = dup(mfd); /* the executor's copy; we keep one to look at the file */
	T_EQ_INT(input_read_fd(ours, 1024, INPUT_SECRET | INPUT_STRIP_NL, 0, &no_stop, &s, &n, &why), 0);
	T_EQ_STR(s, "correct horse battery staple");
	input_wipe(s, n);
	T_CHECK(is_closed(ours));
	T_EQ_INT(fstat(mfd, &sb), 0);
	T_EQ_INT(sb.st_size, 0);

	/* Sealed against shrinking: the bytes are zeroed in place instead. */
	T_EQ_INT(ftruncate(mfd, 0), 0);
	T_EQ_INT(pwrite(mfd, secret, sizeof secret - 1, 0), (long long)(sizeof secret - 1));
	T_EQ_INT(fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	lseek(mfd, 0, SEEK_SET);
	ours = dup(mfd);
	s = NULL;
	T_EQ_INT(input_read_fd(ours, 1024, INPUT_SECRET | INPUT_STRIP_NL, 0, &no_stop, &s, &n, &why), 0);
	input_wipe(s, n);
	T_EQ_INT(pread(mfd, back, sizeof secret - 1, 0), (long long)(sizeof secret - 1));
	T_CHECK(memchr(back, 'h', sizeof secret - 1) == NULL);
	T_CHECK(back[0] == '\0' && back[sizeof secret - 2] == '\0');
	close(mfd);

	/* A memfd that fails the checks (too long) is wiped all the same. */
	mfd = memfd_create("input-test-long", MFD_CLOEXEC);
	T_CHECK(mfd >= 0);
	if (mfd < 0)
		return;
	{
		char big[2048];
		memset(big, 's', sizeof big);
		T_EQ_INT(write(mfd, big, sizeof big), (long long)sizeof big);
	}
	lseek(mfd, 0, SEEK_SET);
	ours = dup(mfd);
	s = NULL;
	T_EQ_INT(input_read_fd(ours, 1024, INPUT_SECRET | INPUT_STRIP_NL, 0, &no_stop, &s, &n, &why), -E2BIG);
	T_EQ_INT(fstat(mfd, &sb), 0);
	T_EQ_INT(sb.st_size, 0);
	close(mfd);
}

/* A regular file handed over read-write is read, never changed. */
static void test_regular_file_untouched(void)
{
	char path[] = "/tmp/executor_input.XXXXXX", *s = NULL, back[32] = "";
	size_t n;
	enum input_error why;
	int fd = mkstemp(path), ours;

	T_CHECK(fd >= 0);
	if (fd < 0)
		return;
	T_EQ_INT(write(fd, "keep me\n", 8), 8);
	lseek(fd, 0, SEEK_SET);
	ours = dup(fd);
	T_EQ_INT(input_read_fd(ours, 1024, INPUT_SECRET | INPUT_STRIP_NL, 0, &no_stop, &s, &n, &why), 0);
	T_EQ_STR(s, "keep me");
	input_wipe(s, n);
	T_EQ_INT(pread(fd, back, 8, 0), 8);
	T_CHECK(!memcmp(back, "keep me\n", 8));
	close(fd);
	unlink(path);
}

static void test_env_wiped_in_place(void)
{
	/* Like a variable of the initial environment: its bytes are ours. */
	static char var[] = "WR_INPUT_TEST_PASS=hunter2 with spaces";
	char *value = var + strlen("WR_INPUT_TEST_PASS="), *s = NULL;
	size_t i;
	int zero = 1;

	T_EQ_INT(putenv(var), 0);
	T_EQ_INT(input_take_env("WR_INPUT_TEST_PASS", &s), 0);
	T_EQ_STR(s, "hunter2 with spaces");
	input_wipe(s, 0);
	T_CHECK(getenv("WR_INPUT_TEST_PASS") == NULL);
	for (i = 0; i < strlen("hunter2 with spaces"); i++)
		zero &= value[i] == '\0';
	T_CHECK(zero);
	T_CHECK(!strncmp(var, "WR_INPUT_TEST_PASS=", 19));
	s = NULL;
	T_EQ_INT(input_take_env("WR_INPUT_TEST_UNSET", &s), -ENOENT);
	T_CHECK(s == NULL);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(test_pipe_basic);
	T_RUN(test_bad_content);
	T_RUN(test_limits);
	T_RUN(test_bad_descriptor);
	T_RUN(test_deadline_and_stop);
	T_RUN(test_stdin_left_on_dev_null);
	T_RUN(test_memfd_secret_wiped);
	T_RUN(test_regular_file_untouched);
	T_RUN(test_env_wiped_in_place);
	return T_EXIT();
}
