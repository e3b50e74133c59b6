/*
 * input.c — the command and passphrase sources (contract in input.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input.h"
#include "status.h"
#include "../common/clock.h"

#define CHUNK 65536

void input_wipe(char *s, size_t len)
{
	if (!s)
		return;
	explicit_bzero(s, len ? len : strlen(s));
	free(s);
}

const char *input_error_text(enum input_error why)
{
	switch (why) {
	case INPUT_OK: return "was read";
	case INPUT_EMPTY: return "is empty";
	case INPUT_NUL: return "holds a NUL byte";
	case INPUT_TOO_LONG: return "is too long";
	case INPUT_READ: return "cannot be read";
	case INPUT_TIMEOUT: return "did not reach EOF before the run's deadline";
	case INPUT_STOPPED: return "was not read: terminated by signal";
	}
	return "cannot be read";
}

/* A memfd (anonymous, the caller's private hand-over) holding a secret:
 * zero what it holds and truncate it, so the pages do not keep the
 * passphrase after we close our descriptor. Any other file is left
 * alone: it belongs to someone. */
static void wipe_memfd(int fd)
{
	static const char zeros[4096];
	char link[64], target[32];
	struct stat sb;
	ssize_t n;
	off_t off = 0;
	int fl = fcntl(fd, F_GETFL);

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof target - 1);
	if (n < 7 || memcmp(target, "/memfd:", 7) != 0 || fl < 0 || (fl & O_ACCMODE) != O_RDWR ||
	    fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return;
	while (off < sb.st_size) {
		size_t k = sb.st_size - off < (off_t)sizeof zeros ? (size_t)(sb.st_size - off) : sizeof zeros;
		ssize_t w = pwrite(fd, zeros, k, off);
		if (w <= 0)
			break;
		off += w;
	}
	if (ftruncate(fd, 0) != 0) {
		/* sealed against shrinking: the zeros stay, which is what counts */
	}
}

/* Close FD; a standard descriptor is pointed at /dev/null instead. */
static void release_fd(int fd)
{
	int n;

	if (fd > 2) {
		close(fd);
		return;
	}
	n = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (n >= 0 && n != fd) {
		dup2(n, fd);
		close(n);
	}
}

int input_read_fd(int fd, size_t max, int flags, int64_t deadline_ms, volatile sig_atomic_t *stop,
    char **out, size_t *len, enum input_error *why)
{
	const int secret = flags & INPUT_SECRET;
	/* Read one byte past the limit (two with a newline to strip) to tell
	 * "exactly MAX" from "more". */
	const size_t limit = max + 1 + !!(flags & INPUT_STRIP_NL);
	size_t n = 0, cap = secret || limit < CHUNK ? limit : CHUNK;
	char *buf = malloc(cap + 1), *nb;
	int rc;

	*why = INPUT_READ;
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ms = 1000; /* a signal between the check and poll waits at most this */
		ssize_t k;

		if (*stop) {
			*why = INPUT_STOPPED;
			rc = -EINTR;
			goto out;
		}
		if (deadline_ms) {
			int64_t left = deadline_ms - clock_mono_ms();
			if (left <= 0) {
				*why = INPUT_TIMEOUT;
				rc = -ETIMEDOUT;
				goto out;
			}
			if (left < ms)
				ms = (int)left;
		}
		k = poll(&p, 1, ms);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 || (p.revents & POLLNVAL)) {
			rc = k < 0 ? -errno : -EBADF;
			goto out;
		}
		if (k == 0)
			continue;
		if (n == cap) {
			size_t nc = cap * 2 < limit ? cap * 2 : limit;
			if (!(nb = realloc(buf, nc + 1))) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = nc;
		}
		k = read(fd, buf + n, cap - n);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0) {
			rc = -errno;
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n >= limit) {
			*why = INPUT_TOO_LONG;
			rc = -E2BIG;
			goto out;
		}
	}
	if ((flags & INPUT_STRIP_NL) && n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (n > max) {
		*why = INPUT_TOO_LONG;
		rc = -E2BIG;
	} else if (!n) {
		*why = INPUT_EMPTY;
		rc = -EINVAL;
	} else if (memchr(buf, '\0', n)) {
		*why = INPUT_NUL;
		rc = -EINVAL;
	} else {
		*why = INPUT_OK;
		*out = buf;
		*len = n;
		buf = NULL;
		rc = 0;
	}
out:
	if (buf) {
		if (secret)
			explicit_bzero(buf, cap + 1);
		free(buf);
	}
	if (secret)
		wipe_memfd(fd);
	release_fd(fd);
	return rc;
}

int input_take_env(const char *name, char **out)
{
	char *v = getenv(name), *copy;
	size_t n;

	if (!v)
		return -ENOENT;
	n = strlen(v);
	copy = strdup(v);
	/* The value lives where /proc/PID/environ reads it (for a variable
	 * from our initial environment): overwrite it there, whatever else
	 * happens, before unsetenv drops the pointer to it. */
	explicit_bzero(v, n);
	unsetenv(name);
	if (!copy)
		return -ENOMEM;
	*out = copy;
	return 0;
}
