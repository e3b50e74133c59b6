/*
 * fuzz_relay_path.c — libFuzzer harness for relay/chan.c, the one parse of
 * request paths in the relay. The input is a path (cut at its first NUL).
 * chan_parse_publish and chan_parse_subscribe must never read past it, and
 * what they accept is checked against an independent reading: the name is
 * 1..64 bytes of [A-Za-z0-9._-], not "." or "..", right after the prefix;
 * for publish, the rest is what follows the name and is empty or starts
 * with '/'; for subscribe, at most one '/' follows. chan_valid agrees on
 * the name. The input is also tried as a Last-Event-ID (relay/evid.c): an
 * accepted id prints back as the same text when it has no leading zeros.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../relay/chan.h"
#include "../../relay/evid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* The name at S per the rule, its length or 0. */
static size_t ref_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	if (n == 0 || n > 64 || !strncmp(s, ".", n) || !strncmp(s, "..", n))
		return 0;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1), name[CHAN_NAME_MAX + 1];
	const char *rest = NULL, *p;
	struct evid id;
	size_t n;
	int rc;

	if (!path)
		return 0;
	memcpy(path, data, size);
	path[size] = '\0';

	rc = chan_parse_publish(path, name, &rest);
	if (strncmp(path, "/webhooks/", 10)) {
		if (rc != -ENOENT)
			abort();
	} else {
		p = path + 10;
		n = ref_name(p);
		if (n && (p[n] == '\0' || p[n] == '/')) {
			if (rc != 0 || strlen(name) != n || memcmp(name, p, n) || rest != p + n ||
			    !chan_valid(name))
				abort();
		} else if (rc != -EINVAL || name[0] != '\0') {
			abort();
		}
	}
	rc = chan_parse_subscribe(path, name);
	if (strncmp(path, "/subscribe/", 11)) {
		if (rc != -ENOENT)
			abort();
	} else {
		p = path + 11;
		n = ref_name(p);
		if (n && (p[n] == '\0' || (p[n] == '/' && p[n + 1] == '\0'))) {
			if (rc != 0 || strlen(name) != n || memcmp(name, p, n))
				abort();
		} else if (rc != -EINVAL) {
			abort();
		}
	}
	if (chan_valid(path) != (ref_name(path) == strlen(path) && strlen(path) > 0))
		abort();
	if (evid_parse(path, &id) == 0) {
		char back[EVID_STR_MAX];
		const char *dash = strchr(path, '-');

		evid_format(&id, back);
		if ((path[0] != '0' || path[1] == '-') && dash && (dash[1] != '0' || dash[2] == '\0') &&
		    strcmp(back, path))
			abort();
	}
	free(path);
	return 0;
}
