/*
 * b64.c — base64 and base64url encoding and strict decoding (contract and
 * the variants' rules in b64.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "b64.h"

static const char std_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of C in FLAGS' alphabet, or -1. */
static int val(unsigned char c, int flags)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == ((flags & B64_URL) ? '-' : '+'))
		return 62;
	if (c == ((flags & B64_URL) ? '_' : '/'))
		return 63;
	return -1;
}

size_t b64_encoded_len(size_t n, int flags)
{
	if (flags & B64_NOPAD)
		return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
	return (n + 2) / 3 * 4;
}

int b64_encode(const unsigned char *in, size_t n, int flags, char *out, size_t cap, size_t *outlen)
{
	const char *a = (flags & B64_URL) ? url_chars : std_chars;
	size_t i, o = 0, need;

	if (n > (((size_t)-1) - 3) / 4 * 3 || (need = b64_encoded_len(n, flags)) >= cap) {
		if (cap)
			out[0] = '\0';
		return -ENOSPC;
	}
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 0x3f];
		out[o++] = a[(v >> 6) & 0x3f];
		out[o++] = a[v & 0x3f];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 0x3f];
		if (!(flags & B64_NOPAD)) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 0x3f];
		out[o++] = a[(v >> 6) & 0x3f];
		if (!(flags & B64_NOPAD))
			out[o++] = '=';
	}
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return o == need ? 0 : -ENOSPC;
}

/* Validate; *DATA gets the number of characters that carry bits (the
 * padding taken off). */
static int check(const char *s, size_t n, int flags, size_t *data)
{
	size_t i, pad = 0;
	int v = 0;

	if (flags & B64_NOPAD) {
		if (n % 4 == 1)
			return -EINVAL;
	} else {
		if (n % 4 != 0)
			return -EINVAL;
		if (n && s[n - 1] == '=')
			pad = s[n - 2] == '=' ? 2 : 1;
	}
	for (i = 0; i < n - pad; i++)
		if ((v = val((unsigned char)s[i], flags)) < 0)
			return -EINVAL;
	if ((flags & B64_CANONICAL) && n - pad > 0) {
		if ((n - pad) % 4 == 2 && (v & 0x0f))
			return -EINVAL;
		if ((n - pad) % 4 == 3 && (v & 0x03))
			return -EINVAL;
	}
	*data = n - pad;
	return 0;
}

/* Decode the DATA checked characters of S into OUT; returns the length. */
static size_t decode(const char *s, size_t data, int flags, unsigned char *out)
{
	size_t i, o = 0;
	unsigned acc = 0;
	int bits = 0;

	for (i = 0; i < data; i++) {
		acc = (acc << 6) | (unsigned)val((unsigned char)s[i], flags);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o;
}

int b64_check(const char *s, size_t n, int flags)
{
	size_t data;

	return check(s, n, flags, &data);
}

int b64_decode(const char *s, size_t n, int flags, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t data, need;

	if (n == 0 || check(s, n, flags, &data) != 0)
		return -EINVAL;
	need = (flags & B64_NOPAD) ? data * 6 / 8 : n / 4 * 3;
	if (need > cap)
		return -EINVAL;
	*outlen = decode(s, data, flags, out);
	return 0;
}

int b64_decode_alloc(const char *s, size_t n, int flags, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t data, o;

	if (n == 0 || check(s, n, flags, &data) != 0)
		return -EINVAL;
	if (!(buf = malloc(n / 4 * 3 + 3)))
		return -ENOMEM;
	o = decode(s, data, flags, buf);
	buf[o] = 0;
	*out = buf;
	*outlen = o;
	return 0;
}
