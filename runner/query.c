/*
 * query.c — query-string parameters (contract in query.h).
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "query.h"

static int hexval(int c)
{
	c = tolower(c);
	return isdigit(c) ? c - '0' : c - 'a' + 10;
}

/* 1 when the first N bytes of A and B match in any letter case (a NUL in
 * both ends the comparison early). */
static int same_name(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
			return 0;
		if (!a[i])
			break;
	}
	return 1;
}

/* Decode the N bytes of SRC into DST (DSTLEN > 0 bytes with the NUL): 0
 * with the length in *OUT, or -ERANGE when it does not fit. */
static int decode(const char *src, size_t n, char *dst, size_t dstlen, size_t *out)
{
	size_t i, j;

	for (i = j = 0; i < n && j < dstlen - 1; i++, j++) {
		if (i + 2 < n && src[i] == '%' && isxdigit((unsigned char)src[i + 1]) &&
		    isxdigit((unsigned char)src[i + 2])) {
			dst[j] = (char)(hexval((unsigned char)src[i + 1]) << 4 |
			    hexval((unsigned char)src[i + 2]));
			i += 2;
		} else if (src[i] == '+') {
			dst[j] = ' ';
		} else {
			dst[j] = src[i];
		}
	}
	dst[j] = '\0';
	*out = j;
	return i >= n ? 0 : -ERANGE;
}

int query_param(const char *q, size_t len, const char *name, char *dst, size_t dstlen, size_t *outlen)
{
	const char *p, *e, *s;
	size_t nl;

	if (!dst || dstlen == 0)
		return -ERANGE;
	dst[0] = '\0';
	if (!q || !name || len == 0)
		return -ENOENT;
	nl = strlen(name);
	e = q + len;
	/* A name starts the string or follows a '&'; its '=' lies within it. */
	for (p = q; p + nl < e; p++) {
		if ((p == q || p[-1] == '&') && p[nl] == '=' && same_name(name, p, nl)) {
			p += nl + 1;
			if (!(s = memchr(p, '&', (size_t)(e - p))))
				s = e;
			return decode(p, (size_t)(s - p), dst, dstlen, outlen);
		}
	}
	return -ENOENT;
}
