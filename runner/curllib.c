/*
 * curllib.c — libcurl loaded on demand (contract in curllib.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "curllib.h"

#define SONAME "libcurl.so.4"

static struct curllib lib;
static char why[256];
static int loaded_rc = -ENOENT;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* dlsym NAME into *SLOT; 0 or -ENOENT with WHY set. */
static int sym(void *h, const char *name, void **slot)
{
	if ((*slot = dlsym(h, name)))
		return 0;
	snprintf(why, sizeof why, "%s: no symbol %s", SONAME, name);
	return -ENOENT;
}

static void load(void)
{
	struct curllib l;
	const char *e;
	void *h;

	/* RTLD_LOCAL: its symbols serve only what we look up. Never closed:
	 * libcurl keeps global state for the life of the process. */
	if (!(h = dlopen(SONAME, RTLD_NOW | RTLD_LOCAL))) {
		e = dlerror();
		snprintf(why, sizeof why, "cannot load %s: %s", SONAME, e ? e : "unknown error");
		return;
	}
	memset(&l, 0, sizeof l);
	/* A function pointer through void **: what dlsym's contract is for. */
	if (sym(h, "curl_global_init", (void **)&l.global_init) ||
	    sym(h, "curl_easy_init", (void **)&l.easy_init) ||
	    sym(h, "curl_easy_setopt", (void **)&l.easy_setopt) ||
	    sym(h, "curl_easy_perform", (void **)&l.easy_perform) ||
	    sym(h, "curl_easy_getinfo", (void **)&l.easy_getinfo) ||
	    sym(h, "curl_easy_cleanup", (void **)&l.easy_cleanup) ||
	    sym(h, "curl_slist_append", (void **)&l.slist_append) ||
	    sym(h, "curl_slist_free_all", (void **)&l.slist_free_all))
		return;
	lib = l;
	loaded_rc = 0;
}

int curllib_get(const struct curllib **out, char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (loaded_rc) {
		if (err && errlen)
			snprintf(err, errlen, "%s", why);
		return loaded_rc;
	}
	*out = &lib;
	return 0;
}
