/*
 * exstatus.c — names and classes of the executor status line's phases and
 * error kinds (contract in exstatus.h).
 */
#include <errno.h>
#include <string.h>

#include "exstatus.h"

static const struct {
	const char *name;
	enum exstatus_class cls;
} errors[EXSTATUS_NERRORS] = {
	[EXSTATUS_OK] = { NULL, EXSTATUS_CLASS_NONE },
	[EXSTATUS_ERESOLVE] = { "resolve", EXSTATUS_CLASS_TRANSIENT },
	[EXSTATUS_ECONNREFUSED] = { "connect_refused", EXSTATUS_CLASS_TRANSIENT },
	[EXSTATUS_ECONNTIMEOUT] = { "connect_timeout", EXSTATUS_CLASS_TRANSIENT },
	[EXSTATUS_ECONNECT] = { "connect", EXSTATUS_CLASS_TRANSIENT },
	[EXSTATUS_EHANDSHAKE] = { "handshake", EXSTATUS_CLASS_TRANSIENT },
	[EXSTATUS_EHANDSHAKETIMEOUT] = { "handshake_timeout", EXSTATUS_CLASS_TRANSIENT },
	[EXSTATUS_EHOSTUNKNOWN] = { "hostkey_unknown", EXSTATUS_CLASS_SETUP },
	[EXSTATUS_EHOSTCHANGED] = { "hostkey_changed", EXSTATUS_CLASS_SETUP },
	[EXSTATUS_EHOSTREVOKED] = { "hostkey_revoked", EXSTATUS_CLASS_SETUP },
	[EXSTATUS_EKNOWNHOSTS] = { "known_hosts", EXSTATUS_CLASS_SETUP },
	[EXSTATUS_EIDENTITY] = { "identity", EXSTATUS_CLASS_SETUP },
	[EXSTATUS_EAUTH] = { "auth", EXSTATUS_CLASS_SETUP },
	[EXSTATUS_EEXEC] = { "exec", EXSTATUS_CLASS_SETUP },
	[EXSTATUS_ETIMEOUT] = { "timeout", EXSTATUS_CLASS_TIMEOUT },
	[EXSTATUS_EKEEPALIVE] = { "keepalive", EXSTATUS_CLASS_TRANSIENT },
	[EXSTATUS_EIO] = { "io", EXSTATUS_CLASS_TRANSIENT },
	[EXSTATUS_ETERMINATED] = { "terminated", EXSTATUS_CLASS_LOCAL },
	[EXSTATUS_EINTERNAL] = { "internal", EXSTATUS_CLASS_LOCAL },
	[EXSTATUS_EREFUSED] = { "refused", EXSTATUS_CLASS_SETUP },
	[EXSTATUS_EBUSY] = { "busy", EXSTATUS_CLASS_TRANSIENT },
	[EXSTATUS_EREQUEST] = { "bad_request", EXSTATUS_CLASS_LOCAL },
};

static const char *const phases[] = {
	[EXSTATUS_PH_START] = "start", [EXSTATUS_PH_CONNECT] = "connect",
	[EXSTATUS_PH_HANDSHAKE] = "handshake", [EXSTATUS_PH_HOSTKEY] = "hostkey",
	[EXSTATUS_PH_AUTH] = "auth", [EXSTATUS_PH_EXEC] = "exec", [EXSTATUS_PH_DONE] = "done",
};

const char *exstatus_error_name(enum exstatus_error e)
{
	if ((unsigned)e >= EXSTATUS_NERRORS)
		return "internal";
	return errors[e].name;
}

int exstatus_error_parse(const char *name, enum exstatus_error *e)
{
	unsigned i;

	for (i = 1; i < EXSTATUS_NERRORS; i++)
		if (!strcmp(name, errors[i].name)) {
			*e = (enum exstatus_error)i;
			return 0;
		}
	return -ENOENT;
}

enum exstatus_class exstatus_error_class(enum exstatus_error e)
{
	if ((unsigned)e >= EXSTATUS_NERRORS)
		return EXSTATUS_CLASS_LOCAL;
	return errors[e].cls;
}

const char *exstatus_phase_name(enum exstatus_phase ph)
{
	if ((unsigned)ph >= sizeof phases / sizeof phases[0])
		return phases[EXSTATUS_PH_START];
	return phases[ph];
}
