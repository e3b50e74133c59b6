/*
 * readfile.h — reading a whole, bounded file into memory for callers that
 * may be holding a secret in it (configuration, secret files, known_hosts):
 * every buffer the read outgrows is wiped before it is freed.
 */
#ifndef COMMON_READFILE_H
#define COMMON_READFILE_H
#include <stddef.h>

/* Read at most MAX bytes of PATH into a NUL-terminated malloc'ed buffer
 * (*OUT, *LEN bytes, the NUL not counted). The buffer starts small and
 * doubles; each outgrown one is wiped, since a secret may be in it. 0,
 * -EFBIG when the file is larger than MAX, -ENOMEM, or open/read's -errno
 * (-EISDIR for a directory). Nothing is left in *OUT on failure; the caller
 * wipes and frees the buffer it got. */
int readfile_read(const char *path, size_t max, char **out, size_t *len);
#endif
