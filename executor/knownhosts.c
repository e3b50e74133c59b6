/*
 * knownhosts.c — strict OpenSSH known_hosts reading and matching (contract in
 * knownhosts.h). The only place the executor parses a file it did not write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "knownhosts.h"
#include "../common/b64.h"
#include "../common/readfile.h"

enum { MARK_NONE, MARK_REVOKED };

struct knownhosts_entry {
	int marker;
	int hashed;
	char *patterns;              /* plain: comma list as written */
	unsigned char salt[64], hash[20];
	size_t saltlen;
	char type[32];
	unsigned char *blob;
	size_t bloblen;
};

struct knownhosts_file {
	struct knownhosts_entry *e;
	size_t n, cap;
};

static const char *const known_types[] = {
	"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"ssh-rsa", "ssh-dss",
};

/* Read the SSH string at the start of BLOB (the key type) into OUT. */
void knownhosts_blob_type(const unsigned char *blob, size_t bloblen, char *out, size_t len)
{
	uint32_t n;

	out[0] = '\0';
	if (bloblen < 4)
		return;
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	if (n == 0 || n >= len || n > bloblen - 4)
		return;
	memcpy(out, blob + 4, n);
	out[n] = '\0';
	if (strlen(out) != n)
		out[0] = '\0';
}

const char *knownhosts_type_label(const char *type)
{
	if (!strcmp(type, "ssh-ed25519"))
		return "ED25519";
	if (!strncmp(type, "ecdsa-", 6))
		return "ECDSA";
	if (!strcmp(type, "ssh-rsa"))
		return "RSA";
	if (!strcmp(type, "ssh-dss"))
		return "DSA";
	return "UNKNOWN";
}

static int known_type(const char *t)
{
	size_t i;

	for (i = 0; i < sizeof known_types / sizeof known_types[0]; i++)
		if (!strcmp(t, known_types[i]))
			return 1;
	return 0;
}

/* Next whitespace-separated field of [*p, end). */
static int field(const char **p, const char *end, const char **f, size_t *flen)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end)
		return 0;
	*f = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*flen = (size_t)(s - *f);
	*p = s;
	return 1;
}

/* A hashed host field "|1|<b64 salt>|<b64 hash>" into E. 0 or -EINVAL. */
static int parse_hashed(struct knownhosts_entry *e, const char *f, size_t flen)
{
	const char *sep;
	size_t hl;

	/* |1|<b64 salt>|<b64 hash> */
	if (flen < 4 || memcmp(f, "|1|", 3) != 0)
		return -EINVAL;
	f += 3;
	flen -= 3;
	sep = memchr(f, '|', flen);
	if (!sep)
		return -EINVAL;
	if (b64_decode(f, (size_t)(sep - f), 0, e->salt, sizeof e->salt, &e->saltlen) != 0 ||
	    e->saltlen != 20)
		return -EINVAL;
	{
		unsigned char tmp[24];
		if (b64_decode(sep + 1, flen - (size_t)(sep + 1 - f), 0, tmp, sizeof tmp, &hl) != 0 ||
		    hl != 20)
			return -EINVAL;
		memcpy(e->hash, tmp, 20);
	}
	e->hashed = 1;
	return 0;
}

/* One line into E: 0 with *FOUND = 1 when E now holds an entry (its strings
 * are the caller's), 0 with *FOUND = 0 for a line without one (blank, a
 * comment, a marker that is not ours), -EINVAL when malformed, -ENOMEM. */
