/*
 * shquote.c — POSIX single-quoting (contract in shquote.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shquote.h"

size_t shquote_len(const char *s, size_t len)
{
	size_t i, quotes = 0;

	if (len > (SIZE_MAX - 3) / 4)
		return 0;
	for (i = 0; i < len; i++)
		quotes += s[i] == '\'';
	return len + 3 * quotes + 2;
}

size_t shquote_write(char *dst, const char *s, size_t len)
{
	size_t i, o = 0;

	dst[o++] = '\'';
	for (i = 0; i < len; i++) {
		if (s[i] == '\'') {
			memcpy(dst + o, "'\\''", 4);
			o += 4;
		} else {
			dst[o++] = s[i];
		}
	}
	dst[o++] = '\'';
	return o;
}

char *shquote_dup(const char *s)
{
	size_t len, n;
	char *q;

	if (!s) {
		errno = EINVAL;
		return NULL;
	}
	len = strlen(s);
	if (!(n = shquote_len(s, len))) {
		errno = ENOMEM;
		return NULL;
	}
	if (!(q = malloc(n + 1)))
		return NULL;
	q[shquote_write(q, s, len)] = '\0';
	return q;
}
