/*
 * connect_state.c — the client's state file (contract in connect_state.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/readfile.h"
#include "connect_state.h"
#include "evid.h"

#define PREFIX "last_event_id "

int connect_state_id_ok(const char *id)
{
	size_t n = strlen(id), i;

	if (!n || n > CONNECT_STATE_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
			return 0;
	return 1;
}

int connect_state_load(const char *path, char *id, size_t cap, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, pl = strlen(PREFIX), n;
	int rc;

	id[0] = 0;
	rc = readfile_read(path, 4096, &buf, &len);
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc) {
		snprintf(err, errlen, "state file %s: %s", path, strerror(-rc));
		goto out;
	}
	if (len < pl + 2 || memcmp(buf, PREFIX, pl) || buf[len - 1] != '\n') {
		snprintf(err, errlen, "state file %s: not one line \"last_event_id <id>\"", path);
		rc = -EINVAL;
		goto out;
	}
	buf[len - 1] = 0;
	n = len - 1 - pl;
	if (strlen(buf + pl) != n || n + 1 > cap || !connect_state_id_ok(buf + pl)) {
		snprintf(err, errlen, "state file %s: the id is not 1 to %d printable bytes", path,
		         CONNECT_STATE_ID_MAX);
		rc = -EINVAL;
		goto out;
	}
	memcpy(id, buf + pl, n + 1);
out:
	free(buf);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int connect_state_save(const char *path, const char *id, char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX], line[CONNECT_STATE_ID_MAX + 32];
	int fd = -1, dfd = -1, rc, n;

	if (!connect_state_id_ok(id)) {
		snprintf(err, errlen, "state: id not storable");
		return -EINVAL;
	}
	n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof tmp || strlen(path) >= sizeof dir) {
		snprintf(err, errlen, "state file path too long");
		return -ENAMETOOLONG;
	}
	strcpy(dir, path);
	n = snprintf(line, sizeof line, PREFIX "%s\n", id);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "state: create %s: %s", tmp, strerror(-rc));
		tmp[0] = 0;
		goto out;
	}
	rc = write_all(fd, line, (size_t)n);
	if (!rc && fsync(fd) != 0)
		rc = -errno;
	if (rc) {
		snprintf(err, errlen, "state: write %s: %s", tmp, strerror(-rc));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = -errno;
		snprintf(err, errlen, "state: close %s: %s", tmp, strerror(-rc));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = -errno;
		snprintf(err, errlen, "state: rename to %s: %s", path, strerror(-rc));
		goto out;
	}
	tmp[0] = 0;
	/* The rename itself is durable once the directory is. */
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		rc = -errno;
		snprintf(err, errlen, "state: fsync the directory of %s: %s", path, strerror(-rc));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (tmp[0])
		unlink(tmp);
	return rc;
}

int connect_state_id_cmp(const char *a, const char *b)
{
	struct evid x, y;
	int c;

	/* The server's own id form and order (evid.c), strict. */
	if (evid_parse(a, &x) || evid_parse(b, &y))
		return 2;
	c = evid_cmp(&x, &y);
	return c < 0 ? -1 : c > 0;
}
