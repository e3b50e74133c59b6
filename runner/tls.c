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

/* The first OpenSSL reason on this thread's queue (the root cause: "no
 * start line", not the "PEM lib" wrapped around it), or FALLBACK; the
 * queue is left empty. */
static const char *ssl_reason(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_peek_error();

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

/* OpenSSL asks for a passphrase: note that it did, and give none (its
 * default would prompt on the terminal and block). */
static int no_passphrase(char *buf, int size, int rwflag, void *asked)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)asked = 1;
	return -1;
}

/* ASN1_TIME as "2026-11-23 12:00:00 UTC" into BUF. */
static const char *asn1_date(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1 || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "?");
	return buf;
}

/* The leaf of C must be valid now; its expiry into *NOT_AFTER. */
static int check_dates(SSL_CTX *c, const char *cert, time_t *not_after, char *err, size_t errlen)
{
	X509 *x = SSL_CTX_get0_certificate(c);
	const ASN1_TIME *nb = x ? X509_get0_notBefore(x) : NULL, *na = x ? X509_get0_notAfter(x) : NULL;
	char when[64];
	struct tm tm;

	if (!nb || !na) {
		snprintf(err, errlen, "server.tls_cert: %s: no validity dates", cert);
		return -EINVAL;
	}
	if (X509_cmp_current_time(nb) >= 0) {
		snprintf(err, errlen, "server.tls_cert: %s: not valid before %s", cert,
		    asn1_date(nb, when, sizeof when));
		return -EINVAL;
	}
	if (X509_cmp_current_time(na) <= 0) {
		snprintf(err, errlen, "server.tls_cert: %s: expired on %s", cert, asn1_date(na, when, sizeof when));
		return -EINVAL;
	}
	if (not_after)
		*not_after = ASN1_TIME_to_tm(na, &tm) == 1 ? timegm(&tm) : 0;
	return 0;
}

int tls_setup(void *ctx, const char *cert, const char *key, time_t *not_after,
    char *err, size_t errlen)
{
	SSL_CTX *c = ctx;
	char why[256];
	int rc, mismatch = 0, asked = 0;

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
	SSL_CTX_set_default_passwd_cb(c, no_passphrase);
	SSL_CTX_set_default_passwd_cb_userdata(c, &asked);
	if (SSL_CTX_use_certificate_chain_file(c, cert) != 1) {
		snprintf(err, errlen, "server.tls_cert: %s: not a usable PEM certificate (%s)", cert,
		    ssl_reason(why, sizeof why, "no certificate"));
		rc = -EINVAL;
		goto out;
	}
	if ((rc = check_dates(c, cert, not_after, err, errlen)) != 0)
		goto out;
	rc = -EINVAL;
	if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_last_error();
		/* A key that does not match the certificate already fails here. */
		if (ERR_GET_LIB(e) != ERR_LIB_X509 || ERR_GET_REASON(e) != X509_R_KEY_VALUES_MISMATCH) {
			if (asked)
				snprintf(err, errlen, "server.tls_key: %s is encrypted; the daemon cannot "
				    "type a passphrase (decrypt it: openssl pkey -in KEY -out KEY.plain)", key);
			else
				snprintf(err, errlen, "server.tls_key: %s: not a usable PEM private key (%s)",
				    key, ssl_reason(why, sizeof why, "no key"));
			goto out;
		}
		mismatch = 1;
	}
	if (mismatch || SSL_CTX_check_private_key(c) != 1) {
		snprintf(err, errlen, "server.tls_key: %s does not belong to the certificate in %s", key,
		    cert);
		goto out;
	}
	rc = 0;
out:
	SSL_CTX_set_default_passwd_cb(c, NULL);
	SSL_CTX_set_default_passwd_cb_userdata(c, NULL);
	ERR_clear_error();
	return rc;
}

int tls_check(const char *cert, const char *key, time_t *not_after, char *err, size_t errlen)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());
	char why[256];
	int rc;

	if (!c) {
		snprintf(err, errlen, "TLS: cannot create a context: %s", ssl_reason(why, sizeof why, "?"));
		return -ENOMEM;
	}
	rc = tls_setup(c, cert, key, not_after, err, errlen);
	SSL_CTX_free(c);
	return rc;
}

void tls_files_note(const char *cert, const char *key, struct tls_files *out)
{
	if (!cert || stat(cert, &out->cert) != 0)
		memset(&out->cert, 0, sizeof out->cert);
	if (!key || stat(key, &out->key) != 0)
		memset(&out->key, 0, sizeof out->key);
}

static int same_file(const char *path, const struct stat *was)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	return st.st_dev == was->st_dev && st.st_ino == was->st_ino && st.st_size == was->st_size &&
	    st.st_mtim.tv_sec == was->st_mtim.tv_sec && st.st_mtim.tv_nsec == was->st_mtim.tv_nsec &&
	    st.st_ctim.tv_sec == was->st_ctim.tv_sec && st.st_ctim.tv_nsec == was->st_ctim.tv_nsec;
}

int tls_files_changed(const char *cert, const char *key, const struct tls_files *was)
{
	return !same_file(cert, &was->cert) || !same_file(key, &was->key);
}
