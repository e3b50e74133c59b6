/*
 * shquote.h — POSIX single-quoting: a value as one sh word that no shell
 * expands, '...' with each ' written as '\'' (close, escaped quote, reopen).
 */
#ifndef COMMON_SHQUOTE_H
#define COMMON_SHQUOTE_H
#include <stddef.h>

/* Bytes S (LEN bytes) takes single-quoted, both quotes counted, the NUL
 * not; 0 when that would not fit in a size_t with room to spare. */
size_t shquote_len(const char *s, size_t len);

/* Write S (LEN bytes) single-quoted at DST (room for shquote_len bytes; no
 * NUL written). Returns the bytes written. */
size_t shquote_write(char *dst, const char *s, size_t len);

/* A malloc'ed, NUL-terminated single-quoted copy of the string S, or NULL
 * with errno EINVAL (S is NULL) or ENOMEM. */
char *shquote_dup(const char *s);
#endif
