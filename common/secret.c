/*
 * secret.c — secrets by reference and the environment scrub (contract in
 * secret.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "readfile.h"

extern char **environ;

/* secret_scrub_environ's copy of the environment, and the array it gave
 * environ (setenv may later leave it for one of its own): kept for good. */
static char **volatile scrubbed, **volatile scrubbed_env;

int secret_cred_path(const char *ref, char *path, size_t len, char *err, size_t errlen)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY"), *name = ref + 5;

	if (!*name || strchr(name, '/') || !strcmp(name, "..") || !strcmp(name, ".")) {
		snprintf(err, errlen, "bad credential name in \"%s\"", ref);
		return -EINVAL;
	}
	if (!dir) {
		snprintf(err, errlen, "%s: $CREDENTIALS_DIRECTORY is not set (LoadCredential=)", ref);
		return -ENOENT;
	}
	if ((size_t)snprintf(path, len, "%s/%s", dir, name) >= len) {
		snprintf(err, errlen, "%s: path too long", ref);
		return -ENAMETOOLONG;
	}
	return 0;
}

int secret_resolve(const char *ref, char **out, struct secret_info *info, char *err, size_t errlen)
{
	char path[PATH_MAX], *val = NULL;
	const char *name;
	size_t len = 0;
	int rc;

	if (info)
		memset(info, 0, sizeof *info);
	if (!strncmp(ref, "env:", 4)) {
		name = ref + 4;
		if (!*name || strchr(name, '=')) {
			snprintf(err, errlen, "bad environment variable name in \"%s\"", ref);
			return -EINVAL;
		}
		if (!getenv(name)) {
			snprintf(err, errlen, "environment variable %s is not set", name);
			return -ENOENT;
		}
		if (!(val = strdup(getenv(name))))
			return -ENOMEM;
		len = strlen(val);
	} else if (!strncmp(ref, "file:", 5) || !strncmp(ref, "cred:", 5)) {
		if (ref[0] == 'c') {
			if ((rc = secret_cred_path(ref, path, sizeof path, err, errlen)) != 0)
				return rc;
		} else {
			if (!ref[5]) {
				snprintf(err, errlen, "empty path in \"file:\"");
				return -EINVAL;
			}
			snprintf(path, sizeof path, "%s", ref + 5);
		}
		if ((rc = readfile_read(path, SECRET_MAX_BYTES, &val, &len)) != 0) {
			snprintf(err, errlen, "cannot read secret %s: %s", path,
			    rc == -EFBIG ? "larger than 64 KiB" : strerror(-rc));
			return rc == -ENOENT ? -ENOENT : -EINVAL;
		}
		if (info) {
			info->loose_mode = secret_mode_loose(path);
			snprintf(info->path, sizeof info->path, "%s", path);
		}
		/* One trailing newline is how files end, not part of the secret. */
		if (len && val[len - 1] == '\n')
			val[--len] = '\0';
		if (len && val[len - 1] == '\r')
			val[--len] = '\0';
	} else {
		snprintf(err, errlen, "secrets must be references (env:NAME, file:PATH, cred:NAME), "
				      "not literals");
		return -EINVAL;
	}
	if (len == 0 || strlen(val) != len) {
		explicit_bzero(val, len);
		free(val);
		snprintf(err, errlen, "secret %s is empty or contains a NUL byte", ref);
		return -EINVAL;
	}
	*out = val;
	return 0;
}


int secret_mode_loose(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && (st.st_mode & 077) != 0;
}

/* The bounds of the block /proc/self/environ shows (fields 50 and 51 of
 * /proc/self/stat). 0, -errno when the file cannot be read, or -EPROTO when
 * it does not hold them. */
static int environ_block(unsigned long *start, unsigned long *end)
{
	char buf[1024], *p;
	ssize_t n;
	int fd, field, e;

	if ((fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof buf - 1);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	if (n == 0)
		return -EPROTO;
	buf[n] = 0;
	if (!(p = strrchr(buf, ')'))) /* the command name may hold spaces and parens */
		return -EPROTO;
	for (field = 2; p && field < 50; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%lu %lu", start, end) != 2 || *start >= *end)
		return -EPROTO;
	return 0;
}

int secret_scrub_environ(void)
{
	unsigned long lo = 0, hi = ~0UL;
	char **copy, **env;
	size_t n = 0, i;

	while (environ && environ[n])
		n++;
	if (!(copy = calloc(n + 1, sizeof *copy)) || !(env = calloc(n + 1, sizeof *env))) {
		free(copy);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (!(copy[i] = strdup(environ[i]))) {
			while (i--)
				free(copy[i]);
			free(copy);
			free(env);
			return -ENOMEM;
		}
		env[i] = copy[i];
	}
	/* The kernel's copy of the environment is one block at the top of the
	 * stack, and /proc/self/environ reads it there whatever environ points
	 * to: wipe the strings that lie in it. Should its bounds be unknown, all
	 * of them: this runs first thing, when every one is either in the block
	 * or a setenv's heap copy. */
	(void)environ_block(&lo, &hi);
	for (i = 0; i < n; i++)
		if ((unsigned long)environ[i] >= lo && (unsigned long)environ[i] < hi)
			explicit_bzero(environ[i], strlen(environ[i]));
	/* The copies live as long as the process. environ gets an array of its
	 * own (unsetenv and setenv change it); the copies stay listed here. */
	scrubbed = copy;
	scrubbed_env = env;
	environ = env;
	return 0;
}
