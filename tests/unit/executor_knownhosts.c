/*
 * executor_knownhosts.c — unit tests for executor/knownhosts.c over in-memory
 * known_hosts text. Keys, fingerprints and hashed entries come from
 * ssh-keygen (run through popen in a private temp dir), and host pattern
 * matching is compared with `ssh-keygen -F`, so the module is checked
 * against OpenSSH rather than against itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../executor/knownhosts.h"
#include "t.h"

static char tmpdir[64];

struct key {
	char type[40];
	char b64[1024];
	unsigned char blob[1024];
	size_t bloblen;
	char fp[80]; /* ssh-keygen -l */
};

static struct key ed1, ed2, ec1, ec384, rsa1;

/* Run CMD through the shell; its first line of stdout into OUT. 0 when it
 * exited 0. */
static int run(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	int rc;

	if (!p)
		return -1;
	if (out && len) {
		out[0] = '\0';
		if (fgets(out, (int)len, p))
			out[strcspn(out, "\r\n")] = '\0';
	}
	while (fgetc(p) != EOF)
		;
	rc = pclose(p);
	return rc == 0 ? 0 : -1;
}

static int write_file(const char *path, const char *s, size_t n)
{
	FILE *f = fopen(path, "wb");
	int rc;

	if (!f)
		return -1;
	rc = fwrite(s, 1, n, f) == n ? 0 : -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long sz;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)sz + 1))) {
		*n = fread(buf, 1, (size_t)sz, f);
		buf[*n] = '\0';
	}
	fclose(f);
	return buf;
}

static int b64dec(const char *in, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t n = strlen(in), pad = 0;
	int k;

	if (n % 4 || n / 4 * 3 > cap)
		return -1;
	if (n && in[n - 1] == '=')
		pad++;
	if (n > 1 && in[n - 2] == '=')
		pad++;
	k = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (k < 0)
		return -1;
	*outlen = (size_t)k - pad;
	return 0;
}

/* ssh-keygen a key of TYPE (ssh-keygen -t/-b ARGS) named NAME. */
static int keygen(struct key *k, const char *name, const char *args)
{
	char cmd[512], line[2048], path[256];
	size_t n;
	char *pub, *sp;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	snprintf(cmd, sizeof cmd, "ssh-keygen -q %s -N '' -C test -f %s </dev/null >/dev/null 2>&1",
	    args, path);
	if (run(cmd, NULL, 0) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "%s.pub", path);
	if (!(pub = read_file(cmd, &n)))
		return -1;
	snprintf(line, sizeof line, "%s", pub);
	free(pub);
	if (!(sp = strchr(line, ' ')))
		return -1;
	*sp = '\0';
	snprintf(k->type, sizeof k->type, "%.39s", line);
	snprintf(k->b64, sizeof k->b64, "%.1023s", sp + 1);
	k->b64[strcspn(k->b64, " \n")] = '\0';
	if (b64dec(k->b64, k->blob, sizeof k->blob, &k->bloblen) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "ssh-keygen -l -E sha256 -f %s.pub | cut -d' ' -f2", path);
	return run(cmd, k->fp, sizeof k->fp);
}

/* Parse TEXT (NUL-terminated); returns the file, bad lines in *BAD. */
static struct knownhosts_file *parse(const char *text, int *bad)
{
	struct knownhosts_file *f = NULL;
	int b = -1;

	if (knownhosts_parse(text, strlen(text), &f, &b) != 0)
		return NULL;
	if (bad)
		*bad = b;
	return f;
}

static char *line(char *buf, size_t len, const char *pat, const struct key *k)
{
	snprintf(buf, len, "%s %s %s\n", pat, k->type, k->b64);
	return buf;
}

static enum knownhosts_result check(const struct knownhosts_file *f, const char *host, int port,
    const struct key *k)
{
	return knownhosts_check(f, host, port, k->blob, k->bloblen);
}

