/*
 * fuzz_executor_knownhosts.c — libFuzzer harness for executor/knownhosts.c.
 *
 * The input is an untrusted known_hosts file. It is parsed, then every key
 * blob (two fixed real keys and each blob that decodes from the input) is
 * checked against a few fixed hosts and against the input's own first host
 * field, so that the match, changed and revoked
 * paths are reached, not only "unknown".
 *
 * Oracles, beyond crashes, leaks and undefined behaviour: parsing is
 * deterministic; bad_lines never exceeds the number of lines;
 * knownhosts_known_algs writes a NUL-terminated list of distinct known type names
 * in the documented order, within its buffer, for any buffer size; a
 * MATCH or CHANGED answer implies that the key's type is among the known
 * algorithms for that host (and their absence implies UNKNOWN or REVOKED);
 * fingerprints have the SHA256 form. Any breach aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../../executor/knownhosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", \
	__FILE__, __LINE__, #c); abort(); } } while (0)

static const char *const order[] = {
	"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"ssh-rsa", "ssh-dss",
};

/* Two real public keys (ed25519, ecdsa-sha2-nistp256), base64 as in .pub. */
static const char *const fixed_keys[] = {
	"AAAAC3NzaC1lZDI1NTE5AAAAIF7s7VaL5N0VT+QnOLX4/+4VT0VdrQ8ujXPddBaM71Un",
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBLJo4Rqy5m9nPeST2s0E1lm"
	"vzKeNvjfpp1BKIhcn0XzYrDbAxTSO4GXgyRZZXbD0fX3q43Ju5+Ek6GS7LenLVA=",
};

static const struct { const char *host; int port; } fixed_hosts[] = {
	{ "example.com", 22 }, { "127.0.0.1", 2222 }, { "Host.Example.COM", 22 },
	{ "::1", 2200 }, { "[odd]", 22 }, { "", 22 },
};

/* Standard base64 of [S, S+N) into OUT; its length, or 0 when invalid. */
static size_t b64(const char *s, size_t n, unsigned char *out, size_t cap)
{
	size_t i, pad = 0;
	int k;

	if (n == 0 || n % 4 || n / 4 * 3 > cap)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/' || (c == '=' && i >= n - 2)))
			return 0;
	}
	if (s[n - 1] == '=')
		pad++;
	if (s[n - 2] == '=')
		pad++;
	k = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	return k < 0 || (size_t)k < pad ? 0 : (size_t)k - pad;
}

static int type_index(const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof order / sizeof order[0]; i++)
		if (strlen(order[i]) == n && !memcmp(order[i], t, n))
			return (int)i;
	return -1;
}

/* knownhosts_known_algs into every buffer size up to 128 (and a big one): always a
 * NUL-terminated list of distinct known names, strictly in preference
 * order, never written past LEN. Returns the big buffer's answer. */
static void algs_checked(const struct knownhosts_file *f, const char *host, int port,
    char *full, size_t fulllen)
{
	char buf[160];
	size_t len;

	for (len = 1; len <= 128; len += (len < 24 ? 1 : 13)) {
		const char *p = buf;
		int last = -1;
		memset(buf, 0x5a, sizeof buf);
		knownhosts_known_algs(f, host, port, buf, len);
		CHECK(memchr(buf, '\0', len) != NULL);
		CHECK(buf[len] == 0x5a);
		while (*p) {
			const char *c = strchr(p, ',');
			size_t n = c ? (size_t)(c - p) : strlen(p);
			int t = type_index(p, n);
			CHECK(t > last);
			last = t;
			p += n;
			if (*p == ',') {
				p++;
				CHECK(*p);
			}
		}
	}
	knownhosts_known_algs(f, host, port, full, fulllen);
}

static int list_has(const char *list, const char *type)
{
	size_t n = strlen(type);
	const char *p = list;

	while ((p = strstr(p, type))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
		p += n;
	}
	return 0;
}

/* Every check for one (HOST, PORT): its known algorithms once, swept over
 * buffer sizes when SWEEP (the sweep is costly, so it is kept for the
 * hosts the input names), then each of the N blobs against them. */
