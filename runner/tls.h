/*
 * tls.c — the daemon's HTTPS settings. Owns what goes into the OpenSSL
 * server context CivetWeb hands over at start (its init_ssl callback): the
 * certificate chain and private key from server.tls_cert / server.tls_key,
 * TLS 1.2 as the oldest version, no compression, no renegotiation, and the
 * checks that the certificate is valid now and that key and certificate
 * belong together. CivetWeb adds nothing of its own after this.
 *
 * The files are read once, at start. A renewed certificate needs a
 * restart; tls_files_changed lets a reload notice one and say so.
 * Encrypted private keys are refused (a daemon cannot type a passphrase).
 */
#ifndef TLS_H
#define TLS_H

#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

/* Configure SSL_CTX CTX (a void * as CivetWeb passes it) with the PEM
 * certificate chain CERT and private key KEY. 0, or -EINVAL with a
 * one-line reason in ERR naming the file at fault. *NOT_AFTER (may be
 * NULL) gets the leaf certificate's expiry. */
int tls_setup(void *ctx, const char *cert, const char *key, time_t *not_after,
    char *err, size_t errlen);
/* tls_setup on a context of its own, thrown away: the same answer, before
 * anything else is opened (start-up, check-config). */
int tls_check(const char *cert, const char *key, time_t *not_after, char *err, size_t errlen);

/* What the files were when they were read: compared at each reload. A
 * NULL path (no TLS) or a file that cannot be looked at is noted as zeros. */
struct tls_files {
	struct stat cert, key;
};
void tls_files_note(const char *cert, const char *key, struct tls_files *out);
/* 1 when CERT or KEY is not the file (or content) noted in WAS. */
int tls_files_changed(const char *cert, const char *key, const struct tls_files *was);
#endif
