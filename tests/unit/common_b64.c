/*
 * common_b64.c — unit tests for common/b64.c: RFC 4648's test vectors in
 * every variant, and what each variant refuses (padding in the wrong place,
 * the other alphabet, whitespace, impossible lengths, non-canonical bits,
 * too small an output) without writing to the output.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/b64.h"
#include "t.h"

#define JWT (B64_URL | B64_NOPAD | B64_CANONICAL)

/* RFC 4648 section 10. */
static const struct { const char *in, *std; } vec[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void test_encode(void)
{
	char out[32], nopad[32];
	size_t i, n = 99;

	for (i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		size_t len = strlen(vec[i].in), k;
		T_EQ_INT(b64_encode((const unsigned char *)vec[i].in, len, 0, out, sizeof out, &n), 0);
		T_EQ_STR(out, vec[i].std);
		T_EQ_INT(n, strlen(vec[i].std));
		T_EQ_INT(b64_encoded_len(len, 0), n);
		snprintf(nopad, sizeof nopad, "%s", vec[i].std);
		for (k = strlen(nopad); k && nopad[k - 1] == '='; k--)
			nopad[k - 1] = '\0';
		T_EQ_INT(b64_encode((const unsigned char *)vec[i].in, len, B64_NOPAD, out, sizeof out, &n), 0);
		T_EQ_STR(out, nopad);
		T_EQ_INT(b64_encoded_len(len, B64_NOPAD), n);
	}
	/* The two alphabets differ in 62 and 63 only. */
	T_EQ_INT(b64_encode((const unsigned char *)"\xfb\xff", 2, 0, out, sizeof out, NULL), 0);
	T_EQ_STR(out, "+/8=");
	T_EQ_INT(b64_encode((const unsigned char *)"\xfb\xff", 2, JWT, out, sizeof out, NULL), 0);
	T_EQ_STR(out, "-_8");
	/* Room for the NUL too, or nothing. */
	T_EQ_INT(b64_encode((const unsigned char *)"foo", 3, 0, out, 4, NULL), -ENOSPC);
	T_EQ_STR(out, "");
	T_EQ_INT(b64_encode((const unsigned char *)"foo", 3, 0, out, 5, NULL), 0);
}

static void test_decode_std(void)
{
	unsigned char out[16];
	size_t i, n;

	for (i = 1; i < sizeof vec / sizeof vec[0]; i++) {
		n = 99;
		T_EQ_INT(b64_decode(vec[i].std, strlen(vec[i].std), 0, out, sizeof out, &n), 0);
		T_EQ_INT(n, strlen(vec[i].in));
		T_CHECK(memcmp(out, vec[i].in, n) == 0);
	}
	/* Unused bits are not checked in the padded variant ("Zh==" is "f" too). */
	T_EQ_INT(b64_decode("Zh==", 4, 0, out, sizeof out, &n), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(out[0], 'f');
	/* Room for N/4*3 bytes, padding counted. */
	T_EQ_INT(b64_decode("Zg==", 4, 0, out, 2, &n), -EINVAL);
	T_EQ_INT(b64_decode("Zg==", 4, 0, out, 3, &n), 0);
}

static void test_decode_refused(void)
{
	static const char *const bad_std[] = {
		"", "Zg", "Zg=", "Zm9", "Z===", "====", "Zg=a", "Z=g=", "=Zg=", "Zm9v\n", " Zm9v",
		"Zm 9v", "Zm-v", "Zm_v", "Zm9v====",
	};
	static const char *const bad_jwt[] = { "Z", "Zg==", "Zm8=", "Zm+v", "Zm/v", "Zh", "Zm9", "a b" };
	unsigned char out[16];
	size_t i, n;

	for (i = 0; i < sizeof bad_std / sizeof bad_std[0]; i++) {
		memset(out, 0xaa, sizeof out);
		n = 99;
		T_EQ_INT(b64_decode(bad_std[i], strlen(bad_std[i]), 0, out, sizeof out, &n), -EINVAL);
		T_EQ_INT(n, 99);
		T_EQ_INT(out[0], 0xaa);
	}
	for (i = 0; i < sizeof bad_jwt / sizeof bad_jwt[0]; i++)
		T_EQ_INT(b64_check(bad_jwt[i], strlen(bad_jwt[i]), JWT), -EINVAL);
}

static void test_decode_jwt(void)
{
	unsigned char *out = NULL;
	size_t n = 0;

	/* The empty part is a valid encoding, but there is nothing to decode. */
	T_EQ_INT(b64_check("", 0, JWT), 0);
	T_EQ_INT(b64_decode_alloc("", 0, JWT, &out, &n), -EINVAL);
	T_EQ_INT(b64_check("Zm8", 3, JWT), 0);
	T_EQ_INT(b64_check("Zm9", 3, JWT), -EINVAL); /* non-zero unused bits */
	T_EQ_INT(b64_check("Zm9", 3, B64_URL | B64_NOPAD), 0);
	T_EQ_INT(b64_decode_alloc("eyJhIjoxfQ", 10, JWT, &out, &n), 0);
	T_EQ_INT(n, 7);
	T_EQ_STR((char *)out, "{\"a\":1}");
	free(out);
	T_EQ_INT(b64_decode_alloc("-_8", 3, JWT, &out, &n), 0);
	T_EQ_INT(n, 2);
	T_CHECK(out[0] == 0xfb && out[1] == 0xff && out[2] == 0);
	free(out);
}

int main(void)
{
	T_RUN(test_encode);
	T_RUN(test_decode_std);
	T_RUN(test_decode_refused);
	T_RUN(test_decode_jwt);
	return T_EXIT();
}