static int parse_line(struct knownhosts_entry *e, const char *p, const char *end, int *found)
{
	const char *f;
	size_t flen;
	char type[32];
	unsigned char *blob = NULL;
	size_t bloblen, cap;
	int rc = -EINVAL;

	memset(e, 0, sizeof *e);
	*found = 0;
	if (!field(&p, end, &f, &flen))
		return 0; /* blank */
	if (*f == '#')
		return 0;
	if (*f == '@') {
		if (flen == 8 && !memcmp(f, "@revoked", 8))
			e->marker = MARK_REVOKED;
		else
			return 0; /* @cert-authority and unknown markers: not ours */
		if (!field(&p, end, &f, &flen))
			return -EINVAL;
	}
	if (*f == '|') {
		if (parse_hashed(e, f, flen) != 0)
			return -EINVAL;
	} else {
		if (!(e->patterns = strndup(f, flen)))
			return -ENOMEM;
	}
	if (!field(&p, end, &f, &flen) || flen >= sizeof type)
		goto out;
	memcpy(type, f, flen);
	type[flen] = '\0';
	if (!known_type(type))
		goto out;
	if (!field(&p, end, &f, &flen))
		goto out;
	cap = flen / 4 * 3 + 3;
	if (!(blob = malloc(cap))) {
		rc = -ENOMEM;
		goto out;
	}
	if (b64_decode(f, flen, 0, blob, cap, &bloblen) != 0)
		goto out;
	knownhosts_blob_type(blob, bloblen, e->type, sizeof e->type);
	if (strcmp(e->type, type) != 0)
		goto out;
	e->blob = blob;
	e->bloblen = bloblen;
	blob = NULL;
	*found = 1;
	rc = 0;
out:
	free(blob);
	if (rc) {
		free(e->patterns);
		e->patterns = NULL;
	}
	return rc;
}

void knownhosts_free(struct knownhosts_file *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->e[i].patterns);
		free(f->e[i].blob);
	}
	free(f->e);
	free(f);
}

int knownhosts_parse(const char *buf, size_t len, struct knownhosts_file **out, int *bad_lines)
{
	struct knownhosts_file *f = calloc(1, sizeof *f);
	const char *p = buf, *end = buf + len;
	int bad = 0, rc = -ENOMEM;

	if (!f)
		goto out;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct knownhosts_entry e;
		int r, found = 0;

		if (le > p && le[-1] == '\r')
			le--;
		if ((size_t)(le - p) > KNOWNHOSTS_MAX_LINE || memchr(p, '\0', (size_t)(le - p))) {
			bad++;
		} else if ((r = parse_line(&e, p, le, &found)) == -ENOMEM) {
			goto out;
		} else if (r < 0) {
			bad++;
		} else if (found) {
			if (f->n == f->cap) {
				size_t nc = f->cap ? f->cap * 2 : 16;
				struct knownhosts_entry *ne = realloc(f->e, nc * sizeof *ne);
				if (!ne) {
					free(e.patterns);
					free(e.blob);
					goto out;
				}
				f->e = ne;
				f->cap = nc;
			}
			f->e[f->n++] = e;
		}
		p = nl ? nl + 1 : end;
	}
	if (bad_lines)
		*bad_lines = bad;
	*out = f;
	f = NULL;
	rc = 0;
out:
	knownhosts_free(f);
	return rc;
}

int knownhosts_load(const char *path, struct knownhosts_file **out, int *bad_lines)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = readfile_read(path, KNOWNHOSTS_MAX_FILE, &buf, &len)) != 0)
		return rc;
	rc = knownhosts_parse(buf, len, out, bad_lines);
	free(buf);
	return rc;
}