static void test_plain(void)
{
	char text[8192];
	struct knownhosts_file *f;
	int bad = -1;

	line(text, sizeof text, "example.com", &ed1);
	T_CHECK((f = parse(text, &bad)) != NULL);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "example.com", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "example.com", 22, &ed2), KNOWNHOSTS_CHANGED);
	T_EQ_INT(check(f, "example.com", 22, &ec1), KNOWNHOSTS_UNKNOWN); /* other type: unknown */
	T_EQ_INT(check(f, "example.org", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "www.example.com", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "example.co", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "example.comm", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(knownhosts_check(f, "example.com", 22, ed1.blob, ed1.bloblen - 1), KNOWNHOSTS_CHANGED);
	T_EQ_INT(knownhosts_check(f, "example.com", 22, ed1.blob, 3), KNOWNHOSTS_UNKNOWN); /* no type */
	T_EQ_INT(knownhosts_check(NULL, "example.com", 22, ed1.blob, ed1.bloblen), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
	knownhosts_free(NULL);
}

static void test_changed_and_matching_entries(void)
{
	char a[2048], b[2048], text[8192];
	struct knownhosts_file *f;

	/* an old key and the current one for the same host: the match wins */
	snprintf(text, sizeof text, "%s%s", line(a, sizeof a, "h.example", &ed2),
	    line(b, sizeof b, "h.example", &ed1));
	T_CHECK((f = parse(text, NULL)) != NULL);
	T_EQ_INT(check(f, "h.example", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "h.example", 22, &ed2), KNOWNHOSTS_MATCH);
	knownhosts_free(f);
	/* both types known: each checked against its own */
	snprintf(text, sizeof text, "%s%s", line(a, sizeof a, "h.example", &ec1),
	    line(b, sizeof b, "h.example", &ed1));
	T_CHECK((f = parse(text, NULL)) != NULL);
	T_EQ_INT(check(f, "h.example", 22, &ed2), KNOWNHOSTS_CHANGED);
	T_EQ_INT(check(f, "h.example", 22, &ec1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "h.example", 22, &ec384), KNOWNHOSTS_UNKNOWN); /* nistp384 is another type */
	T_EQ_INT(check(f, "h.example", 22, &rsa1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
}

static void test_port(void)
{
	char a[2048], b[2048], text[8192];
	struct knownhosts_file *f;

	snprintf(text, sizeof text, "%s%s", line(a, sizeof a, "[p.example]:2222", &ed1),
	    line(b, sizeof b, "q.example", &ed1));
	T_CHECK((f = parse(text, NULL)) != NULL);
	T_EQ_INT(check(f, "p.example", 2222, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "p.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "p.example", 2223, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "p.example", 222, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "q.example", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "q.example", 2222, &ed1), KNOWNHOSTS_UNKNOWN); /* port 22 entry, other port */
	knownhosts_free(f);
	/* "[host]:22" is never looked up: port 22 uses the bare name */
	T_CHECK((f = parse(line(text, sizeof text, "[r.example]:22", &ed1), NULL)) != NULL);
	T_EQ_INT(check(f, "r.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
	/* IPv6 literal */
	T_CHECK((f = parse(line(text, sizeof text, "[::1]:2200,::1", &ed1), NULL)) != NULL);
	T_EQ_INT(check(f, "::1", 2200, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "::1", 22, &ed1), KNOWNHOSTS_MATCH);
	knownhosts_free(f);
}

static void test_case_insensitive(void)
{
	char text[2048];
	struct knownhosts_file *f;

	T_CHECK((f = parse(line(text, sizeof text, "MiXeD.Example.COM,[UP.EXAMPLE]:2022", &ed1), NULL)) != NULL);
	T_EQ_INT(check(f, "mixed.example.com", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "MIXED.EXAMPLE.COM", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "up.example", 2022, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "Up.Example", 2022, &ed1), KNOWNHOSTS_MATCH);
	knownhosts_free(f);
}

static void test_wildcards(void)
{
	char text[2048];
	struct knownhosts_file *f;

	T_CHECK((f = parse(line(text, sizeof text, "*.example.com,host?.example.org,[10.0.0.*]:2222", &ed1),
		     NULL)) != NULL);
	T_EQ_INT(check(f, "a.example.com", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "a.b.example.com", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "example.com", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "a.example.com", 2222, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "host1.example.org", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "host.example.org", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "host12.example.org", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "10.0.0.7", 2222, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "10.0.0.77", 2222, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "10.0.0.7", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "10.0.1.7", 2222, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "a.example.com", 22, &ed2), KNOWNHOSTS_CHANGED);
	knownhosts_free(f);
	T_CHECK((f = parse(line(text, sizeof text, "*", &ed1), NULL)) != NULL);
	T_EQ_INT(check(f, "anything", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "anything", 2222, &ed1), KNOWNHOSTS_MATCH); /* "*" matches "[anything]:2222" */
	knownhosts_free(f);
	/* backtracking: several stars */
	T_CHECK((f = parse(line(text, sizeof text, "*a*b*c,x**y", &ed1), NULL)) != NULL);
	T_EQ_INT(check(f, "aaabbbccc", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "abcab", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "xy", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "xyz", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
}

static void test_negation_and_lists(void)
{
	char text[2048];
	struct knownhosts_file *f;

	T_CHECK((f = parse(line(text, sizeof text, "*.example.com,!bad.example.com,extra.example.net",
			       &ed1), NULL)) != NULL);
	T_EQ_INT(check(f, "good.example.com", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "bad.example.com", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "bad.example.com", 22, &ed2), KNOWNHOSTS_UNKNOWN); /* not "changed" either */
	T_EQ_INT(check(f, "extra.example.net", 22, &ed1), KNOWNHOSTS_MATCH);
	knownhosts_free(f);
	/* a negation alone matches nothing; order in the list does not matter */
	T_CHECK((f = parse(line(text, sizeof text, "!a.example", &ed1), NULL)) != NULL);
	T_EQ_INT(check(f, "a.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "b.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
	T_CHECK((f = parse(line(text, sizeof text, "![10.0.0.1]:2222,[10.0.0.*]:2222", &ed1), NULL)) != NULL);
	T_EQ_INT(check(f, "10.0.0.1", 2222, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "10.0.0.2", 2222, &ed1), KNOWNHOSTS_MATCH);
	knownhosts_free(f);
	/* empty list members are harmless */
	T_CHECK((f = parse(line(text, sizeof text, ",,a.example,,", &ed1), NULL)) != NULL);
	T_EQ_INT(check(f, "a.example", 22, &ed1), KNOWNHOSTS_MATCH);
	knownhosts_free(f);
}

/* A negated member too long to evaluate must not be skipped (that would let
 * the rest of the list match a host the file excludes): OpenSSH treats the
 * whole list as not matching. */
static void test_long_negation_fails_safe(void)
{
	char pat[1200], text[8192];
	struct knownhosts_file *f;

	pat[0] = '!';
	memset(pat + 1, '*', 1100);
	snprintf(pat + 1101, sizeof pat - 1101, ",*");
	T_CHECK((f = parse(line(text, sizeof text, pat, &ed1), NULL)) != NULL);
	T_EQ_INT(check(f, "victim.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
}

/* Host matching agrees with OpenSSH's: `ssh-keygen -F NAME` finds a line
 * exactly when knownhosts_check sees the host. */
static void test_agrees_with_ssh_keygen_F(void)
{
	static const char *const pats[] = {
		"plain.example", "*.wild.example", "h?.q.example", "[ported.example]:2222",
		"[10.1.2.*]:2200", "*.neg.example,!no.neg.example", "a.list,b.list,[c.list]:23",
		"!only.negated", "*a*b*", "Upper.Example", "[::1]:2200",
	};
	static const char *const names[] = {
		"plain.example", "x.wild.example", "wild.example", "h1.q.example", "h12.q.example",
		"[ported.example]:2222", "ported.example", "[10.1.2.3]:2200", "[10.1.3.3]:2200",
		"yes.neg.example", "no.neg.example", "a.list", "b.list", "[c.list]:23", "c.list",
		"only.negated", "xaybz", "upper.example", "[::1]:2200", "::1", "unrelated.example",
	};
	char path[128], cmd[512], text[8192], out[64];
	size_t i, off = 0;
	struct knownhosts_file *f;

	for (i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		char l[2048];
		line(l, sizeof l, pats[i], &ed1);
		off += (size_t)snprintf(text + off, sizeof text - off, "%s", l);
	}
	snprintf(path, sizeof path, "%s/kh_F", tmpdir);
	T_CHECK(write_file(path, text, off) == 0);
	T_CHECK((f = parse(text, NULL)) != NULL);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		char host[128];
		int port = 22, ours, theirs;
		const char *n = names[i];
		if (n[0] == '[') {
			const char *rb = strchr(n, ']');
			snprintf(host, sizeof host, "%.*s", (int)(rb - n - 1), n + 1);
			port = atoi(rb + 2);
		} else {
			snprintf(host, sizeof host, "%s", n);
		}
		snprintf(cmd, sizeof cmd, "ssh-keygen -F '%s' -f %s >/dev/null 2>&1 && echo found", n, path);
		run(cmd, out, sizeof out);
		theirs = !strcmp(out, "found");
		ours = check(f, host, port, &ed1) == KNOWNHOSTS_MATCH;
		if (ours != theirs) {
			fprintf(stderr, "%s: ours %d, ssh-keygen -F %d\n", n, ours, theirs);
			T_CHECK(ours == theirs);
		}
	}
	knownhosts_free(f);
}

/* Hashed entries produced by ssh-keygen -H, for port 22 and another port. */
static void test_hashed_by_ssh_keygen(void)
{
	char path[128], cmd[512], text[8192], a[2048], b[2048];
	struct knownhosts_file *f;
	char *hashed;
	size_t n = 0;
	int bad = -1;

	snprintf(path, sizeof path, "%s/kh_hash", tmpdir);
	snprintf(text, sizeof text, "%s%s", line(a, sizeof a, "hashed.example", &ed1),
	    line(b, sizeof b, "[hashed.example]:2222,other.example", &ec1));
	T_CHECK(write_file(path, text, strlen(text)) == 0);
	snprintf(cmd, sizeof cmd, "ssh-keygen -q -H -f %s >/dev/null 2>&1", path);
	T_CHECK(run(cmd, NULL, 0) == 0);
	T_CHECK((hashed = read_file(path, &n)) != NULL);
	if (!hashed)
		return;
	T_CHECK(strstr(hashed, "|1|") != NULL);
	T_CHECK(strstr(hashed, "hashed.example") == NULL);
	T_CHECK(knownhosts_parse(hashed, n, &f, &bad) == 0);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "hashed.example", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "HASHED.example", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "hashed.example", 22, &ed2), KNOWNHOSTS_CHANGED);
	T_EQ_INT(check(f, "hashed.example", 2222, &ec1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "hashed.example", 2222, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "other.example", 22, &ec1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "hashed.exampl", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "other.example", 2222, &ec1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
	free(hashed);
}

/* A hashed entry computed here: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
static void test_hashed_computed(void)
{
	unsigned char salt[20], mac[20];
	unsigned int maclen = 0;
	char s64[64], h64[64], text[8192];
	const char *name = "[computed.example]:2200";
	struct knownhosts_file *f;
	int bad = -1;
	size_t i;

	for (i = 0; i < sizeof salt; i++)
		salt[i] = (unsigned char)(i * 37 + 11);
	HMAC(EVP_sha1(), salt, sizeof salt, (const unsigned char *)name, strlen(name), mac, &maclen);
	T_EQ_INT(maclen, 20);
	EVP_EncodeBlock((unsigned char *)s64, salt, sizeof salt);
	EVP_EncodeBlock((unsigned char *)h64, mac, sizeof mac);
	snprintf(text, sizeof text, "|1|%s|%s %s %s\n", s64, h64, ed1.type, ed1.b64);
	T_CHECK((f = parse(text, &bad)) != NULL);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "computed.example", 2200, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "computed.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
	/* the salt must be 20 bytes, the hash 20 bytes, both valid base64 */
	snprintf(text, sizeof text,
	    "|1|AAAA|%s %s %s\n|1|%s|AAAA %s %s\n|1|%s %s %s\n|2|%s|%s %s %s\n|1|%s|%s! %s %s\n",
	    h64, ed1.type, ed1.b64, s64, ed1.type, ed1.b64, s64, ed1.type, ed1.b64, s64, h64,
	    ed1.type, ed1.b64, s64, h64, ed1.type, ed1.b64);
	T_CHECK((f = parse(text, &bad)) != NULL);
	T_EQ_INT(bad, 5);
	T_EQ_INT(check(f, "computed.example", 2200, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
}

static void test_revoked(void)
{
	char a[2048], b[2048], text[8192], algs[256];
	struct knownhosts_file *f;
	int bad = -1;

	/* revoked wins over a plain entry for the same key, in either order */
	snprintf(text, sizeof text, "%s@revoked %s", line(a, sizeof a, "r.example", &ed1),
	    line(b, sizeof b, "*", &ed1));
	T_CHECK((f = parse(text, &bad)) != NULL);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "r.example", 22, &ed1), KNOWNHOSTS_REVOKED);
	T_EQ_INT(check(f, "other.example", 2222, &ed1), KNOWNHOSTS_REVOKED);
	T_EQ_INT(check(f, "r.example", 22, &ed2), KNOWNHOSTS_CHANGED);
	knownhosts_known_algs(f, "r.example", 22, algs, sizeof algs);
	T_EQ_STR(algs, "ssh-ed25519");
	knownhosts_known_algs(f, "other.example", 22, algs, sizeof algs);
	T_EQ_STR(algs, ""); /* a revoked key is not a known one */
	knownhosts_free(f);
	snprintf(text, sizeof text, "@revoked %s%s", line(a, sizeof a, "r.example", &ed2),
	    line(b, sizeof b, "r.example", &ed1));
	T_CHECK((f = parse(text, NULL)) != NULL);
	T_EQ_INT(check(f, "r.example", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "r.example", 22, &ed2), KNOWNHOSTS_REVOKED);
	T_EQ_INT(check(f, "s.example", 22, &ed2), KNOWNHOSTS_UNKNOWN); /* revoked only for r.example */
	knownhosts_free(f);
	/* @revoked with a tab, and with a hashed host */
	snprintf(text, sizeof text, "@revoked\t%s", line(a, sizeof a, "t.example", &ec1));
	T_CHECK((f = parse(text, &bad)) != NULL);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "t.example", 22, &ec1), KNOWNHOSTS_REVOKED);
	knownhosts_free(f);
}

static void test_cert_authority_and_markers(void)
{
	char a[2048], b[2048], text[8192], algs[64];
	struct knownhosts_file *f;
	int bad = -1;

	snprintf(text, sizeof text, "@cert-authority %s@other-marker %s",
	    line(a, sizeof a, "*.example.com", &ed1), line(b, sizeof b, "*.example.com", &ed1));
	T_CHECK((f = parse(text, &bad)) != NULL);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "a.example.com", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_known_algs(f, "a.example.com", 22, algs, sizeof algs);
	T_EQ_STR(algs, "");
	knownhosts_free(f);
	/* "@revoked" alone, or "@revokedx" */
	T_CHECK((f = parse("@revoked\n@revoked   \n", &bad)) != NULL);
	T_EQ_INT(bad, 2);
	knownhosts_free(f);
}

static void test_malformed(void)
{
	char text[65536], good[2048], *p = text;
	struct knownhosts_file *f;
	int bad = -1, expect_bad = 0;
	size_t left = sizeof text;

#define ADD(...) do { int n_ = snprintf(p, left, __VA_ARGS__); p += n_; left -= (size_t)n_; } while (0)
#define BAD(...) do { ADD(__VA_ARGS__); expect_bad++; } while (0)
	ADD("%s", line(good, sizeof good, "good.example", &ed1));
	BAD("bad64.example %s AAAA!!!!\n", ed1.type);
	BAD("bad64b.example %s %.*s\n", ed1.type, (int)strlen(ed1.b64) - 1, ed1.b64);
	BAD("mismatch.example %s %s\n", ec1.type, ed1.b64);
	BAD("unknowntype.example ssh-foo %s\n", ed1.b64);
	BAD("cert.example ssh-ed25519-cert-v01@openssh.com %s\n", ed1.b64);
	BAD("nokey.example %s\n", ed1.type);
	BAD("notype.example\n");
	BAD("longtype.example %0100d %s\n", 7, ed1.b64);
	BAD("truncblob.example %s AAAAC3Nz\n", ed1.type);
	BAD("pad=mid.example %s AA==AAAA\n", ed1.type);
	ADD("# a comment\n   \n\t\n   # indented comment\n");
	ADD("%s", line(good, sizeof good, "good2.example", &ec1));
	/* a line with a NUL byte in it */
	ADD("nul.example %s %s", ed1.type, ed1.b64);
	*p++ = '\0';
	left--;
	BAD(" comment\n");
	/* a line longer than KNOWNHOSTS_MAX_LINE (a long comment after a valid key) */
	ADD("long.example %s %s ", ed1.type, ed1.b64);
	memset(p, 'c', KNOWNHOSTS_MAX_LINE);
	p += KNOWNHOSTS_MAX_LINE;
	left -= KNOWNHOSTS_MAX_LINE;
	BAD("\n");
	ADD("%s", line(good, sizeof good, "good3.example", &ed1));
#undef BAD
#undef ADD
	T_CHECK(knownhosts_parse(text, (size_t)(p - text), &f, &bad) == 0);
	T_EQ_INT(bad, expect_bad);
	T_EQ_INT(check(f, "good.example", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "good2.example", 22, &ec1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "good3.example", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "mismatch.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "mismatch.example", 22, &ec1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "nul.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "long.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	T_EQ_INT(check(f, "bad64.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
	/* bad_lines may be NULL */
	T_CHECK(knownhosts_parse("x y z\n", 6, &f, NULL) == 0);
	knownhosts_free(f);
}

static void test_line_length_limit(void)
{
	char *text = malloc(KNOWNHOSTS_MAX_LINE + 4096);
	size_t head;
	struct knownhosts_file *f;
	int bad = -1;

	if (!text)
		return;
	/* exactly KNOWNHOSTS_MAX_LINE bytes (without the newline): accepted */
	head = (size_t)snprintf(text, 4096, "edge.example %s %s ", ed1.type, ed1.b64);
	memset(text + head, 'c', KNOWNHOSTS_MAX_LINE - head);
	memcpy(text + KNOWNHOSTS_MAX_LINE, "\r\n", 2);
	T_CHECK(knownhosts_parse(text, KNOWNHOSTS_MAX_LINE + 2, &f, &bad) == 0);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "edge.example", 22, &ed1), KNOWNHOSTS_MATCH);
	knownhosts_free(f);
	/* one more byte: refused */
	text[KNOWNHOSTS_MAX_LINE] = 'c';
	memcpy(text + KNOWNHOSTS_MAX_LINE + 1, "\n", 1);
	T_CHECK(knownhosts_parse(text, KNOWNHOSTS_MAX_LINE + 2, &f, &bad) == 0);
	T_EQ_INT(bad, 1);
	T_EQ_INT(check(f, "edge.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
	free(text);
}

static void test_crlf_and_no_final_newline(void)
{
	char a[2048], b[2048], text[8192];
	struct knownhosts_file *f;
	int bad = -1;

	line(a, sizeof a, "crlf.example", &ed1);
	a[strlen(a) - 1] = '\0';
	line(b, sizeof b, "last.example", &ec1);
	b[strlen(b) - 1] = '\0';
	snprintf(text, sizeof text, "# comment\r\n%s\r\n\r\n%s", a, b);
	T_CHECK((f = parse(text, &bad)) != NULL);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "crlf.example", 22, &ed1), KNOWNHOSTS_MATCH);
	T_EQ_INT(check(f, "last.example", 22, &ec1), KNOWNHOSTS_MATCH);
	knownhosts_free(f);
	/* the buffer need not be NUL-terminated: LEN is the end */
	snprintf(text, sizeof text, "%sGARBAGE", line(a, sizeof a, "len.example", &ed1));
	T_CHECK(knownhosts_parse(text, strlen(a), &f, &bad) == 0);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "len.example", 22, &ed1), KNOWNHOSTS_MATCH);
	knownhosts_free(f);
}

static void test_empty(void)
{
	struct knownhosts_file *f = NULL;
	char algs[64] = "x";
	int bad = -1;

	T_CHECK(knownhosts_parse("", 0, &f, &bad) == 0);
	T_CHECK(f != NULL);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "any.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_known_algs(f, "any.example", 22, algs, sizeof algs);
	T_EQ_STR(algs, "");
	knownhosts_free(f);
	T_CHECK((f = parse("\n\n# only comments\n\r\n \t \n", &bad)) != NULL);
	T_EQ_INT(bad, 0);
	knownhosts_free(f);
	knownhosts_known_algs(NULL, "x", 22, algs, sizeof algs);
	T_EQ_STR(algs, "");
}

static void test_known_algs(void)
{
	char a[2048], text[8192], algs[256];
	struct knownhosts_file *f;
	size_t off = 0;

	/* file order ecdsa-256, rsa, ecdsa-384, ed25519 (twice), another host */
	off += (size_t)snprintf(text + off, sizeof text - off, "%s", line(a, sizeof a, "k.example", &ec1));
	off += (size_t)snprintf(text + off, sizeof text - off, "%s", line(a, sizeof a, "k.example", &rsa1));
	off += (size_t)snprintf(text + off, sizeof text - off, "%s", line(a, sizeof a, "*.example", &ec384));
	off += (size_t)snprintf(text + off, sizeof text - off, "%s", line(a, sizeof a, "k.example", &ed1));
	off += (size_t)snprintf(text + off, sizeof text - off, "%s", line(a, sizeof a, "k.example", &ed2));
	off += (size_t)snprintf(text + off, sizeof text - off, "%s", line(a, sizeof a, "[k.example]:2222", &ed1));
	T_CHECK((f = parse(text, NULL)) != NULL);
	/* strongest first, whatever the file order; no repeats */
	knownhosts_known_algs(f, "k.example", 22, algs, sizeof algs);
	T_EQ_STR(algs, "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ssh-rsa");
	knownhosts_known_algs(f, "K.EXAMPLE", 22, algs, sizeof algs);
	T_EQ_STR(algs, "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ssh-rsa");
	knownhosts_known_algs(f, "k.example", 2222, algs, sizeof algs);
	T_EQ_STR(algs, "ssh-ed25519");
	knownhosts_known_algs(f, "z.example", 22, algs, sizeof algs);
	T_EQ_STR(algs, "ecdsa-sha2-nistp384");
	knownhosts_known_algs(f, "none", 22, algs, sizeof algs);
	T_EQ_STR(algs, "");
	/* a short buffer holds whole names only, never overruns, and keeps
	 * the order */
	{
		static const char full[] = "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ssh-rsa";
		size_t len;
		for (len = 1; len < sizeof algs; len++) {
			char *tok, *save = NULL, copy[256];
			const char *at = full;
			memset(algs, 'x', sizeof algs);
			knownhosts_known_algs(f, "k.example", 22, algs, len);
			T_CHECK(strlen(algs) < len);
			T_CHECK(algs[len] == 'x' || len == sizeof algs - 1);
			snprintf(copy, sizeof copy, "%s", algs);
			for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				const char *hit = strstr(at, tok);
				T_CHECK(hit != NULL && (hit[strlen(tok)] == ',' || !hit[strlen(tok)]));
				if (hit)
					at = hit + strlen(tok);
			}
		}
	}
	knownhosts_free(f);
}

static void test_fingerprint(void)
{
	char fp[80];
	const struct key *keys[] = { &ed1, &ed2, &ec1, &ec384, &rsa1 };
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		knownhosts_fingerprint(keys[i]->blob, keys[i]->bloblen, fp, sizeof fp);
		T_EQ_STR(fp, keys[i]->fp);
	}
	/* a short buffer is truncated, never overrun */
	memset(fp, 'x', sizeof fp);
	knownhosts_fingerprint(ed1.blob, ed1.bloblen, fp, 10);
	T_EQ_INT((long long)strlen(fp), 9);
	T_EQ_INT(fp[11], 'x');
}

static void test_blob_type(void)
{
	unsigned char b[64];
	char out[40];

	knownhosts_blob_type(ed1.blob, ed1.bloblen, out, sizeof out);
	T_EQ_STR(out, "ssh-ed25519");
	knownhosts_blob_type(ec1.blob, ec1.bloblen, out, sizeof out);
	T_EQ_STR(out, "ecdsa-sha2-nistp256");
	knownhosts_blob_type(rsa1.blob, rsa1.bloblen, out, sizeof out);
	T_EQ_STR(out, "ssh-rsa");
	T_EQ_STR(knownhosts_type_label("ssh-ed25519"), "ED25519");
	T_EQ_STR(knownhosts_type_label("ecdsa-sha2-nistp384"), "ECDSA");
	T_EQ_STR(knownhosts_type_label("ssh-rsa"), "RSA");
	T_EQ_STR(knownhosts_type_label("ssh-dss"), "DSA");
	T_EQ_STR(knownhosts_type_label("x"), "UNKNOWN");
	/* too short for the length, or for the string it announces */
	knownhosts_blob_type(ed1.blob, 3, out, sizeof out);
	T_EQ_STR(out, "");
	knownhosts_blob_type(ed1.blob, 4 + 10, out, sizeof out);
	T_EQ_STR(out, "");
	knownhosts_blob_type(ed1.blob, 4 + 11, out, sizeof out);
	T_EQ_STR(out, "ssh-ed25519");
	/* the name must fit OUT with its NUL */
	knownhosts_blob_type(ed1.blob, ed1.bloblen, out, 11);
	T_EQ_STR(out, "");
	knownhosts_blob_type(ed1.blob, ed1.bloblen, out, 12);
	T_EQ_STR(out, "ssh-ed25519");
	/* zero length, huge length, embedded NUL */
	memset(b, 0, sizeof b);
	knownhosts_blob_type(b, sizeof b, out, sizeof out);
	T_EQ_STR(out, "");
	b[0] = 0xff;
	b[1] = 0xff;
	b[2] = 0xff;
	b[3] = 0xff;
	knownhosts_blob_type(b, sizeof b, out, sizeof out);
	T_EQ_STR(out, "");
	b[0] = b[1] = b[2] = 0;
	b[3] = 3;
	memcpy(b + 4, "a\0b", 3);
	knownhosts_blob_type(b, 7, out, sizeof out);
	T_EQ_STR(out, "");
}

static void test_load(void)
{
	char path[128], a[2048];
	struct knownhosts_file *f = NULL;
	int bad = -1;
	FILE *fp;

	snprintf(path, sizeof path, "%s/knownhosts_load", tmpdir);
	line(a, sizeof a, "load.example", &ed1);
	T_CHECK(write_file(path, a, strlen(a)) == 0);
	T_EQ_INT(knownhosts_load(path, &f, &bad), 0);
	T_EQ_INT(bad, 0);
	T_EQ_INT(check(f, "load.example", 22, &ed1), KNOWNHOSTS_MATCH);
	knownhosts_free(f);
	T_EQ_INT(write_file(path, "", 0), 0);
	T_EQ_INT(knownhosts_load(path, &f, &bad), 0);
	T_EQ_INT(check(f, "load.example", 22, &ed1), KNOWNHOSTS_UNKNOWN);
	knownhosts_free(f);
	snprintf(path, sizeof path, "%s/no_such_file", tmpdir);
	T_EQ_INT(knownhosts_load(path, &f, &bad), -ENOENT);
	T_EQ_INT(knownhosts_load(tmpdir, &f, &bad), -EISDIR);
	/* a file over KNOWNHOSTS_MAX_FILE is refused, one at the limit is read */
	snprintf(path, sizeof path, "%s/kh_big", tmpdir);
	if ((fp = fopen(path, "wb"))) {
		T_CHECK(ftruncate(fileno(fp), (off_t)KNOWNHOSTS_MAX_FILE + 1) == 0);
		fclose(fp);
		T_EQ_INT(knownhosts_load(path, &f, &bad), -EFBIG);
		T_CHECK(truncate(path, (off_t)KNOWNHOSTS_MAX_FILE) == 0);
		T_EQ_INT(knownhosts_load(path, &f, &bad), 0);
		T_EQ_INT(bad, 1); /* sixteen MB of NUL bytes: one bad line */
		knownhosts_free(f);
		unlink(path);
	}
}

int main(void)
{
	char cmd[128];

	snprintf(tmpdir, sizeof tmpdir, "/tmp/kh-unit.XXXXXX");
	if (!mkdtemp(tmpdir) || keygen(&ed1, "ed1", "-t ed25519") != 0 ||
	    keygen(&ed2, "ed2", "-t ed25519") != 0 || keygen(&ec1, "ec1", "-t ecdsa -b 256") != 0 ||
	    keygen(&ec384, "ec384", "-t ecdsa -b 384") != 0 ||
	    keygen(&rsa1, "rsa1", "-t rsa -b 2048") != 0) {
		printf("FAIL setup: cannot generate keys with ssh-keygen in %s\n", tmpdir);
		return 1;
	}
	T_RUN(test_plain);
	T_RUN(test_changed_and_matching_entries);
	T_RUN(test_port);
	T_RUN(test_case_insensitive);
	T_RUN(test_wildcards);
	T_RUN(test_negation_and_lists);
	T_RUN(test_long_negation_fails_safe);
	T_RUN(test_agrees_with_ssh_keygen_F);
	T_RUN(test_hashed_by_ssh_keygen);
	T_RUN(test_hashed_computed);
	T_RUN(test_revoked);
	T_RUN(test_cert_authority_and_markers);
	T_RUN(test_malformed);
	T_RUN(test_line_length_limit);
	T_RUN(test_crlf_and_no_final_newline);
	T_RUN(test_empty);
	T_RUN(test_known_algs);
	T_RUN(test_fingerprint);
	T_RUN(test_blob_type);
	T_RUN(test_load);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return T_EXIT();
}
