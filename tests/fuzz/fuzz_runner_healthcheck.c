/*
 * fuzz_runner_healthcheck.c — libFuzzer harness for common/httpprobe.c's
 * parsers: httpprobe_parse_status over the answer bytes (what a process on the
 * probed port sends back), and httpprobe_parse_url over the same bytes up to the
 * first NUL (the operator's --url).
 *
 * Oracles, independent of the parser: a status is accepted exactly when the
 * bytes start with "HTTP/1." digit, space, three digits and then a space, CR
 * or LF, and the code is those three digits; a shorter prefix of such bytes
 * is "incomplete" (-EAGAIN), anything else -EPROTO; and a decision made on a
 * prefix never changes when more bytes arrive. An accepted URL starts with
 * "http://" (or "https://", and then tls is set), its host is a numeric
 * address, its port 1-65535 and its path starts with '/' and holds no space
 * or control character.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/httpprobe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The grammar, written again: 0 accepted (code in *CODE), -EAGAIN, -EPROTO. */
static int expect_status(const uint8_t *b, size_t n, int *code)
{
	static const char shape[] = "HTTP/1.# ###";
	size_t i;

	for (i = 0; i < 12 && i < n; i++) {
		if (shape[i] == '#') {
			if (b[i] < '0' || b[i] > '9')
				return -EPROTO;
		} else if (b[i] != (uint8_t)shape[i]) {
			return -EPROTO;
		}
	}
	if (n < 13)
		return -EAGAIN;
	if (b[12] != ' ' && b[12] != '\r' && b[12] != '\n')
		return -EPROTO;
	*code = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *url;
	struct httpprobe_target t;
	size_t cut, i;
	int code = -1, want_code = -1, rc, want;

	rc = httpprobe_parse_status((const char *)data, size, &code);
	want = expect_status(data, size, &want_code);
	if (rc != want || (rc == 0 && code != want_code))
		abort();
	/* A prefix's decision stands: incomplete may become anything. */
	for (cut = 0; cut < size && cut < 16; cut++) {
		int c2 = -1, r2 = httpprobe_parse_status((const char *)data, cut, &c2);
		if (r2 != -EAGAIN && (r2 != rc || (r2 == 0 && c2 != code)))
			abort();
	}

	cut = strnlen((const char *)data, size);
	if (!(url = malloc(cut + 1)))
		return 0;
	memcpy(url, data, cut);
	url[cut] = '\0';
	err[0] = '\0';
	if (httpprobe_parse_url(url, "/healthz", &t, err, sizeof err) == 0) {
		unsigned char addr[16];
		int pre = t.tls ? strncmp(url, "https://", 8) : strncmp(url, "http://", 7);
		if (pre != 0 || t.port < 1 || t.port > 65535 || t.path[0] != '/')
			abort();
		if (inet_pton(strchr(t.host, ':') ? AF_INET6 : AF_INET, t.host, addr) != 1)
			abort();
		for (i = 0; t.path[i]; i++)
			if ((unsigned char)t.path[i] <= ' ' || t.path[i] == 0x7f)
				abort();
	} else if (!err[0]) {
		abort();
	}
	free(url);
	return 0;
}