static void check_host(const struct knownhosts_file *f, const char *host, int port, int sweep,
    unsigned char (*blobs)[2048], const size_t *lens, size_t n)
{
	char algs[256], type[64];
	enum knownhosts_result r;
	size_t i;

	if (sweep)
		algs_checked(f, host, port, algs, sizeof algs);
	else
		knownhosts_known_algs(f, host, port, algs, sizeof algs);
	for (i = 0; i < n; i++) {
		r = knownhosts_check(f, host, port, blobs[i], lens[i]);
		CHECK(r == KNOWNHOSTS_MATCH || r == KNOWNHOSTS_UNKNOWN || r == KNOWNHOSTS_CHANGED ||
		    r == KNOWNHOSTS_REVOKED);
		knownhosts_blob_type(blobs[i], lens[i], type, sizeof type);
		CHECK(strlen(type) < sizeof type);
		if (r == KNOWNHOSTS_MATCH || r == KNOWNHOSTS_CHANGED)
			CHECK(type[0] && list_has(algs, type));
		if (!type[0] || !list_has(algs, type))
			CHECK(r == KNOWNHOSTS_UNKNOWN || r == KNOWNHOSTS_REVOKED);
		(void)knownhosts_type_label(type);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *end = s + size, *p;
	struct knownhosts_file *f = NULL, *g = NULL;
	unsigned char blobs[6][2048];
	size_t bloblen[6], nblobs = 0, i, j, lines = 0;
	char host[300] = "";
	int bad = -1, bad2 = -1;

	if (knownhosts_parse(s, size, &f, &bad) != 0)
		return 0;
	CHECK(f != NULL);
	for (p = s; p < end; p++)
		lines += *p == '\n';
	CHECK(bad >= 0 && (size_t)bad <= lines + 1);
	CHECK(knownhosts_parse(s, size, &g, &bad2) == 0 && bad2 == bad);
	knownhosts_free(g);

	/* Host: the first field of the first line, port 22 or its [host]:port. */
	{
		const char *e = s;
		while (e < end && *e != ' ' && *e != '\t' && *e != '\n' && *e != ',' &&
		    (size_t)(e - s) < sizeof host - 1)
			e++;
		memcpy(host, s, (size_t)(e - s));
		host[e - s] = '\0';
	}
	/* Blobs: the first base64 tokens of the input that decode to 4+ bytes. */
	for (p = s; p < end && nblobs < 4;) {
		const char *t;
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			p++;
		t = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		if (p - t >= 8 && (bloblen[nblobs] = b64(t, (size_t)(p - t), blobs[nblobs],
		    sizeof blobs[nblobs])) >= 4)
			nblobs++;
	}
	/* The fixed keys join the input's blobs, and every blob is checked
	 * against every host: the fixed ones, the input's own at two ports and,
	 * for a "[h]:port" field, h at that port. */
	for (i = 0; i < sizeof fixed_keys / sizeof fixed_keys[0]; i++) {
		bloblen[nblobs] = b64(fixed_keys[i], strlen(fixed_keys[i]), blobs[nblobs],
		    sizeof blobs[nblobs]);
		CHECK(bloblen[nblobs] > 0);
		nblobs++;
	}
	for (i = 0; i < nblobs; i++) {
		char fp[80];
		knownhosts_fingerprint(blobs[i], bloblen[i], fp, sizeof fp);
		CHECK(!strncmp(fp, "SHA256:", 7) && strlen(fp) == 7 + 43);
	}
	for (j = 0; j < sizeof fixed_hosts / sizeof fixed_hosts[0]; j++)
		check_host(f, fixed_hosts[j].host, fixed_hosts[j].port, 0, blobs, bloblen, nblobs);
	check_host(f, host, 22, 1, blobs, bloblen, nblobs);
	check_host(f, host, 2222, 1, blobs, bloblen, nblobs);
	if (host[0] == '[' && strchr(host, ']')) {
		char h[300];
		const char *rb = strchr(host, ']');
		snprintf(h, sizeof h, "%.*s", (int)(rb - host - 1), host + 1);
		check_host(f, h, rb[1] == ':' ? atoi(rb + 2) : 22, 1, blobs, bloblen, nblobs);
	}
	knownhosts_check(f, host, 22, NULL, 0);
	knownhosts_free(f);
	return 0;
}
