/*
 * readfile.c — the bounded, wiping whole-file read (contract in readfile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "readfile.h"

int readfile_read(const char *path, size_t max, char **out, size_t *len)
{
	char *buf = NULL, *nbuf;
	size_t off = 0, cap = 0;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -errno;
	for (;;) {
		ssize_t k;
		if (off + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			if (ncap > max + 2)
				ncap = max + 2;
			if (!(nbuf = malloc(ncap))) {
				rc = -ENOMEM;
				goto out;
			}
			if (buf) {
				memcpy(nbuf, buf, off);
				explicit_bzero(buf, off);
				free(buf);
			}
			buf = nbuf;
			cap = ncap;
		}
		k = read(fd, buf + off, cap - 1 - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = -errno;
			goto out;
		}
		if (k == 0)
			break;
		off += (size_t)k;
		if (off > max) {
			rc = -EFBIG;
			goto out;
		}
	}
	buf[off] = '\0';
	*out = buf;
	*len = off;
	buf = NULL;
out:
	if (buf) {
		explicit_bzero(buf, off);
		free(buf);
	}
	close(fd);
	return rc;
}
