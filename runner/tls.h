/*
 * tls.c — the daemon's HTTPS settings. Owns what goes into the OpenSSL
 * server context CivetWeb hands over at start (its init_ssl callback): the
 * certificate chain and private key from server.tls_cert / server.tls_key,
 * TLS 1.2 as the oldest version, no compression, no renegotiation, and the
 * check that key and certificate belong together. CivetWeb adds nothing of
 * its own after this. Read once at start: a renewed certificate needs a
 * restart (SIGHUP says so).
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>

/* Configure SSL_CTX CTX (a void * as CivetWeb passes it) with the PEM
 * certificate chain CERT and private key KEY. 0, or -EINVAL with a
 * one-line reason in ERR naming the file at fault. */
int tls_setup(void *ctx, const char *cert, const char *key, char *err, size_t errlen);
/* tls_setup on a context of its own, thrown away: the same answer, before
 * anything else is opened (start-up, check-config). */
int tls_check(const char *cert, const char *key, char *err, size_t errlen);
#endif
