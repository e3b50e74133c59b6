/*
 * fuzz_runner_intake.c — libFuzzer harness for the whole webhook intake
 * (runner/route_hooks.c and runner/intake.c): headers and a body, as the
 * HTTP adapter frames them, go through routing, the caps, the signature,
 * the JWT, the idempotency key, the template and the claim, against a real
 * store in a temporary directory made once per process. Every hook is
 * async, so a delivery that passes is queued (no worker runs it) and
 * nothing is ever executed; jwth also has an approval, so its deliveries
 * wait as pending_approval (and a copy of one gets the same 202).
 *
 * Input layout:
 *   byte 0   flags: bit 0 sign the body (a correct X-Hub-Signature-256 is
 *            added after the input's headers), bit 1 add a valid JWT where
 *            the hook takes it, bits 2-3 the hook (gh, jwt, jwtq, jwth),
 *            bit 4 method GET, bit 5 draining, bit 6 no Content-Length
 *            (chunked), bit 7 a path below the hook (unknown)
 *   then     the query string, up to "\n"
 *   then     header lines "Name: value" ("\n"-separated) up to "\n\n"
 *   then     the body (raw bytes), read back in small uneven pieces
 * FUZZ_INTAKE_TRACE set in the environment prints each answer on stderr.
 * A "Content-Length" header among the input's sets the length announced
 * (a lie makes a short or long read).
 *
 * Oracles (any breach aborts):
 *  - the answer is one the pipeline gives (never 500) and its body is a
 *    JSON object; a refusal carries the request's id;
 *  - 202 (queued) only for a body whose signature an independent HMAC
 *    check accepts, with a JWT where the hook wants one, a printable key,
 *    decision new or retry, a job id and its Location;
 *  - a replay only for a verified delivery;
 *  - the body is left unread only for answers given before it is needed
 *    (404, 405, 401 without a signature header, 413 announced, 503);
 *  - draining answers 503 and closes; a hook refuses any method but POST.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../runner/cfggen.h"
#include "../../runner/config.h"
#include "../../runner/intake.h"
#include "../../runner/log.h"
#include "../../runner/queue.h"
#include "../../runner/route_hooks.h"
#include "../../runner/slots.h"
#include "../../runner/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: check failed: %s\n", \
	__FILE__, __LINE__, #c); abort(); } } while (0)

#define MAXH 40
#define GH_SECRET "fuzz-intake-github-secret"
#define JWT_KEY "fuzz-intake-hs256-key-0123456789abcdef"

static const char *const hook_ids[] = { "gh", "jwt", "jwtq", "jwth" };

static const char config_fmt[] =
    "{\"server\": {\"listen\": \"127.0.0.1:1\", \"max_body_bytes\": 4096},"
    " \"store\": {\"path\": \"%s/store.db\"},"
    " \"executor\": {\"path\": \"/bin/true\", \"max_queued\": 1000000},"
    " \"log\": {\"level\": \"error\"},"
    " \"hooks\": ["
    "  {\"id\": \"gh\", \"signature\": {\"scheme\": \"github\", \"secrets\": [\"file:%s/gh\"]},"
    "   \"job\": {\"destination\": \"u@h\", \"identity\": \"/k\", \"known_hosts\": \"/kh\","
    "    \"mode\": \"async\", \"command\": \"echo {{ref}}\", \"params\": {\"ref\":"
    "     {\"from\": \"payload\", \"path\": \"ref\", \"pattern\": \"[a-z0-9/]+\"}}}},"
    "  {\"id\": \"jwt\", \"signature\": {\"scheme\": \"github\", \"secrets\": [\"file:%s/gh\"]},"
    "   \"jwt\": {\"algorithms\": [\"HS256\"], \"key\": \"file:%s/jwt\", \"issuer\": \"ci\","
    "    \"audience\": \"runner\"},"
    "   \"idempotency\": {\"dedupe_body\": false},"
    "   \"job\": {\"destination\": \"u@h\", \"identity\": \"/k\", \"known_hosts\": \"/kh\","
    "    \"mode\": \"async\", \"command\": \"echo {{env}}\", \"params\": {\"env\":"
    "     {\"from\": \"jwt\", \"claim\": \"env\", \"pattern\": \"[a-z]+\", \"default\": \"none\"}}}},"
    "  {\"id\": \"jwtq\", \"signature\": {\"scheme\": \"github\", \"secrets\": [\"file:%s/gh\"]},"
    "   \"jwt\": {\"algorithms\": [\"HS256\"], \"key\": \"file:%s/jwt\", \"issuer\": \"ci\","
    "    \"audience\": \"runner\", \"token\": {\"query\": \"access_token\"}},"
    "   \"job\": {\"destination\": \"u@h\", \"identity\": \"/k\", \"known_hosts\": \"/kh\","
    "    \"mode\": \"async\", \"command\": \"echo {{r}}\", \"params\": {\"r\":"
    "     {\"from\": \"header\", \"name\": \"X-Ref\", \"pattern\": \"[a-z]+\", \"default\": \"x\"}}}},"
    "  {\"id\": \"jwth\", \"signature\": {\"scheme\": \"github\", \"secrets\": [\"file:%s/gh\"]},"
    "   \"jwt\": {\"algorithms\": [\"HS256\"], \"key\": \"file:%s/jwt\", \"issuer\": \"ci\","
    "    \"audience\": \"runner\", \"token\": {\"header\": \"X-Token\"}, \"single_use\": true},"
    "   \"job\": {\"destination\": \"u@h\", \"identity\": \"/k\", \"known_hosts\": \"/kh\","
    "    \"mode\": \"async\", \"command\": \"true\"},"
    "   \"approval\": {\"approvers\": [\"U1AAA\"], \"allow_self_approval\": true}}"
    " ]}";

static char dir[64] = "/tmp/fuzz_runner_intake.XXXXXX";
static struct intake_env env;

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	CHECK((f = fopen(path, "w")) != NULL);
	CHECK(fputs(text, f) >= 0);
	CHECK(fclose(f) == 0);
}

static void cleanup(void)
{
	static const char *const names[] = { "gh", "jwt", "config.json", "store.db", "store.db-wal",
		"store.db-shm", "store.db-journal" };
	char path[128];
	size_t i;

	store_close(env.store);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void setup(void)
{
	struct config *cfg = NULL;
	char text[sizeof config_fmt + 8 * sizeof dir], path[128], err[512];
	int n;

	CHECK(mkdtemp(dir) != NULL);
	umask(077);
	write_file("gh", GH_SECRET);
	write_file("jwt", JWT_KEY);
	snprintf(text, sizeof text, config_fmt, dir, dir, dir, dir, dir, dir, dir, dir);
	write_file("config.json", text);
	snprintf(path, sizeof path, "%s/config.json", dir);
	if (config_load(path, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_runner_intake: config: %s\n", err);
		abort();
	}
	log_setup(LOG_ERROR, LOG_TEXT);
	CHECK(store_open(&(struct store_config){ .sqlite_path = cfg->store_path }, &env.store, 1, &n,
	    NULL) == 0);
	CHECK(slots_new(cfg->max_jobs, cfg->max_per_destination, &env.slots) == 0);
	CHECK(queue_new(env.store, 1, &env.queue) == 0);
	CHECK(cfggen_new(cfg, &env.gens) == 0);
	atexit(cleanup);
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* Independent: "sha256=" + HMAC-SHA256(secret, body) in lower-case hex. */
static void gh_sign(const char *body, size_t len, char out[72])
{
	unsigned char mac[32];
	unsigned int n = sizeof mac;

	CHECK(HMAC(EVP_sha256(), GH_SECRET, sizeof GH_SECRET - 1, (const unsigned char *)body, len,
	    mac, &n) != NULL && n == 32);
	memcpy(out, "sha256=", 7);
	hex(mac, 32, out + 7);
}

