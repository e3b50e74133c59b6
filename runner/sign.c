/*
 * sign.c — `webhook-runner sign` (contract in sign.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "sign.h"
#include "../common/randid.h"
#include "../common/readfile.h"

static const char sign_usage[] =
"usage: webhook-runner sign --config FILE --hook ID [options] PAYLOAD_FILE\n"
"Print the request headers for PAYLOAD_FILE, one per line, e.g.:\n"
"  webhook-runner sign --config c.json --hook deploy body.json > h.txt\n"
"  curl -H @h.txt --data-binary @body.json http://127.0.0.1:8080/hooks/deploy\n"
"Options:\n"
"  --idempotency-key KEY  the key to send (default: a random one)\n"
"  --claims JSON          JWT claims, merged over the hook's iss/aud/sub/claims,\n"
"                         iat=now, exp=now+ttl, and a random jti when the hook\n"
"                         is single_use\n"
"  --ttl SEC              token lifetime (default 300)\n"
"  --jwt-key FILE         private key PEM for RS*/ES* hooks (HS* use the\n"
"                         configured secret)\n"
"  --timestamp UNIX       signing time for standard-webhooks (default now)\n";

/* Files sign reads: a key or a request body, at most this many bytes. */
#define SIGN_FILE_MAX (64u << 20)

/* The hook's token as its policy would accept it. */
static int make_token(const struct cfg_hook *h, const char *claims_arg, long ttl,
    const char *keyfile, char **out)
{
	cJSON *c = cJSON_CreateObject(), *extra = NULL, *it;
	unsigned char *key = NULL;
	size_t keylen = 0, i;
	const char *alg = NULL;
	char *json = NULL, *k = NULL;
	static const char *const names[] = { "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
		"ES256", "ES384", "ES512" };
	int rc = -EINVAL;
	time_t now = time(NULL);

	for (i = 0; i < sizeof names / sizeof names[0] && !alg; i++)
		if (h->jwt.algs & vjwt_alg_bit(names[i]))
			alg = names[i];
	if (h->jwt.iss)
		cJSON_AddStringToObject(c, "iss", h->jwt.iss);
	if (h->jwt.aud)
		cJSON_AddStringToObject(c, "aud", h->jwt.aud);
	if (h->jwt.sub)
		cJSON_AddStringToObject(c, "sub", h->jwt.sub);
	for (i = 0; i < h->jwt.nclaims; i++)
		cJSON_AddStringToObject(c, h->jwt.claims[i].name, h->jwt.claims[i].value);
	cJSON_AddNumberToObject(c, "iat", (double)now);
	cJSON_AddNumberToObject(c, "exp", (double)(now + ttl));
	if (h->jwt.single_use) { /* a fresh id per token; --claims may set its own */
		char jti[33];
		randid_hex(jti, 16, 0x5a);
		cJSON_AddStringToObject(c, "jti", jti);
	}
	if (claims_arg) {
		if (!cJSON_IsObject(extra = cJSON_Parse(claims_arg))) {
			fprintf(stderr, "webhook-runner sign: --claims must be a JSON object\n");
			goto out;
		}
		cJSON_ArrayForEach(it, extra) {
			cJSON_DeleteItemFromObjectCaseSensitive(c, it->string);
			cJSON_AddItemToObject(c, it->string, cJSON_Duplicate(it, 1));
		}
	}
	if (h->jwt.kind == VJWT_KEY_HMAC) {
		key = h->jwt.key;
		keylen = h->jwt.keylen;
	} else {
		if (!keyfile) {
			fprintf(stderr, "webhook-runner sign: hook %s uses %s: give the private key with "
					"--jwt-key FILE\n", h->id, alg);
			goto out;
		}
		if ((rc = readfile_read(keyfile, SIGN_FILE_MAX, &k, &keylen)) != 0) {
			fprintf(stderr, "webhook-runner sign: %s: %s\n", keyfile, strerror(-rc));
			rc = -EINVAL;
			goto out;
		}
		key = (unsigned char *)k;
	}
	if (!(json = cJSON_PrintUnformatted(c)))
		goto out;
	if ((rc = vjwt_sign(alg, key, keylen, json, out)) != 0)
		fprintf(stderr, "webhook-runner sign: cannot sign the token with %s\n", alg);
out:
	if (k) {
		explicit_bzero(k, keylen);
		free(k);
	}
	free(json);
	cJSON_Delete(extra);
	cJSON_Delete(c);
	return rc;
}

int sign_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "hook", required_argument, NULL, 'H' },
		{ "idempotency-key", required_argument, NULL, 'k' },
		{ "claims", required_argument, NULL, 'C' }, { "ttl", required_argument, NULL, 't' },
		{ "jwt-key", required_argument, NULL, 'j' }, { "timestamp", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL, *hookid = NULL, *idem = NULL, *claims = NULL, *jwtkey = NULL;
	long ttl = 300;
	long long ts = (long long)time(NULL);
	struct config *cfg = NULL;
	const struct cfg_hook *h;
	char err[512], key[40], sig[512], *body = NULL, *tok = NULL, *end;
	size_t len = 0;
	int c, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'H': hookid = optarg; break;
		case 'k': idem = optarg; break;
		case 'C': claims = optarg; break;
		case 'j': jwtkey = optarg; break;
		case 't':
			ttl = strtol(optarg, &end, 10);
			if (*end || ttl < 1 || ttl > 86400 * 365) {
				fprintf(stderr, "webhook-runner sign: bad --ttl\n");
				return 2;
			}
			break;
		case 'T':
			ts = strtoll(optarg, &end, 10);
			if (*end || ts < 0) {
				fprintf(stderr, "webhook-runner sign: bad --timestamp\n");
				return 2;
			}
			break;
		case 'h': fputs(sign_usage, stdout); return 0;
		default: fputs(sign_usage, stderr); return 2;
		}
	}
	if (!cfgpath || !hookid || optind != argc - 1) {
		fputs(sign_usage, stderr);
		return 2;
	}
	if (config_load(cfgpath, &cfg, err, sizeof err) != 0) {
		fprintf(stderr, "webhook-runner sign: %s\n", err);
		return 1;
	}
	if (!(h = config_hook(cfg, hookid))) {
		fprintf(stderr, "webhook-runner sign: no hook \"%s\" in %s\n", hookid, cfgpath);
		goto out;
	}
	if ((rc = readfile_read(argv[optind], SIGN_FILE_MAX, &body, &len)) != 0) {
		fprintf(stderr, "webhook-runner sign: %s: %s\n", argv[optind], strerror(-rc));
		rc = 1;
		goto out;
	}
	if (!idem) {
		memcpy(key, "evt_", 4);
		randid_hex(key + 4, 12, 0x5a);
		idem = key;
	}
	rc = 1;
	if (vhmac_sign(h->scheme, &h->secrets[0], (unsigned char *)body, len, idem, ts, sig, sizeof sig)) {
		fprintf(stderr, "webhook-runner sign: cannot sign the payload\n");
		goto out;
	}
	if (h->has_jwt && make_token(h, claims, ttl, jwtkey, &tok) != 0)
		goto out;
	printf("Content-Type: application/json\n");
	if (h->scheme == VHMAC_STANDARD)
		printf("webhook-id: %s\nwebhook-timestamp: %lld\n", idem, ts);
	printf("%s: %s\n", vhmac_header_name(h->scheme), sig);
	if (tok && h->token_from == TOKEN_BEARER)
		printf("Authorization: Bearer %s\n", tok);
	else if (tok && h->token_from == TOKEN_HEADER)
		printf("%s: %s\n", h->token_name, tok);
	else if (tok)
		fprintf(stderr, "# add to the URL: ?%s=%s\n", h->token_name, tok);
	if (h->scheme != VHMAC_STANDARD || strcmp(h->idem_headers[0], "webhook-id") != 0)
		printf("%s: %s\n", h->idem_headers[0], idem);
	rc = 0;
out:
	if (tok) {
		explicit_bzero(tok, strlen(tok));
		free(tok);
	}
	free(body);
	config_free(cfg);
	return rc;
}