/* The name OpenSSH looks up: "host", or "[host]:port" off port 22. */
static void lookup_name(const char *host, int port, char *out, size_t len)
{
	size_t i;

	if (port == 22)
		snprintf(out, len, "%s", host);
	else
		snprintf(out, len, "[%s]:%d", host, port);
	for (i = 0; out[i]; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
}

/* OpenSSH's wildcard rule: '*' any run, '?' one byte, all else literal
 * (so the brackets of "[host]:port" are plain characters). Iterative, with
 * one backtrack point: linear in practice, no recursion on untrusted input. */
static int glob_match(const char *pat, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			retry = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++retry;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

/* OpenSSH match_hostname over a comma list: a negated match vetoes. */
static int pattern_match(const char *list, const char *name)
{
	char pat[1024];
	const char *p = list;
	int matched = 0;

	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		int neg = 0;

		if (n > 0 && p[0] == '!') {
			neg = 1;
			p++;
			n--;
		}
		/* As OpenSSH: a member too long to evaluate fails the whole
		 * list; skipping it could drop a negation that applies. */
		if (n >= sizeof pat)
			return 0;
		if (n > 0) {
			size_t i;
			memcpy(pat, p, n);
			pat[n] = '\0';
			for (i = 0; i < n; i++)
				if (pat[i] >= 'A' && pat[i] <= 'Z')
					pat[i] = (char)(pat[i] - 'A' + 'a');
			if (glob_match(pat, name)) {
				if (neg)
					return 0;
				matched = 1;
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return matched;
}

static int entry_matches_host(const struct knownhosts_entry *e, const char *name)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	int ok;

	if (!e->hashed)
		return pattern_match(e->patterns, name);
	if (!HMAC(EVP_sha1(), e->salt, (int)e->saltlen, (const unsigned char *)name, strlen(name),
		mac, &maclen) || maclen != 20)
		return 0;
	ok = CRYPTO_memcmp(mac, e->hash, 20) == 0;
	return ok;
}

enum knownhosts_result knownhosts_check(const struct knownhosts_file *f, const char *host, int port,
    const unsigned char *blob, size_t bloblen)
{
	char name[1100], type[32];
	enum knownhosts_result r = KNOWNHOSTS_UNKNOWN;
	size_t i;

	lookup_name(host, port, name, sizeof name);
	knownhosts_blob_type(blob, bloblen, type, sizeof type);
	if (!f || !type[0])
		return KNOWNHOSTS_UNKNOWN;
	/* Revocation is checked first and wins regardless of order. */
	for (i = 0; i < f->n; i++) {
		const struct knownhosts_entry *e = &f->e[i];
		if (e->marker == MARK_REVOKED && e->bloblen == bloblen &&
		    !memcmp(e->blob, blob, bloblen) && entry_matches_host(e, name))
			return KNOWNHOSTS_REVOKED;
	}
	for (i = 0; i < f->n; i++) {
		const struct knownhosts_entry *e = &f->e[i];
		if (e->marker != MARK_NONE || strcmp(e->type, type) != 0 || !entry_matches_host(e, name))
			continue;
		if (e->bloblen == bloblen && !memcmp(e->blob, blob, bloblen))
			return KNOWNHOSTS_MATCH;
		r = KNOWNHOSTS_CHANGED;
	}
	return r;
}

void knownhosts_known_algs(const struct knownhosts_file *f, const char *host, int port,
    char *out, size_t len)
{
	char name[1100];
	size_t i, t, off = 0;
	unsigned known = 0;

	out[0] = '\0';
	if (!f)
		return;
	lookup_name(host, port, name, sizeof name);
	for (i = 0; i < f->n; i++) {
		const struct knownhosts_entry *e = &f->e[i];
		if (e->marker != MARK_NONE || !entry_matches_host(e, name))
			continue;
		for (t = 0; t < sizeof known_types / sizeof known_types[0]; t++)
			if (!strcmp(e->type, known_types[t]))
				known |= 1u << t;
	}
	/* Our preference order (strongest first), restricted to known types. */
	for (t = 0; t < sizeof known_types / sizeof known_types[0]; t++) {
		size_t tl = strlen(known_types[t]);
		if (!(known & (1u << t)) || off + tl + 2 > len)
			continue;
		if (off)
			out[off++] = ',';
		memcpy(out + off, known_types[t], tl + 1);
		off += tl;
	}
}

void knownhosts_fingerprint(const unsigned char *blob, size_t bloblen, char *out, size_t len)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char b64[64];

	SHA256(blob, bloblen, md);
	b64_encode(md, sizeof md, B64_NOPAD, b64, sizeof b64, NULL); /* 43 bytes: fits */
	snprintf(out, len, "SHA256:%s", b64);
}
