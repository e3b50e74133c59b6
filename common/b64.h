/*
 * b64.h — base64 (RFC 4648 §4) and base64url (§5), encoding and strict
 * decoding, for both programs. One implementation; FLAGS pick the variant:
 *
 *   0                        standard alphabet (A-Z a-z 0-9 + /), padded:
 *                            the length is a multiple of 4 and one or two
 *                            '=' may end it (and only end it). The unused
 *                            bits of the last character are not checked.
 *   B64_URL                  the URL alphabet (A-Z a-z 0-9 - _) instead.
 *   B64_NOPAD                no '=' at all: encoding writes none, decoding
 *                            refuses one and takes any length but 4k+1.
 *   B64_CANONICAL            decoding also refuses non-zero unused bits in
 *                            the last character, so each byte string has
 *                            exactly one accepted spelling.
 *
 * Whitespace, line breaks and other bytes are never accepted.
 */
#ifndef COMMON_B64_H
#define COMMON_B64_H
#include <stddef.h>

#define B64_URL       0x1
#define B64_NOPAD     0x2
#define B64_CANONICAL 0x4

/* Bytes the encoding of N bytes takes under FLAGS, the NUL not counted. */
size_t b64_encoded_len(size_t n, int flags);

/* Encode IN (N bytes) into OUT (CAP bytes), NUL-terminated; *OUTLEN (may be
 * NULL) gets the length without the NUL. 0, or -ENOSPC when OUT is too small
 * (OUT is then the empty string if CAP > 0). */
int b64_encode(const unsigned char *in, size_t n, int flags, char *out, size_t cap, size_t *outlen);

/* 0 when S[0..N) is a valid encoding under FLAGS (the empty string is), or
 * -EINVAL. */
int b64_check(const char *s, size_t n, int flags);

/* Decode S[0..N) under FLAGS into OUT (CAP bytes); *OUTLEN gets the decoded
 * length. Padded variants need room for N/4*3 bytes (padding counted), the
 * others for the decoded length. 0, or -EINVAL (invalid input, or OUT too
 * small, or N is 0: every caller wants some bytes); nothing is written to
 * OUT on failure. */
int b64_decode(const char *s, size_t n, int flags, unsigned char *out, size_t cap, size_t *outlen);

/* Decode S[0..N) under FLAGS into a malloc'ed buffer *OUT, NUL-terminated
 * (the NUL not counted in *OUTLEN). 0, -EINVAL (invalid, or N is 0) or
 * -ENOMEM. */
int b64_decode_alloc(const char *s, size_t n, int flags, unsigned char **out, size_t *outlen);
#endif
