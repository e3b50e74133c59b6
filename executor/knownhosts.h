/*
 * knownhosts.c — OpenSSH known_hosts files, read strictly. Owns parsing the
 * file (untrusted bytes: bounded lines, bounded file, malformed lines skipped
 * and counted) and answering, for a host, port and offered key, whether the
 * key is known, changed, revoked or unknown.
 *
 * Understood: plain host patterns with '*', '?' and '!' negation, comma lists,
 * "[host]:port" for non-22 ports, hashed "|1|salt|hash" entries
 * (HMAC-SHA1), the @revoked marker. @cert-authority lines are skipped (no
 * certificate support). Key types: ssh-ed25519, ecdsa-sha2-nistp256/384/521,
 * ssh-rsa, ssh-dss; the blob's own type string must agree with the field.
 * Matching is key-type aware as in OpenSSH: a host known only by another key
 * type is "unknown" for this one, a different key of the same type is
 * "changed".
 */
#ifndef KNOWNHOSTS_H
#define KNOWNHOSTS_H
#include <stddef.h>

#define KNOWNHOSTS_MAX_FILE (16u << 20) /* larger files are refused */
#define KNOWNHOSTS_MAX_LINE 16384       /* longer lines are skipped as malformed */

struct knownhosts_file;

enum knownhosts_result {
	KNOWNHOSTS_MATCH = 0,
	KNOWNHOSTS_UNKNOWN,
	KNOWNHOSTS_CHANGED,
	KNOWNHOSTS_REVOKED,
};

/* Parse BUF (LEN bytes, need not be NUL-terminated). Never fails on content,
 * only -ENOMEM; *bad_lines (may be NULL) gets the malformed lines skipped. */
int knownhosts_parse(const char *buf, size_t len, struct knownhosts_file **out, int *bad_lines);
/* Read and parse PATH: -errno when unreadable, -EFBIG over KNOWNHOSTS_MAX_FILE. */
int knownhosts_load(const char *path, struct knownhosts_file **out, int *bad_lines);
void knownhosts_free(struct knownhosts_file *f);

/* Check the offered key BLOB (SSH wire format) for HOST on PORT. */
enum knownhosts_result knownhosts_check(const struct knownhosts_file *f, const char *host, int port,
    const unsigned char *blob, size_t bloblen);

/* Comma-separated host key algorithm names known for HOST:PORT (@revoked
 * keys excluded), strongest first (ed25519, ecdsa 256/384/521, rsa, dss)
 * whatever the file order, without repeats, for
 * libssh2_session_method_pref(HOSTKEY). Only whole names that fit LEN.
 * Empty string when none. */
void knownhosts_known_algs(const struct knownhosts_file *f, const char *host, int port,
    char *out, size_t len);

/* "SHA256:<base64 without padding>" of BLOB, as ssh-keygen -l prints it. */
void knownhosts_fingerprint(const unsigned char *blob, size_t bloblen, char *out, size_t len);
/* The key type name inside BLOB ("ssh-ed25519"…), or "" when unreadable. */
void knownhosts_blob_type(const unsigned char *blob, size_t bloblen, char *out, size_t len);
/* The type's short upper-case label as OpenSSH prints it: ED25519, ECDSA, RSA, DSA. */
const char *knownhosts_type_label(const char *type);
#endif
