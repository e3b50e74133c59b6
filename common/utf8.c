/*
 * utf8.c — well-formed UTF-8 (contract: utf8.h). Owns: decoding each
 * sequence by its lead byte and checking its continuation bytes and the
 * code point's range.
 */
#include <stdint.h>

#include "utf8.h"

size_t utf8_seq(const unsigned char *p, size_t len)
{
	unsigned int cp, min;
	size_t n, i;

	if (len == 0)
		return 0;
	if (*p < 0x80)
		return 1;
	if ((*p & 0xe0) == 0xc0) {
		n = 1, cp = *p & 0x1f, min = 0x80;
	} else if ((*p & 0xf0) == 0xe0) {
		n = 2, cp = *p & 0x0f, min = 0x800;
	} else if ((*p & 0xf8) == 0xf0) {
		n = 3, cp = *p & 0x07, min = 0x10000;
	} else {
		return 0; /* a continuation byte first, or 0xf8..0xff */
	}
	if (n >= len)
		return 0;
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

int utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k;

	/* SIZE_MAX: the NUL, not a continuation byte, ends a short sequence. */
	for (; *p; p += k)
		if (!(k = utf8_seq(p, SIZE_MAX)))
			return 0;
	return 1;
}
