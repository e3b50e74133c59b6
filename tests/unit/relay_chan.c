/*
 * relay_chan.c — unit tests for relay/chan.c (channel names and the two
 * paths that carry one), relay/evid.c (the id form: strict parse, order,
 * the next id as Redis gives it) and relay/cidr.c (blocks and matching).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../relay/chan.h"
#include "../../relay/cidr.h"
#include "../../relay/evid.h"
#include "t.h"

static void test_chan_valid(void)
{
	char n64[65], n65[66];

	memset(n64, 'a', 64);
	n64[64] = '\0';
	memset(n65, 'a', 65);
	n65[65] = '\0';
	T_CHECK(chan_valid("a"));
	T_CHECK(chan_valid("Az09._-"));
	T_CHECK(chan_valid(n64));
	T_CHECK(!chan_valid(n65));
	T_CHECK(!chan_valid(""));
	T_CHECK(!chan_valid("."));
	T_CHECK(!chan_valid(".."));
	T_CHECK(chan_valid("..."));
	T_CHECK(!chan_valid("a/b"));
	T_CHECK(!chan_valid("a%2Fb"));
	T_CHECK(!chan_valid("a b"));
	T_CHECK(!chan_valid("\xc3\xa9"));
}

static void test_chan_publish_paths(void)
{
	char name[CHAN_NAME_MAX + 1];
	const char *rest = NULL;

	T_EQ_INT(chan_parse_publish("/webhooks/gh", name, &rest), 0);
	T_EQ_STR(name, "gh");
	T_EQ_STR(rest, "");
	T_EQ_INT(chan_parse_publish("/webhooks/gh/", name, &rest), 0);
	T_EQ_STR(rest, "/");
	T_EQ_INT(chan_parse_publish("/webhooks/gh/a/b%20c", name, &rest), 0);
	T_EQ_STR(name, "gh");
	T_EQ_STR(rest, "/a/b%20c");
	T_EQ_INT(chan_parse_publish("/webhooks/", name, &rest), -EINVAL);
	T_EQ_STR(name, "");
	T_EQ_INT(chan_parse_publish("/webhooks//x", name, &rest), -EINVAL);
	T_EQ_INT(chan_parse_publish("/webhooks/a%2Fb", name, &rest), -EINVAL);
	T_EQ_STR(name, "");
	T_EQ_INT(chan_parse_publish("/webhooks/..", name, &rest), -EINVAL);
	T_EQ_INT(chan_parse_publish("/hooks/gh", name, &rest), -ENOENT);
	T_EQ_INT(chan_parse_publish("/webhooksgh", name, &rest), -ENOENT);
}

static void test_chan_subscribe_paths(void)
{
	char name[CHAN_NAME_MAX + 1];

	T_EQ_INT(chan_parse_subscribe("/subscribe/gh/", name), 0);
	T_EQ_STR(name, "gh");
	T_EQ_INT(chan_parse_subscribe("/subscribe/gh", name), 0);
	T_EQ_INT(chan_parse_subscribe("/subscribe/gh//", name), -EINVAL);
	T_EQ_INT(chan_parse_subscribe("/subscribe/gh/x", name), -EINVAL);
	T_EQ_STR(name, "");
	T_EQ_INT(chan_parse_subscribe("/subscribe/", name), -EINVAL);
	T_EQ_INT(chan_parse_subscribe("/webhooks/gh", name), -ENOENT);
}

static void test_evid_parse(void)
{
	struct evid id = { 7, 7 };
	char s[EVID_STR_MAX];

	T_EQ_INT(evid_parse("1700000000000-3", &id), 0);
	T_CHECK(id.ms == 1700000000000ULL && id.seq == 3);
	evid_format(&id, s);
	T_EQ_STR(s, "1700000000000-3");
	T_EQ_INT(evid_parse("18446744073709551615-18446744073709551615", &id), 0);
	T_CHECK(id.ms == UINT64_MAX && id.seq == UINT64_MAX);
	id.ms = 5;
	T_EQ_INT(evid_parse("18446744073709551616-0", &id), -EINVAL);
	T_EQ_INT(evid_parse("123", &id), -EINVAL);
	T_EQ_INT(evid_parse("1-", &id), -EINVAL);
	T_EQ_INT(evid_parse("-1", &id), -EINVAL);
	T_EQ_INT(evid_parse("1-2-3", &id), -EINVAL);
	T_EQ_INT(evid_parse(" 1-2", &id), -EINVAL);
	T_EQ_INT(evid_parse("1-2 ", &id), -EINVAL);
	T_EQ_INT(evid_parse("+1-2", &id), -EINVAL);
	T_EQ_INT(evid_parse("", &id), -EINVAL);
	T_CHECK(id.ms == 5); /* untouched on failure */
}

static void test_evid_order_next(void)
{
	struct evid a = { 10, 5 }, b = { 11, 0 }, c = { 10, 6 }, n;

	T_CHECK(evid_cmp(&a, &b) < 0);
	T_CHECK(evid_cmp(&b, &a) > 0);
	T_CHECK(evid_cmp(&a, &c) < 0);
	T_CHECK(evid_cmp(&a, &a) == 0);
	n = evid_next(&a, 20);
	T_CHECK(n.ms == 20 && n.seq == 0);
	n = evid_next(&a, 10);
	T_CHECK(n.ms == 10 && n.seq == 6);
	n = evid_next(&a, 3); /* the clock went back: ids still grow */
	T_CHECK(n.ms == 10 && n.seq == 6);
	a.seq = UINT64_MAX;
	n = evid_next(&a, 10);
	T_CHECK(n.ms == 11 && n.seq == 0);
}

static void test_cidr(void)
{
	struct cidr c;

	T_EQ_INT(cidr_parse("127.0.0.0/8", &c), 0);
	T_CHECK(cidr_match(&c, "127.1.2.3"));
	T_CHECK(cidr_match(&c, "::ffff:127.0.0.1"));
	T_CHECK(!cidr_match(&c, "128.0.0.1"));
	T_CHECK(!cidr_match(&c, "::1"));
	T_CHECK(!cidr_match(&c, "garbage"));
	T_EQ_INT(cidr_parse("192.0.2.7", &c), 0);
	T_CHECK(cidr_match(&c, "192.0.2.7"));
	T_CHECK(!cidr_match(&c, "192.0.2.8"));
	T_EQ_INT(cidr_parse("2001:db8::/32", &c), 0);
	T_CHECK(cidr_match(&c, "2001:db8:1::5"));
	T_CHECK(!cidr_match(&c, "2001:db9::1"));
	T_EQ_INT(cidr_parse("0.0.0.0/0", &c), 0);
	T_CHECK(cidr_match(&c, "8.8.8.8"));
	T_EQ_INT(cidr_parse("10.0.0.1/8", &c), -EINVAL);
	T_EQ_INT(cidr_parse("10.0.0.0/33", &c), -EINVAL);
	T_EQ_INT(cidr_parse("10.0.0.0/", &c), -EINVAL);
	T_EQ_INT(cidr_parse("10.0.0.0/-1", &c), -EINVAL);
	T_EQ_INT(cidr_parse("10.0.0/8", &c), -EINVAL);
	T_EQ_INT(cidr_parse("::1/129", &c), -EINVAL);
}

int main(void)
{
	T_RUN(test_chan_valid);
	T_RUN(test_chan_publish_paths);
	T_RUN(test_chan_subscribe_paths);
	T_RUN(test_evid_parse);
	T_RUN(test_evid_order_next);
	T_RUN(test_cidr);
	return T_EXIT();
}
