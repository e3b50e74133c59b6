/*
 * pqlib.c — libpq loaded on demand, and the forwarders behind libpq's
 * names (contract in pqlib.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "pqlib.h"

#define SONAME "libpq.so.5"

/* Every libpq function the store calls: return type, name, parameters,
 * the arguments as passed on. One line each, used twice below. */
#define PQ_FUNCS(X, V) \
	X(PGconn *, PQconnectdbParams, (const char *const *kw, const char *const *val, int expand), (kw, val, expand)) \
	V(PQfinish, (PGconn *c), (c)) \
	V(PQreset, (PGconn *c), (c)) \
	X(ConnStatusType, PQstatus, (const PGconn *c), (c)) \
	X(PGTransactionStatusType, PQtransactionStatus, (const PGconn *c), (c)) \
	X(char *, PQerrorMessage, (const PGconn *c), (c)) \
	X(int, PQsocket, (const PGconn *c), (c)) \
	X(PGresult *, PQexec, (PGconn *c, const char *q), (c, q)) \
	X(PGresult *, PQexecParams, (PGconn *c, const char *q, int n, const Oid *types, \
	    const char *const *vals, const int *lens, const int *fmts, int rfmt), \
	    (c, q, n, types, vals, lens, fmts, rfmt)) \
	X(int, PQconsumeInput, (PGconn *c), (c)) \
	X(PGnotify *, PQnotifies, (PGconn *c), (c)) \
	X(ExecStatusType, PQresultStatus, (const PGresult *r), (r)) \
	X(char *, PQresultErrorMessage, (const PGresult *r), (r)) \
	X(char *, PQresultErrorField, (const PGresult *r, int code), (r, code)) \
	X(int, PQntuples, (const PGresult *r), (r)) \
	X(char *, PQcmdTuples, (PGresult *r), (r)) \
	X(char *, PQgetvalue, (const PGresult *r, int row, int col), (r, row, col)) \
	X(int, PQgetisnull, (const PGresult *r, int row, int col), (r, row, col)) \
	V(PQclear, (PGresult *r), (r)) \
	V(PQfreemem, (void *p), (p)) \
	X(unsigned char *, PQunescapeBytea, (const unsigned char *s, size_t *n), (s, n))

#define SLOT(ret, name, params, args) ret (*name) params;
#define VSLOT(name, params, args) void (*name) params;
static struct {
	PQ_FUNCS(SLOT, VSLOT)
} lib;

static char why[256];
static int loaded_rc = -ENOENT;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	const char *e;
	void *h;

	/* RTLD_LOCAL: its symbols serve only what we look up. Never closed:
	 * connections may live as long as the process. */
	if (!(h = dlopen(SONAME, RTLD_NOW | RTLD_LOCAL))) {
		e = dlerror();
		snprintf(why, sizeof why, "cannot load %s: %s", SONAME, e ? e : "unknown error");
		return;
	}
	/* A function pointer through void **: what dlsym's contract is for. */
#define LOAD(name)                                                                 \
	if (!(*(void **)&lib.name = dlsym(h, #name))) {                            \
		snprintf(why, sizeof why, "%s: no symbol %s", SONAME, #name);      \
		return;                                                            \
	}
#define XLOAD(ret, name, params, args) LOAD(name)
#define VLOAD(name, params, args) LOAD(name)
	PQ_FUNCS(XLOAD, VLOAD)
	loaded_rc = 0;
}

int pqlib_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (loaded_rc && err && errlen)
		snprintf(err, errlen, "%s", why);
	return loaded_rc;
}

/* The forwarders, with libpq's prototypes (libpq-fe.h checks them). Each
 * makes sure of the load first (one atomic read once done): code that calls
 * libpq without the store, as the store's tests do, works as if linked. */
#define FWD(ret, name, params, args) \
	ret name params { pthread_once(&once, load); return lib.name args; }
#define VFWD(name, params, args) \
	void name params { pthread_once(&once, load); lib.name args; }
PQ_FUNCS(FWD, VFWD)
