/*
 * tls.c — the OpenSSL server context for HTTPS (contract in tls.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"

/* The newest OpenSSL reason on this thread's queue, or FALLBACK; the queue
 * is left empty. */
static const char *ssl_reason(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", fallback);
	ERR_clear_error();
	return buf;
}

/* A readable file, or a reason: OpenSSL's own words for a missing file are
 * less plain than strerror's. */
static int readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "%s: cannot read %s: %s", what, path, strerror(errno));
	return -EINVAL;
}

int tls_setup(void *ctx, const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *c = ctx;
	char why[256];
	int rc, mismatch = 0;

	ERR_clear_error();
	if ((rc = readable("server.tls_cert", cert, err, errlen)) ||
	    (rc = readable("server.tls_key", key, err, errlen)))
		return rc;
	if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1) {
		snprintf(err, errlen, "TLS: cannot require TLS 1.2: %s", ssl_reason(why, sizeof why, "?"));
		return -EINVAL;
	}
	SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(c, cert) != 1) {
		snprintf(err, errlen, "server.tls_cert: %s: not a usable PEM certificate (%s)", cert,
		    ssl_reason(why, sizeof why, "no certificate"));
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_last_error();
		/* A key that does not match the certificate already fails here. */
		if (ERR_GET_LIB(e) != ERR_LIB_X509 || ERR_GET_REASON(e) != X509_R_KEY_VALUES_MISMATCH) {
			snprintf(err, errlen, "server.tls_key: %s: not a usable PEM private key (%s)", key,
			    ssl_reason(why, sizeof why, "no key"));
			return -EINVAL;
		}
		mismatch = 1;
	}
	if (mismatch || SSL_CTX_check_private_key(c) != 1) {
		snprintf(err, errlen, "server.tls_key: %s does not belong to the certificate in %s", key,
		    cert);
		ERR_clear_error();
		return -EINVAL;
	}
	return 0;
}

int tls_check(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());
	char why[256];
	int rc;

	if (!c) {
		snprintf(err, errlen, "TLS: cannot create a context: %s", ssl_reason(why, sizeof why, "?"));
		return -ENOMEM;
	}
	rc = tls_setup(c, cert, key, err, errlen);
	SSL_CTX_free(c);
	return rc;
}
