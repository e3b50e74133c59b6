/*
 * cidr.c — address blocks (contract in cidr.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

/* 1 when the first BITS bits of A and B agree. */
static int prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full))
		return 0;
	if (!rest)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

int cidr_parse(const char *s, struct cidr *out)
{
	char host[64], *slash, *end;
	struct cidr c = { 0 };
	long bits;
	int max;

	if (strlen(s) >= sizeof host)
		return -EINVAL;
	strcpy(host, s);
	slash = strchr(host, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, host, c.addr) == 1)
		c.family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, host, c.addr) == 1)
		c.family = AF_INET6, max = 128;
	else
		return -EINVAL;
	c.bits = max;
	if (slash) {
		if (!slash[1] || slash[1] == '-' || slash[1] == '+' || slash[1] == ' ')
			return -EINVAL;
		bits = strtol(slash + 1, &end, 10);
		if (*end || bits < 0 || bits > max)
			return -EINVAL;
		c.bits = (int)bits;
	}
	/* No host bits past the prefix. */
	{
		unsigned char masked[16];
		int i;

		memcpy(masked, c.addr, sizeof masked);
		for (i = c.bits; i < max; i++)
			masked[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
		if (memcmp(masked, c.addr, (size_t)max / 8))
			return -EINVAL;
	}
	*out = c;
	return 0;
}

int cidr_match(const struct cidr *c, const char *addr)
{
	unsigned char a[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (c->family == AF_INET) {
		if (inet_pton(AF_INET, addr, a) == 1)
			return prefix_eq(a, c->addr, c->bits);
		if (inet_pton(AF_INET6, addr, a) == 1 && !memcmp(a, mapped, sizeof mapped))
			return prefix_eq(a + 12, c->addr, c->bits);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, a) == 1)
		return prefix_eq(a, c->addr, c->bits);
	return 0;
}