/* 1 when V is a GitHub signature of BODY (hex in either case). */
static int gh_good(const char *v, const char *body, size_t len)
{
	char want[72];

	gh_sign(body, len, want);
	return v && strlen(v) == 71 && !strncmp(v, "sha256=", 7) && !strcasecmp(v + 7, want + 7);
}

static void b64url(const unsigned char *in, size_t n, char *out)
{
	int k = EVP_EncodeBlock((unsigned char *)out, in, (int)n), i;

	while (k > 0 && out[k - 1] == '=')
		k--;
	out[k] = '\0';
	for (i = 0; i < k; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

/* A valid HS256 token for the hooks' policy (a fresh jti every time). */
static void mint_jwt(char *out, size_t cap)
{
	static unsigned long seq;
	static const char head[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	char claims[256], h64[64], c64[400], input[480], s64[64];
	unsigned char mac[32];
	unsigned int n = sizeof mac;
	long now = (long)time(NULL);

	snprintf(claims, sizeof claims, "{\"iss\":\"ci\",\"aud\":\"runner\",\"env\":\"prod\","
	    "\"iat\":%ld,\"exp\":%ld,\"jti\":\"j%lu-%ld\"}", now, now + 300, ++seq, (long)getpid());
	b64url((const unsigned char *)head, strlen(head), h64);
	b64url((const unsigned char *)claims, strlen(claims), c64);
	snprintf(input, sizeof input, "%s.%s", h64, c64);
	CHECK(HMAC(EVP_sha256(), JWT_KEY, sizeof JWT_KEY - 1, (const unsigned char *)input,
	    strlen(input), mac, &n) != NULL);
	b64url(mac, 32, s64);
	snprintf(out, cap, "%s.%s", input, s64);
}

/* The body, handed out a few bytes at a time. */
struct body {
	const char *p;
	size_t len, off;
	unsigned step;
};

static int body_read(void *io, char *buf, size_t len)
{
	struct body *b = io;
	size_t n = 1 + (b->step++ * 7) % 13;

	if (n > len)
		n = len;
	if (n > b->len - b->off)
		n = b->len - b->off;
	memcpy(buf, b->p + b->off, n);
	b->off += n;
	return (int)n;
}

static const char *first(const struct intake_header *h, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(h[i].name, name))
			return h[i].value;
	return NULL;
}

static int known_status(int s)
{
	static const int ok[] = { 202, 400, 401, 403, 404, 405, 409, 413, 422, 429, 503 };
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (s == ok[i])
			return 1;
	return 0;
}

static void check_answer(const struct intake_req *rq, const struct intake_answer *a, int flags,
    const char *body, size_t len, int has_token)
{
	const char *sig = first(rq->headers, rq->nheaders, "X-Hub-Signature-256");
	cJSON *j, *rid;
	char loc[64];
	size_t i;

	CHECK(a->body != NULL && a->len == strlen(a->body));
	CHECK(known_status(a->status));
	CHECK((j = cJSON_Parse(a->body)) != NULL && cJSON_IsObject(j));
	rid = cJSON_GetObjectItemCaseSensitive(j, "request_id");
	if (a->status != 202 && !(a->decision && !strcmp(a->decision, "replay")))
		CHECK(cJSON_IsString(rid) && !strcmp(rid->valuestring, rq->id) &&
		    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "error")));
	cJSON_Delete(j);
	if (flags & 0xa0) {
		CHECK(a->status == (flags & 0x80 ? 404 : 503));
		CHECK(a->status == 404 || a->close);
		return;
	}
	if (flags & 0x10)
		CHECK(a->status == 405);
	if (a->status == 202 || (a->decision && !strcmp(a->decision, "replay"))) {
		CHECK(a->body_read && gh_good(sig, body, len));
		CHECK(a->verify && !strcmp(a->verify, "ok"));
		CHECK(has_token || !strcmp(a->hook, "gh"));
	}
	if (a->status == 202) {
		/* jwth waits for approval: a copy of a pending delivery gets its 202 again */
		CHECK(a->decision && (!strcmp(a->decision, "new") || !strcmp(a->decision, "retry") ||
		    (!strcmp(a->decision, "busy") && !strcmp(a->hook, "jwth"))));
		CHECK(a->job_id > 0 && a->key[0]);
		for (i = 0; a->key[i]; i++)
			CHECK((unsigned char)a->key[i] >= 0x21 && (unsigned char)a->key[i] <= 0x7e);
		snprintf(loc, sizeof loc, "Location: /jobs/%lld\r\n", (long long)a->job_id);
		CHECK(!strcmp(a->extra, loc));
	}
	if (!a->body_read)
		CHECK(a->status == 405 || a->status == 413 ||
		    (a->status == 401 && a->verify && !strcmp(a->verify, "signature:missing")) ||
		    a->status == 400 /* the body could not be read to its announced end */);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct intake_header hd[MAXH];
	struct intake_req rq;
	struct intake_answer a;
	struct body b = { 0 };
	char *copy, *p, *q, *nl, *body, path[64], sig[72], tok[1024], query[2048];
	const char *cl;
	size_t len;
	int flags, n = 0, has_token = 0;

	if (!init) {
		setup();
		init = 1;
	}
	if (size < 1 || size > 16384)
		return 0;
	flags = data[0];
	CHECK((copy = malloc(size)) != NULL);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	len = size - 1;
	/* The query line. */
	q = copy;
	nl = memchr(copy, '\n', len);
	p = nl ? nl + 1 : copy + len;
	if (nl)
		*nl = '\0';
	else
		q = NULL;
	/* The header lines, up to an empty line. */
	while (p < copy + len && *p != '\n' && n < MAXH - 2) {
		char *colon;
		nl = memchr(p, '\n', (size_t)(copy + len - p));
		if (!nl)
			break;
		*nl = '\0';
		if ((colon = strchr(p, ':'))) {
			*colon = '\0';
			for (colon++; *colon == ' '; colon++)
				;
			hd[n].name = p;
			hd[n].value = colon;
			n++;
		}
		p = nl + 1;
	}
	if (p < copy + len && *p == '\n')
		p++;
	body = p;
	b.p = body;
	b.len = (size_t)(copy + len - body);
	if (flags & 1) {
		gh_sign(b.p, b.len, sig);
		hd[n].name = "X-Hub-Signature-256";
		hd[n++].value = sig;
	}
	snprintf(query, sizeof query, "%s", q ? q : "");
	if (flags & 2) {
		int hook = (flags >> 2) & 3;
		mint_jwt(tok + 7, sizeof tok - 7);
		if (hook == 1) {
			memcpy(tok, "Bearer ", 7);
			hd[n].name = "Authorization";
			hd[n++].value = tok;
		} else if (hook == 2) {
			snprintf(query, sizeof query, "%s%saccess_token=%s", q ? q : "", q && *q ? "&" : "",
			    tok + 7);
		} else if (hook == 3) {
			hd[n].name = "X-Token";
			hd[n++].value = tok + 7;
		}
	}
	has_token = first(hd, n, "Authorization") || first(hd, n, "X-Token") ||
	    strcasestr(query, "access_token=");
	snprintf(path, sizeof path, "/hooks/%s%s", hook_ids[(flags >> 2) & 3], flags & 0x80 ? "/x" : "");

	memset(&rq, 0, sizeof rq);
	rq.method = flags & 0x10 ? "GET" : "POST";
	rq.path = path;
	rq.query = q || query[0] ? query : NULL;
	rq.headers = hd;
	rq.nheaders = n;
	cl = first(hd, n, "Content-Length");
	rq.content_length = cl ? strtoll(cl, NULL, 10) : flags & 0x40 ? -1 : (long long)b.len;
	if (rq.content_length < -1)
		rq.content_length = -1;
	rq.read = body_read;
	rq.io = &b;
	rq.remote_addr = "127.0.0.1";
	rq.id = "00112233aabbccdd";
	rq.draining = !!(flags & 0x20);
	intake_answer_init(&a);
	route_hooks_handle(&env, &rq, &a);
	if (getenv("FUZZ_INTAKE_TRACE")) /* what each input got, to write seeds by */
		fprintf(stderr, "%d %s %s %s\n", a.status, a.verify ? a.verify : "-",
		    a.decision ? a.decision : "-", a.body ? a.body : "-");
	check_answer(&rq, &a, flags, b.p, b.off, has_token);
	intake_answer_clear(&a);
	free(copy);
	return 0;
}
