/*
 * exstatus.h — the vocabulary of remote-executor's status line, shared by
 * the executor that writes it and the runner that reads it: the phases a run
 * goes through, the error kinds it can end with, their names on the line,
 * and what kind of failure each one is.
 *
 * The line (written by executor/status.c, one JSON object per run):
 *  {"v":1,"phase":"done","error":null,"message":null,"exit":0,"signal":null,
 *   "bytes_out":12,"bytes_err":0,"truncated":false,"user":"u","host":"h",
 *   "port":22,"hostkey_type":"ssh-ed25519","hostkey":"SHA256:…",
 *   "ms":{"connect":1,"handshake":4,"auth":9,"exec":20,"total":35}}
 * "phase" is the name of the furthest phase entered, "error" null or the
 * name of an error kind below. Names are stable: the runner's answers and
 * the job records depend on them.
 */
#ifndef COMMON_EXSTATUS_H
#define COMMON_EXSTATUS_H

#define EXSTATUS_VERSION 1

/* Phases in the order a run enters them; "done" only when the remote
 * command finished and its status was read. */
enum exstatus_phase {
	EXSTATUS_PH_START,     /* "start" */
	EXSTATUS_PH_CONNECT,   /* "connect" */
	EXSTATUS_PH_HANDSHAKE, /* "handshake" */
	EXSTATUS_PH_HOSTKEY,   /* "hostkey" */
	EXSTATUS_PH_AUTH,      /* "auth" */
	EXSTATUS_PH_EXEC,      /* "exec" */
	EXSTATUS_PH_DONE,      /* "done" */
};

enum exstatus_error {
	EXSTATUS_OK = 0,            /* no error: null on the line */
	EXSTATUS_ERESOLVE,          /* "resolve": host name does not resolve */
	EXSTATUS_ECONNREFUSED,      /* "connect_refused" */
	EXSTATUS_ECONNTIMEOUT,      /* "connect_timeout" */
	EXSTATUS_ECONNECT,          /* "connect": other connect errors (unreachable…) */
	EXSTATUS_EHANDSHAKE,        /* "handshake": SSH protocol/kex failure */
	EXSTATUS_EHANDSHAKETIMEOUT, /* "handshake_timeout": peer silent or slow */
	EXSTATUS_EHOSTUNKNOWN,      /* "hostkey_unknown": no key of this type known */
	EXSTATUS_EHOSTCHANGED,      /* "hostkey_changed": known key differs */
	EXSTATUS_EHOSTREVOKED,      /* "hostkey_revoked": key marked @revoked */
	EXSTATUS_EKNOWNHOSTS,       /* "known_hosts": file unreadable */
	EXSTATUS_EIDENTITY,         /* "identity": key unreadable, bad passphrase */
	EXSTATUS_EAUTH,             /* "auth": server refused every key */
	EXSTATUS_EEXEC,             /* "exec": channel or exec request refused */
	EXSTATUS_ETIMEOUT,          /* "timeout": overall --timeout expired */
	EXSTATUS_EKEEPALIVE,        /* "keepalive": peer stopped answering */
	EXSTATUS_EIO,               /* "io": connection lost mid-run */
	EXSTATUS_ETERMINATED,       /* "terminated": SIGTERM/SIGINT/SIGHUP received */
	EXSTATUS_EINTERNAL,         /* "internal": out of memory, library misuse */
	EXSTATUS_EREFUSED,          /* "refused": the executor service's config does not
	                               allow this identity for this destination, or
	                               the identity is unknown (nothing was sent) */
	EXSTATUS_EBUSY,             /* "busy": the executor service runs max_jobs already,
	                               or is draining */
	EXSTATUS_EREQUEST,          /* "bad_request": the executor service could not read
	                               the request (framing, version, fields) */
	EXSTATUS_NERRORS            /* how many there are, not an error */
};

/* What an error kind says about the failure. */
enum exstatus_class {
	EXSTATUS_CLASS_NONE,      /* EXSTATUS_OK */
	EXSTATUS_CLASS_TRANSIENT, /* network or peer trouble: trying again later may work */
	EXSTATUS_CLASS_SETUP,     /* host keys, identity, authorization, exec refused:
	                             needs a change of configuration or on the host */
	EXSTATUS_CLASS_TIMEOUT,   /* the overall deadline expired */
	EXSTATUS_CLASS_LOCAL,     /* the executor's own trouble: terminated, internal */
};

/* The name of E on the line; NULL for EXSTATUS_OK, "internal" for a value
 * out of range. */
const char *exstatus_error_name(enum exstatus_error e);

/* The error kind named NAME into *E: 0, or -ENOENT for a name that is not
 * in the vocabulary (including the empty string). */
int exstatus_error_parse(const char *name, enum exstatus_error *e);

/* The class of E (EXSTATUS_CLASS_LOCAL for a value out of range). */
enum exstatus_class exstatus_error_class(enum exstatus_error e);

/* The name of PH on the line ("start" … "done"); "start" when out of range. */
const char *exstatus_phase_name(enum exstatus_phase ph);
#endif
