/*
 * pqlib.c — libpq, loaded when the store is PostgreSQL (prefix pqlib_; it
 * also defines libpq's own PQ* names, see below).
 *
 * Only the PostgreSQL store uses libpq. Linked at start, libpq and what it
 * pulls in (LDAP, SASL, Kerberos, GnuTLS through LDAP…) are mapped and
 * their constructors run in every daemon, SQLite ones too: about 1 MB of
 * idle resident memory, and with libcurl's share over 3 MB. So the runner
 * is not linked against libpq: pqlib_load dlopen()s it, and pqlib.c
 * defines each libpq function store_pg*.c calls, with libpq's prototype,
 * as a forwarder to the loaded one. store_pg*.c keep calling PQexec & co.
 * as they are; the linker resolves those names to these forwarders, and
 * nothing else in the runner names libpq (--as-needed then leaves it out).
 * The forwarders are not exported (no -rdynamic): the loaded libpq keeps
 * calling its own functions.
 */
#ifndef PQLIB_H
#define PQLIB_H
#include <stddef.h>

/* Load libpq (its soname, libpq.so.5) and resolve every function the
 * store calls, the first time; later calls give the same answer. 0, or
 * -ENOENT with the loader's reason in ERR. Thread-safe. store_pg_connect
 * calls it before its first connection, to report a missing libpq; each
 * forwarder also loads it if nobody did (a missing libpq then crashes
 * there, but a PGconn or PGresult exists only after a successful load). */
int pqlib_load(char *err, size_t errlen);
#endif
