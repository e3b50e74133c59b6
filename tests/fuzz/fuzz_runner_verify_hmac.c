/*
 * fuzz_runner_verify_hmac.c — libFuzzer harness for runner/verify_hmac.c.
 *
 * Input layout: byte 0 is a presence mask for six headers; the rest is split
 * on '\n' into up to seven fields:
 *   0 x-hookdeck-signature     3 webhook-id
 *   1 x-hookdeck-signature-2   4 webhook-timestamp
 *   2 X-Hub-Signature-256      5 webhook-signature
 *   6 a secret string (fed to vhmac_secret_from_string for every scheme)
 * and whatever follows the seventh '\n' is the body (raw bytes). Every scheme
 * is verified with a fixed rotation set plus the fuzzed secret, at a fixed
 * "now" (the Standard Webhooks test vector's timestamp). Then, as a property:
 * whatever vhmac_sign produces must verify.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../runner/verify_hmac.h"

#define NF 7
#define NOW 1614265330

static const char *names[6] = { "x-hookdeck-signature", "x-hookdeck-signature-2",
	"X-Hub-Signature-256", "webhook-id", "webhook-timestamp", "webhook-signature" };

struct fz {
	char *val[6];
	int present[6];
};

static const char *fz_get(void *ctx, const char *name)
{
	struct fz *f = ctx;
	int i;

	for (i = 0; i < 6; i++)
		if (f->present[i] && strcasecmp(name, names[i]) == 0)
			return f->val[i];
	return NULL;
}

/* Sign with SEC and check that the result verifies; abort if not. */
static void roundtrip(enum vhmac_scheme s, const struct vhmac_secret *sec, const uint8_t *body,
    size_t len, const char *id)
{
	struct fz f = { { NULL }, { 0 } };
	struct hdr_src h = { fz_get, &f };
	char sig[128], ts[] = "1614265330";

	if (vhmac_sign(s, sec, body, len, id, NOW, sig, sizeof sig) != 0)
		return;
	if (s == VHMAC_HOOKDECK) {
		f.val[0] = sig;
		f.present[0] = 1;
	} else if (s == VHMAC_GITHUB) {
		f.val[2] = sig;
		f.present[2] = 1;
	} else {
		f.val[3] = (char *)id;
		f.val[4] = ts;
		f.val[5] = sig;
		f.present[3] = f.present[4] = f.present[5] = 1;
	}
	if (vhmac_verify(s, sec, 1, body, len, &h, NOW, 0, NULL) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *fixed[3][2] = {
		{ "It's a Secret to Everybody", "other" },
		{ "It's a Secret to Everybody", "other" },
		{ "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		    "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==" },
	};
	char *field[NF] = { NULL };
	struct fz f = { { NULL }, { 0 } };
	struct hdr_src h = { fz_get, &f };
	struct vhmac_secret sec[3];
	const uint8_t *p, *end, *body;
	size_t blen;
	int i, s, mask;

	if (size < 1)
		return 0;
	mask = data[0];
	p = data + 1;
	end = data + size;
	for (i = 0; i < NF; i++) {
		const uint8_t *nl = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const uint8_t *stop = nl ? nl : end;
		size_t n = (size_t)(stop - p);
		if (!(field[i] = malloc(n + 1)))
			goto out;
		memcpy(field[i], p, n);
		field[i][n] = '\0';
		p = nl ? nl + 1 : end;
	}
	body = p;
	blen = (size_t)(end - p);
	for (i = 0; i < 6; i++) {
		f.val[i] = field[i];
		f.present[i] = (mask >> i) & 1;
	}

	for (s = VHMAC_HOOKDECK; s <= VHMAC_STANDARD; s++) {
		enum vhmac_reason why = VHMAC_NREASONS;
		int rc, n = 0;
		memset(sec, 0, sizeof sec);
		for (i = 0; i < 2; i++)
			if (vhmac_secret_from_string((enum vhmac_scheme)s, fixed[s - 1][i], &sec[n]) == 0)
				n++;
		if (vhmac_secret_from_string((enum vhmac_scheme)s, field[6], &sec[n]) == 0)
			n++;
		rc = vhmac_verify((enum vhmac_scheme)s, sec, (size_t)n, body, blen, &h, NOW, 300, &why);
		if ((rc != 0 && rc != -EACCES) || (rc == 0) != (why == VHMAC_OK) ||
		    strcmp(vhmac_reason_name(why), "error") == 0)
			abort(); /* only the documented results for valid arguments */
		for (i = 0; i < n; i++)
			roundtrip((enum vhmac_scheme)s, &sec[i], body, blen, field[3]);
		for (i = 0; i < n; i++)
			vhmac_secret_clear(&sec[i]);
	}
out:
	for (i = 0; i < NF; i++)
		free(field[i]);
	return 0;
}
