/*
 * utf8.c — well-formed UTF-8 (RFC 3629). Owns: the one check every value
 * from a request passes before a command line is built from it.
 */
#ifndef UTF8_H
#define UTF8_H
#include <stddef.h>

/* 1 when the NUL-terminated S is well-formed UTF-8: no stray continuation
 * byte, no truncated or overlong form, no UTF-16 surrogate, nothing past
 * U+10FFFF; else 0. */
int utf8_valid(const char *s);

/* The length (1..4) of the well-formed sequence that starts P (LEN bytes
 * there), or 0 when P starts no well-formed sequence within LEN. */
size_t utf8_seq(const unsigned char *p, size_t len);
#endif
