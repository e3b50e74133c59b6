/*
 * connect_req.c — the target URL and the forwarded header lines for one
 * event (contract in connect_req.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connect_req.h"

int connect_req_base_check(const char *base, char *err, size_t errlen)
{
	const char *host;

	if (!strncasecmp(base, "http://", 7))
		host = base + 7;
	else if (!strncasecmp(base, "https://", 8))
		host = base + 8;
	else {
		snprintf(err, errlen, "must start with http:// or https://");
		return -EINVAL;
	}
	if (!*host || *host == '/' || *host == ':') {
		snprintf(err, errlen, "has no host");
		return -EINVAL;
	}
	if (strpbrk(base, "?#")) {
		snprintf(err, errlen, "must not hold a query or a fragment");
		return -EINVAL;
	}
	for (; *base; base++)
		if ((unsigned char)*base <= 0x20 || (unsigned char)*base >= 0x7f) {
			snprintf(err, errlen, "holds a space, control or non-ASCII byte");
			return -EINVAL;
		}
	return 0;
}

/* Bytes of S percent-encoded under the rules above (IN_PATH: '?' too). */
static size_t enc_len(const char *s, int in_path, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int esc = c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}#", c) || (in_path && c == '?');

		if (esc) {
			if (out) {
				out[n] = '%';
				out[n + 1] = hex[c >> 4];
				out[n + 2] = hex[c & 15];
			}
			n += 3;
		} else {
			if (out)
				out[n] = (char)c;
			n++;
		}
	}
	return n;
}

int connect_req_url(const char *base, const char *path, const char *query, char **out)
{
	char e[8];
	size_t bl, pl, ql, n;
	char *u;

	*out = NULL;
	if (connect_req_base_check(base, e, sizeof e))
		return -EINVAL;
	bl = strlen(base);
	if (bl && base[bl - 1] == '/')
		bl--;
	pl = enc_len(path, 1, NULL);
	ql = *query ? enc_len(query, 0, NULL) : 0;
	n = bl + pl + (*query ? 1 + ql : 0);
	u = malloc(n + 1);
	if (!u)
		return -ENOMEM;
	memcpy(u, base, bl);
	enc_len(path, 1, u + bl);
	if (*query) {
		u[bl + pl] = '?';
		enc_len(query, 0, u + bl + pl + 1);
	}
	u[n] = 0;
	*out = u;
	return 0;
}

/* 1 when NAME is one of the comma-separated tokens of LIST. */
static int in_list(const char *list, const char *name)
{
	size_t nl = strlen(name);
	const char *p = list;

	while (*p) {
		const char *s, *e;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		s = p;
		while (*p && *p != ',')
			p++;
		e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == nl && nl && !strncasecmp(s, name, nl))
			return 1;
	}
	return 0;
}

int connect_req_dropped(const struct connect_event *ev, const char *name)
{
	static const char *const fixed[] = {
		"Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
		"Host", "Content-Length", "Expect",
	};
	size_t i;

	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (!strcasecmp(name, fixed[i]))
			return 1;
	if (!strncasecmp(name, "Proxy-", 6))
		return 1;
	for (i = 0; ev && i < ev->nhdrs; i++)
		if (!strcasecmp(ev->hdrs[i].name, "Connection") && in_list(ev->hdrs[i].value, name))
			return 1;
	return 0;
}

void connect_req_lines_free(char **lines, size_t n)
{
	size_t i;

	if (!lines)
		return;
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static int has_header(const struct connect_event *ev, const char *name)
{
	size_t i;

	for (i = 0; i < ev->nhdrs; i++)
		if (!strcasecmp(ev->hdrs[i].name, name) && !connect_req_dropped(ev, name))
			return 1;
	return 0;
}

int connect_req_headers(const struct connect_event *ev, char ***lines, size_t *n)
{
	static const char *const defaults[] = {"Accept", "Content-Type", "Expect"};
	char **l = NULL;
	size_t k = 0, i;
	int rc = -ENOMEM;

	*lines = NULL;
	*n = 0;
	l = calloc(ev->nhdrs + sizeof defaults / sizeof defaults[0] + 1, sizeof *l);
	if (!l)
		goto out;
	for (i = 0; i < ev->nhdrs; i++) {
		const struct connect_hdr *h = &ev->hdrs[i];

		if (connect_req_dropped(ev, h->name))
			continue;
		if (h->value[0] ? asprintf(&l[k], "%s: %s", h->name, h->value) < 0 :
		                  asprintf(&l[k], "%s;", h->name) < 0) {
			l[k] = NULL;
			goto out;
		}
		k++;
	}
	for (i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		if (!strcmp(defaults[i], "Expect") || !has_header(ev, defaults[i])) {
			if (asprintf(&l[k], "%s:", defaults[i]) < 0) {
				l[k] = NULL;
				goto out;
			}
			k++;
		}
	}
	*lines = l;
	*n = k;
	l = NULL;
	rc = 0;
out:
	connect_req_lines_free(l, k);
	return rc;
}
