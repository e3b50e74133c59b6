/*
 * query.c — one parameter of a URL query string ("a=1&b=2"), decoded as
 * form data: the lookup a JWT taken from the query (jwt.token.query) goes
 * through. It behaves as CivetWeb's mg_get_var, byte for byte (a fuzz
 * harness holds the two to it), without depending on the HTTP library.
 */
#ifndef QUERY_H
#define QUERY_H
#include <stddef.h>

/* The first parameter called NAME (matched case-insensitively) in the
 * LEN bytes of Q, decoded ('+' a space, %XX a byte, anything else as is)
 * into DST, NUL-terminated, with its length in *OUTLEN. -ENOENT when there
 * is none (DST is then ""), -ERANGE when its value does not fit in DSTLEN
 * bytes with the NUL (DST then holds a cut copy, never to be used). */
int query_param(const char *q, size_t len, const char *name, char *dst, size_t dstlen, size_t *outlen);
#endif
