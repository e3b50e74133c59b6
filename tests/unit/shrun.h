/*
 * shrun.h — running a command line through the real shells a target may
 * have as /bin/sh, for unit tests: dash, bash and bash --posix. Each run is
 * a fork and an execve with an argv (no shell in between) in a given
 * directory, with a fixed environment, stdin and stderr on /dev/null and a
 * time limit (SIGALRM). Header-only.
 */
#ifndef SHRUN_H
#define SHRUN_H
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SH_DASH, SH_BASH, SH_POSIX, SH_N };
static const char *const sh_name[SH_N] = { "dash", "bash", "bash --posix" };

/* Run CMD with shell S (SH_*) in DIR; its stdout goes into *OUT (malloc'ed,
 * NUL-terminated, NULL when it could not run) and *OUTLEN. Returns the exit
 * status, 128 + the signal when one ended it, -1 when nothing ran. */
static int sh_run(int s, const char *cmd, const char *dir, char **out, size_t *outlen)
{
	int fds[2], status;
	size_t cap = 256, n = 0;
	char *buf;
	ssize_t r;
	pid_t pid;

	*out = NULL;
	*outlen = 0;
	if (!(buf = malloc(cap)))
		return -1;
	if (pipe(fds) != 0) {
		free(buf);
		return -1;
	}
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		free(buf);
		return -1;
	}
	if (pid == 0) {
		char *dash[] = { "sh", "-c", (char *)cmd, NULL };
		char *bash[] = { "bash", "-c", (char *)cmd, NULL };
		char *posix[] = { "bash", "--posix", "-c", (char *)cmd, NULL };
		char *envp[] = { "PATH=/usr/bin:/bin", "HOME=/nonexistent-home", "LC_ALL=C.UTF-8",
			NULL };
		int devnull = open("/dev/null", O_RDWR);
		dup2(fds[1], 1);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		close(fds[0]);
		close(fds[1]);
		if (dir && chdir(dir) != 0)
			_exit(126);
		alarm(10);
		if (s == SH_DASH)
			execve("/bin/dash", dash, envp);
		else
			execve("/bin/bash", s == SH_BASH ? bash : posix, envp);
		_exit(127);
	}
	close(fds[1]);
	for (;;) {
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fds[0], buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = 0;
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*out = buf;
	*outlen = n;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 128;
}
#endif
