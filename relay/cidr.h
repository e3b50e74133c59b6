/*
 * cidr.c — address blocks for the publish allow-list: parsing
 * "192.0.2.0/24", "2001:db8::/32" or a bare address (the whole address),
 * and matching a peer's address as CivetWeb prints it (IPv4 mapped into
 * IPv6, "::ffff:a.b.c.d", matches the IPv4 block).
 */
#ifndef RELAY_CIDR_H
#define RELAY_CIDR_H

struct cidr {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int bits;
};

/* Parse S into OUT. 0, or -EINVAL (a host part set past the prefix is
 * refused too: "10.0.0.1/8" is a mistake, not a block). */
int cidr_parse(const char *s, struct cidr *out);

/* 1 when ADDR (text) is inside C, 0 when not or when ADDR does not parse. */
int cidr_match(const struct cidr *c, const char *addr);
#endif
