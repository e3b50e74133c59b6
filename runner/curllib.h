/*
 * curllib.c — libcurl, loaded when the config needs it (prefix curllib_).
 *
 * Only the Slack client uses libcurl, and only when a "slack" section is
 * configured. Linked at start, libcurl and what it pulls in (GnuTLS through
 * librtmp, nghttp2, LDAP, Kerberos…) are mapped and their constructors run
 * in every daemon: over 2 MB of its idle resident memory. So the runner is
 * not linked against libcurl; this module dlopen()s it, once, and hands out
 * the few entry points the client calls.
 */
#ifndef CURLLIB_H
#define CURLLIB_H
#include <stddef.h>

#include <curl/curl.h>

/* The libcurl functions the runner calls, with libcurl's own prototypes. */
struct curllib {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *e, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *e);
	CURLcode (*easy_getinfo)(CURL *e, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *e);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* Load libcurl (its soname, libcurl.so.4) and resolve every entry point,
 * the first time; later calls give the same answer. 0 with *OUT set, or
 * -ENOENT with the loader's reason in ERR (the library or a symbol is
 * missing). Thread-safe. */
int curllib_get(const struct curllib **out, char *err, size_t errlen);
#endif
