/*
 * session.c — one SSH run over libssh2 (contract in session.h). Every step
 * returns 0 or a negative errno, and records why it failed in the status
 * (status_fail) before it returns: the errno is for the control flow, the
 * status for the caller of the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>

#include "../common/clock.h"
#include "input.h"
#include "knownhosts.h"
#include "net.h"
#include "posixsh.h"
#include "session.h"

#define EXIT_LOCAL 255
#define CLOSE_GRACE_MS 2000 /* a finished command: the server's close is on its way */
#define FLUSH_MS 50         /* teardown: handing the last packets to the kernel */
#define WRITE_MAX 32700     /* what libssh2 sends in one channel write at most */

struct session {
	const struct args *a;
	struct status *st;
	volatile sig_atomic_t *stop;
	int fd;
	LIBSSH2_SESSION *ssh;
	LIBSSH2_CHANNEL *ch;
	char *pass;        /* the identity's passphrase until auth is over, or NULL */
	int64_t deadline;  /* overall, 0 = none */
	int64_t last_rx;   /* when the peer last sent us anything */
	int64_t dead_ms;   /* silence that means a dead peer (keepalive on) */
	int out_closed[2]; /* our stdout/stderr went away */
};

static int64_t min_deadline(int64_t a, int64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

/* Counts the time of every byte from the peer, for dead-peer detection. */
static LIBSSH2_RECV_FUNC(rx_cb)
{
	struct session *s = *abstract;
	ssize_t n = recv(socket, buffer, length, flags);

	if (n < 0)
		return -errno;
	if (n > 0)
		s->last_rx = clock_mono_ms();
	return n;
}

/* Wait until libssh2's socket is ready in the direction it blocked on, at
 * most until DEADLINE (0: none) and at most CAP_MS. 0 when it may be retried,
 * -ETIMEDOUT at the deadline, -EINTR when asked to stop. */
static int wait_io(struct session *s, int64_t deadline, int cap_ms)
{
	struct pollfd p = { .fd = s->fd };
	int dir = libssh2_session_block_directions(s->ssh), ms = cap_ms;

	if (*s->stop)
		return -EINTR;
	if (deadline) {
		int64_t left = deadline - clock_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (left < ms)
			ms = (int)left;
	}
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		p.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		p.events |= POLLOUT;
	if (!p.events)
		p.events = POLLIN;
	if (poll(&p, 1, ms) < 0 && errno != EINTR)
		return -errno;
	return *s->stop ? -EINTR : 0;
}

static const char *ssh_errmsg(struct session *s)
{
	char *msg = NULL;

	libssh2_session_last_error(s->ssh, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown libssh2 error";
}

/* A failed wait during phase work: the stop signal, the overall timeout, or
 * the phase's own timeout (reported as PHASE_TIMEOUT). */
static void fail_wait(struct session *s, int w, enum exstatus_error phase_timeout, const char *what)
{
	if (w == -EINTR)
		status_fail(s->st, EXSTATUS_ETERMINATED, "terminated by signal during %s", what);
	else if (w == -ETIMEDOUT && s->deadline && clock_mono_ms() >= s->deadline)
		status_fail(s->st, EXSTATUS_ETIMEOUT, "run timed out during %s", what);
	else if (w == -ETIMEDOUT)
		status_fail(s->st, phase_timeout, "%s timed out", what);
	else
		status_fail(s->st, EXSTATUS_EIO, "%s: %s", what, strerror(-w));
}

static int do_connect(struct session *s)
{
	int64_t dl = min_deadline(clock_mono_ms() + s->a->connect_timeout_ms, s->deadline);
	int fd;

	status_phase(s->st, EXSTATUS_PH_CONNECT);
	fd = net_connect(s->a->host, s->a->port, dl);
	if (fd >= 0) {
		s->fd = fd;
		return 0;
	}
	if (fd == -ENOENT)
		status_fail(s->st, EXSTATUS_ERESOLVE, "cannot resolve %s", s->a->host);
	else if (fd == -ECONNREFUSED)
		status_fail(s->st, EXSTATUS_ECONNREFUSED, "connection to %s port %d refused",
		    s->a->host, s->a->port);
	else if (fd == -EINTR && *s->stop)
		status_fail(s->st, EXSTATUS_ETERMINATED, "terminated by signal during connect");
	else if (fd == -ETIMEDOUT && s->deadline && clock_mono_ms() >= s->deadline)
		status_fail(s->st, EXSTATUS_ETIMEOUT, "run timed out during connect");
	else if (fd == -ETIMEDOUT)
		status_fail(s->st, EXSTATUS_ECONNTIMEOUT, "connect to %s port %d timed out",
		    s->a->host, s->a->port);
	else
		status_fail(s->st, EXSTATUS_ECONNECT, "connect to %s port %d: %s", s->a->host,
		    s->a->port, strerror(-fd));
	return fd;
}

static int do_handshake(struct session *s, const struct knownhosts_file *kh, int64_t dl)
{
	char algs[256];
	int rc, w = 0;

	status_phase(s->st, EXSTATUS_PH_HANDSHAKE);
	if (!(s->ssh = libssh2_session_init_ex(NULL, NULL, NULL, s))) {
		status_fail(s->st, EXSTATUS_EINTERNAL, "libssh2_session_init failed");
		return -ENOMEM;
	}
	libssh2_session_set_blocking(s->ssh, 0);
	libssh2_session_callback_set(s->ssh, LIBSSH2_CALLBACK_RECV, (void *)rx_cb);
	/* Ask for a host key type we can check, as OpenSSH does. Should
	 * libssh2 support none of them, its default list stays in place (the
	 * key offered is then unknown and refused); it takes no NULL list. */
	knownhosts_known_algs(kh, s->a->host, s->a->port, algs, sizeof algs);
	if (algs[0])
		(void)libssh2_session_method_pref(s->ssh, LIBSSH2_METHOD_HOSTKEY, algs);
	while ((rc = libssh2_session_handshake(s->ssh, s->fd)) == LIBSSH2_ERROR_EAGAIN)
		if ((w = wait_io(s, dl, 1000)) < 0)
			break;
	if (w < 0) {
		fail_wait(s, w, EXSTATUS_EHANDSHAKETIMEOUT, "SSH handshake");
		return w;
	}
	if (rc != 0) {
		if (rc == LIBSSH2_ERROR_TIMEOUT)
			status_fail(s->st, EXSTATUS_EHANDSHAKETIMEOUT, "SSH handshake timed out");
		else
			status_fail(s->st, EXSTATUS_EHANDSHAKE, "SSH handshake failed: %s", ssh_errmsg(s));
		return rc == LIBSSH2_ERROR_TIMEOUT ? -ETIMEDOUT : -EPROTO;
	}
	return 0;
}

static int do_hostkey(struct session *s, const struct knownhosts_file *kh, int kh_missing)
{
	const unsigned char *blob;
	size_t len = 0;
	int type = 0;
	char name[300];
	const char *label;

	status_phase(s->st, EXSTATUS_PH_HOSTKEY);
	blob = (const unsigned char *)libssh2_session_hostkey(s->ssh, &len, &type);
	if (!blob || !len) {
		status_fail(s->st, EXSTATUS_EHANDSHAKE, "server sent no host key");
		return -EPROTO;
	}
	knownhosts_blob_type(blob, len, s->st->hostkey_type, sizeof s->st->hostkey_type);
	knownhosts_fingerprint(blob, len, s->st->hostkey, sizeof s->st->hostkey);
	label = knownhosts_type_label(s->st->hostkey_type);
	if (s->a->port == 22)
		snprintf(name, sizeof name, "%s", s->a->host);
	else
		snprintf(name, sizeof name, "[%s]:%d", s->a->host, s->a->port);
	switch (knownhosts_check(kh, s->a->host, s->a->port, blob, len)) {
	case KNOWNHOSTS_MATCH:
		return 0;
	case KNOWNHOSTS_REVOKED:
		fprintf(stderr, "remote-executor: %s key for %s is marked as revoked in %s.\n"
		    "The %s key fingerprint is %s.\nHost key verification failed.\n",
		    label, name, s->a->known_hosts, label, s->st->hostkey);
		status_fail(s->st, EXSTATUS_EHOSTREVOKED, "%s host key for %s is revoked", label, name);
		return -EACCES;
	case KNOWNHOSTS_CHANGED:
		fprintf(stderr,
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n"
		    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
		    "The fingerprint for the %s key sent by the remote host is\n%s.\n"
		    "The known key for %s in %s differs. Nothing was run.\n"
		    "Host key verification failed.\n",
		    label, s->st->hostkey, name, s->a->known_hosts);
		status_fail(s->st, EXSTATUS_EHOSTCHANGED, "%s host key for %s has changed", label, name);
		return -EACCES;
	case KNOWNHOSTS_UNKNOWN:
	default:
		fprintf(stderr, "remote-executor: no %s host key is known for %s in %s%s.\n"
		    "%s key fingerprint is %s.\nHost key verification failed.\n",
		    label, name, s->a->known_hosts, kh_missing ? " (no such file)" : "",
		    label, s->st->hostkey);
		status_fail(s->st, EXSTATUS_EHOSTUNKNOWN, "no %s host key known for %s", label, name);
		return -EACCES;
	}
}

/* Try one private key file. 0 when the server answered (*ACCEPTED says
 * whether it took the key), or a negative errno with the status set. */
static int auth_file(struct session *s, const char *path, const char *pass, int64_t dl, int *accepted)
{
	const char *user = s->a->user;
	int rc, w = 0, fd;

	*accepted = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		status_fail(s->st, EXSTATUS_EIDENTITY, "cannot read identity %s: %s", path, strerror(-rc));
		return rc;
	}
	close(fd);
	while ((rc = libssh2_userauth_publickey_fromfile_ex(s->ssh, user, (unsigned)strlen(user),
		    NULL, path, pass)) == LIBSSH2_ERROR_EAGAIN)
		if ((w = wait_io(s, dl, 1000)) < 0)
			break;
	if (w < 0) {
		fail_wait(s, w, EXSTATUS_EHANDSHAKETIMEOUT, "authentication");
		return w;
	}
	if (rc == 0) {
		*accepted = 1;
		return 0;
	}
	if (rc == LIBSSH2_ERROR_FILE) {
		status_fail(s->st, EXSTATUS_EIDENTITY, "cannot load private key %s: %s", path,
		    pass ? "wrong passphrase or unsupported key format"
			 : "unsupported key format, or it needs a passphrase (--passphrase-fd or "
			   "--passphrase-env)");
		return -EINVAL;
	}
	if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
		return 0;
	status_fail(s->st, EXSTATUS_EAUTH, "authentication with %s failed: %s", path, ssh_errmsg(s));
	return -EPROTO;
}

/* Try every identity ssh-agent holds. 0 (*ACCEPTED says whether the server
 * took one), or a negative errno with the status set. */
static int auth_agent(struct session *s, int64_t dl, int *accepted)
{
	LIBSSH2_AGENT *ag = libssh2_agent_init(s->ssh);
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int rc = 0, r, w;

	*accepted = 0;
	if (!ag || libssh2_agent_connect(ag) != 0 || libssh2_agent_list_identities(ag) != 0) {
		status_fail(s->st, EXSTATUS_EIDENTITY, "cannot use ssh-agent (is SSH_AUTH_SOCK set?)");
		rc = -ENOENT;
		goto out;
	}
	while (libssh2_agent_get_identity(ag, &id, prev) == 0) {
		w = 0;
		while ((r = libssh2_agent_userauth(ag, s->a->user, id)) == LIBSSH2_ERROR_EAGAIN)
			if ((w = wait_io(s, dl, 1000)) < 0)
				break;
		if (w < 0) {
			fail_wait(s, w, EXSTATUS_EHANDSHAKETIMEOUT, "authentication");
			rc = w;
			goto out;
		}
		if (r == 0) {
			*accepted = 1;
			goto out;
		}
		prev = id;
	}
out:
	if (ag) {
		libssh2_agent_disconnect(ag);
		libssh2_agent_free(ag);
	}
	return rc;
}

static int do_auth(struct session *s, int64_t dl)
{
	static const char *const defaults[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *user = s->a->user;
	char *methods, *pass = s->pass, path[4096];
	int rc = -EACCES, r = 0, w = 0, tried = 0, accepted = 0;
	size_t i;

	status_phase(s->st, EXSTATUS_PH_AUTH);
	while (!(methods = libssh2_userauth_list(s->ssh, user, (unsigned)strlen(user))) &&
	    libssh2_session_last_errno(s->ssh) == LIBSSH2_ERROR_EAGAIN)
		if ((w = wait_io(s, dl, 1000)) < 0)
			break;
	if (w < 0) {
		fail_wait(s, w, EXSTATUS_EHANDSHAKETIMEOUT, "authentication");
		rc = w;
		goto out;
	}
	if (!methods) {
		if (libssh2_userauth_authenticated(s->ssh)) {
			rc = 0; /* the server accepted "none" */
			goto out;
		}
		status_fail(s->st, EXSTATUS_EAUTH, "authentication failed: %s", ssh_errmsg(s));
		goto out;
	}
	if (!strstr(methods, "publickey")) {
		status_fail(s->st, EXSTATUS_EAUTH, "server offers no publickey authentication (%s)", methods);
		goto out;
	}
	if (s->a->agent) {
		tried++;
		if ((r = auth_agent(s, dl, &accepted)) != 0 || accepted)
			goto done;
	}
	if (s->a->identity) {
		tried++;
		r = auth_file(s, s->a->identity, pass, dl, &accepted);
	} else if (!s->a->agent) {
		const char *home = getenv("HOME");
		for (i = 0; i < sizeof defaults / sizeof defaults[0] && r == 0 && !accepted; i++) {
			snprintf(path, sizeof path, "%s/.ssh/%s", home ? home : "", defaults[i]);
			if (access(path, R_OK) != 0)
				continue;
			tried++;
			r = auth_file(s, path, pass, dl, &accepted);
		}
	}
done:
	if (r != 0) {
		rc = r;
	} else if (accepted) {
		rc = 0;
	} else {
		if (tried)
			status_fail(s->st, EXSTATUS_EAUTH, "server refused every key for %s@%s",
			    user, s->a->host);
		else
			status_fail(s->st, EXSTATUS_EIDENTITY, "no identity: give -i FILE or --agent");
	}
out:
	/* Authentication is over: the passphrase has no further use. */
	input_wipe(s->pass, 0);
	s->pass = NULL;
	return rc;
}

/* Write all of BUF to FD (which may be blocking or not); on a closed reader
 * the stream is marked closed and the rest is dropped. A reader that stops
 * reading must not hold us past the deadline or a stop signal: we wait for
 * room with poll, then write at most PIPE_BUF bytes, which a pipe that polls
 * writable takes without blocking. At the deadline or on a stop the rest is
 * dropped and the caller ends the run. */
static void relay(struct session *s, int which, const char *buf, size_t n)
{
	int fd = which ? STDERR_FILENO : STDOUT_FILENO;
	uint64_t *count = which ? &s->st->bytes_err : &s->st->bytes_out;
	uint64_t total = s->st->bytes_out + s->st->bytes_err;
	size_t off = 0;

	*count += n;
	if (s->a->max_output) {
		if (total >= s->a->max_output) {
			s->st->truncated = 1;
			return;
		}
		if (total + n > s->a->max_output) {
			n = (size_t)(s->a->max_output - total);
			s->st->truncated = 1;
		}
	}
	while (off < n && !s->out_closed[which]) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int ms = 1000;
		ssize_t k;

		if (*s->stop)
			return;
		if (s->deadline) {
			int64_t left = s->deadline - clock_mono_ms();
			if (left <= 0)
				return;
			if (left < ms)
				ms = (int)left;
		}
		if (poll(&p, 1, ms) <= 0)
			continue; /* no room yet, or a signal: check again */
		k = write(fd, buf + off, n - off > PIPE_BUF ? PIPE_BUF : n - off);
		if (k > 0)
			off += (size_t)k;
		else if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		else
			s->out_closed[which] = 1;
	}
}

/* Read what the channel holds on both streams and relay it. 0, with
 * *PROGRESSED telling whether something came, or -EIO with the status set. */
static int read_streams(struct session *s, int *progressed)
{
	static char buf[32768];
	int which;

	*progressed = 0;
	for (which = 0; which < 2; which++) {
		ssize_t n = libssh2_channel_read_ex(s->ch, which ? SSH_EXTENDED_DATA_STDERR : 0,
		    buf, sizeof buf);
		if (n > 0) {
			relay(s, which, buf, (size_t)n);
			*progressed = 1;
		} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			status_fail(s->st, EXSTATUS_EIO, "connection lost while the command ran: %s",
			    ssh_errmsg(s));
			return -EIO;
		}
	}
	return 0;
}

/* Keepalives from now on (when --keepalive is not 0). */
static void keepalive_start(struct session *s)
{
	const int ka = s->a->keepalive_s;
	/* libssh2 turns a 1 s interval into 2 s and schedules keepalives on
	 * whole seconds of time(), so a healthy peer's answers can be an
	 * interval plus a second apart. As OpenSSH's ServerAliveCountMax: the
	 * peer is dead when keepalive-max keepalives went unanswered and the
	 * interval after the last one passed as well. */
	const int ka_eff = ka == 1 ? 2 : ka;

	s->dead_ms = (int64_t)ka_eff * (s->a->keepalive_max + 1) * 1000;
	if (ka)
		libssh2_keepalive_config(s->ssh, 1, (unsigned)ka);
	s->last_rx = clock_mono_ms();
}

/* Between waits: send a keepalive when one is due (only when CAN_SEND: no
 * packet of ours is half-sent, which libssh2 must finish first), and call
 * the peer dead after dead_ms of silence. 0, or -EIO (connection lost) or
 * -ETIMEDOUT (dead peer) with the status set. */
static int keepalive_tick(struct session *s, int can_send)
{
	int secs_to_next;

	if (!s->a->keepalive_s)
		return 0;
	if (can_send && libssh2_keepalive_send(s->ssh, &secs_to_next) != 0 &&
	    libssh2_session_last_errno(s->ssh) != LIBSSH2_ERROR_EAGAIN) {
		status_fail(s->st, EXSTATUS_EIO, "connection lost: %s", ssh_errmsg(s));
		return -EIO;
	}
	if (clock_mono_ms() - s->last_rx > s->dead_ms) {
		status_fail(s->st, EXSTATUS_EKEEPALIVE, "no answer from %s for %lld s (keepalive)",
		    s->a->host, (long long)s->dead_ms / 1000);
		return -ETIMEDOUT;
	}
	return 0;
}

/* --posix-sh: write SCRIPT on the channel's stdin under the run's deadline,
 * the stop flag and the keepalive. 0 when all of it went, or when the
 * remote side ended first (a login shell that refuses to run it, such as
 * nologin: its output and status tell the rest); a negative errno with the
 * status set.
 * A remote side that ends without reading grants no more window, so while
 * the write waits for window (no packet of ours half-sent) the output is
 * relayed: that unmasks the EOF that libssh2 hides behind unread data. */
static int send_script(struct session *s, const char *script, size_t len)
{
	size_t off = 0;
	int w, r, idle, got;

	while (off < len) {
		/* After EAGAIN libssh2 wants the very same arguments again: the
		 * chunk depends on OFF only, which EAGAIN leaves alone. */
		size_t n = len - off > WRITE_MAX ? WRITE_MAX : len - off;
		ssize_t k;

		if (*s->stop) {
			status_fail(s->st, EXSTATUS_ETERMINATED, "terminated by signal while sending the command");
			return -EINTR;
		}
		if (s->deadline && clock_mono_ms() >= s->deadline) {
			status_fail(s->st, EXSTATUS_ETIMEOUT, "run timed out while sending the command");
			return -ETIMEDOUT;
		}
		k = libssh2_channel_write(s->ch, script + off, n);
		if (k > 0) {
			off += (size_t)k;
			continue;
		}
		if (k < 0 && k != LIBSSH2_ERROR_EAGAIN) {
			status_fail(s->st, EXSTATUS_EIO, "connection lost while sending the command: %s",
			    ssh_errmsg(s));
			return -EIO;
		}
		idle = !(libssh2_session_block_directions(s->ssh) & LIBSSH2_SESSION_BLOCK_OUTBOUND);
		if (idle) {
			if ((r = read_streams(s, &got)) != 0)
				return r;
			if (got)
				continue;
		}
		if (libssh2_channel_eof(s->ch))
			return 0;
		if ((r = keepalive_tick(s, idle)) != 0)
			return r;
		if ((w = wait_io(s, s->deadline, 1000)) < 0 && w != -ETIMEDOUT && w != -EINTR) {
			status_fail(s->st, EXSTATUS_EIO, "poll: %s", strerror(-w));
			return w;
		}
	}
	return 0;
}

/* Relay both streams until the server closes the channel (the command has
 * ended and its exit status or signal has arrived). 0, or a negative errno
 * with the status set. */
static int stream(struct session *s)
{
	int w, r, got;

	for (;;) {

		if (*s->stop) {
			status_fail(s->st, EXSTATUS_ETERMINATED, "terminated by signal while the command ran");
			return -EINTR;
		}
		if (s->deadline && clock_mono_ms() >= s->deadline) {
			status_fail(s->st, EXSTATUS_ETIMEOUT, "command timed out after %lld ms",
			    (long long)s->a->timeout_ms);
			return -ETIMEDOUT;
		}
		if ((r = read_streams(s, &got)) != 0)
			return r;
		if (got)
			continue;
		/* EOF only means the command closed its outputs; it may run on.
		 * Its exit status arrives just before the server closes the
		 * channel, so wait for that close, under the same deadline,
		 * stop flag and keepalive as the output. */
		if (libssh2_channel_eof(s->ch)) {
			r = libssh2_channel_wait_closed(s->ch);
			if (r == 0)
				return 0;
			if (r != LIBSSH2_ERROR_EAGAIN) {
				status_fail(s->st, EXSTATUS_EIO, "connection lost while the command ran: %s",
				    ssh_errmsg(s));
				return -EIO;
			}
		}
		if ((r = keepalive_tick(s, 1)) != 0)
			return r;
		/* Wake at least once a second for the keepalive and deadline checks. */
		if ((w = wait_io(s, s->deadline, 1000)) < 0 && w != -ETIMEDOUT && w != -EINTR) {
			status_fail(s->st, EXSTATUS_EIO, "poll: %s", strerror(-w));
			return w;
		}
	}
}

static int do_exec(struct session *s)
{
	int rc, w = 0, ret;
	char *sig = NULL, *script = NULL;
	size_t siglen = 0, slen = 0;

	status_phase(s->st, EXSTATUS_PH_EXEC);
	if (s->a->posix_sh &&
	    (rc = posixsh_script(s->a->command, strlen(s->a->command), &script, &slen)) != 0) {
		status_fail(s->st, EXSTATUS_EINTERNAL, "cannot build the --posix-sh script: %s",
		    strerror(-rc));
		ret = rc;
		goto out;
	}
	while (!(s->ch = libssh2_channel_open_session(s->ssh)) &&
	    libssh2_session_last_errno(s->ssh) == LIBSSH2_ERROR_EAGAIN)
		if ((w = wait_io(s, s->deadline, 1000)) < 0)
			break;
	if (!s->ch) {
		if (w < 0)
			fail_wait(s, w, EXSTATUS_ETIMEOUT, "channel open");
		else
			status_fail(s->st, EXSTATUS_EEXEC, "cannot open a session channel: %s", ssh_errmsg(s));
		ret = w < 0 ? w : -EPROTO;
		goto out;
	}
	while ((rc = libssh2_channel_exec(s->ch, script ? POSIXSH_EXEC_REQUEST : s->a->command)) ==
	    LIBSSH2_ERROR_EAGAIN)
		if ((w = wait_io(s, s->deadline, 1000)) < 0)
			break;
	if (w < 0) {
		fail_wait(s, w, EXSTATUS_ETIMEOUT, "exec");
		ret = w;
		goto out;
	}
	if (rc != 0) {
		status_fail(s->st, EXSTATUS_EEXEC, "exec request refused: %s", ssh_errmsg(s));
		ret = -EPROTO;
		goto out;
	}
	keepalive_start(s);
	if (script && (ret = send_script(s, script, slen)) != 0)
		goto out;
	/* The command reads an empty stdin, as with ssh -n (with --posix-sh,
	 * the script's </dev/null already sees to it; the EOF ends the outer
	 * /bin/sh's input all the same). */
	while (libssh2_channel_send_eof(s->ch) == LIBSSH2_ERROR_EAGAIN)
		if (wait_io(s, s->deadline, 1000) < 0)
			break;
	if ((ret = stream(s)) != 0)
		goto out;
	{
		int64_t dl = min_deadline(clock_mono_ms() + CLOSE_GRACE_MS, s->deadline);
		while ((rc = libssh2_channel_close(s->ch)) == LIBSSH2_ERROR_EAGAIN)
			if ((w = wait_io(s, dl, 1000)) < 0)
				break;
		while (rc == 0 && (rc = libssh2_channel_wait_closed(s->ch)) == LIBSSH2_ERROR_EAGAIN)
			if ((w = wait_io(s, dl, 1000)) < 0)
				break;
	}
	if (libssh2_channel_get_exit_signal(s->ch, &sig, &siglen, NULL, NULL, NULL, NULL) == 0 && sig) {
		snprintf(s->st->signal, sizeof s->st->signal, "%.*s", (int)siglen, sig);
		libssh2_free(s->ssh, sig);
	} else {
		s->st->has_exit = 1;
		s->st->exit_code = libssh2_channel_get_exit_status(s->ch);
	}
	status_phase(s->st, EXSTATUS_PH_DONE);
	ret = 0;
out:
	free(script);
	return ret;
}

/* Close what is open, politely but within FLUSH_MS. A finished run's
 * channel is closed on both sides already. After a failure the command may
 * still run, and the server answers a channel close only once it ends:
 * our close and the disconnect are handed to the kernel (libssh2 no longer
 * blocks on sending them), never waited for. The socket is then shut down,
 * so that whatever libssh2 would still wait for fails at once and the
 * session is always freed. Should the connection's end overtake those two
 * packets (closing a socket with unread data resets it), sshd closes the
 * command's streams all the same when it loses the connection. */
static void teardown(struct session *s)
{
	static volatile sig_atomic_t no_stop;
	int64_t dl = clock_mono_ms() + FLUSH_MS;
	int rc;

	s->stop = &no_stop; /* we are stopping already: the bounded waits below must run */
	input_wipe(s->pass, 0); /* a run that failed before authentication */
	s->pass = NULL;
	if (s->ch && s->st->error != EXSTATUS_OK) {
		/* Timeout, signal, dead peer…: the close makes sshd close the
		 * command's stdin, stdout and stderr (a command that writes
		 * then gets SIGPIPE, one that reads gets EOF). Without a
		 * terminal it does not otherwise stop it, and libssh2 1.10
		 * cannot send a signal. Sent once libssh2 waits only for the
		 * answer. */
		while ((rc = libssh2_channel_close(s->ch)) == LIBSSH2_ERROR_EAGAIN &&
		    (libssh2_session_block_directions(s->ssh) & LIBSSH2_SESSION_BLOCK_OUTBOUND))
			if (wait_io(s, dl, FLUSH_MS) < 0)
				break;
	} else if (s->ch) {
		while (libssh2_channel_free(s->ch) == LIBSSH2_ERROR_EAGAIN)
			if (wait_io(s, dl, FLUSH_MS) < 0)
				break;
	}
	s->ch = NULL; /* if still open, libssh2_session_free frees it */
	if (s->ssh) {
		/* Only sends (a half-sent close makes it fail at once). */
		while (libssh2_session_disconnect(s->ssh, "done") == LIBSSH2_ERROR_EAGAIN)
			if (wait_io(s, dl, FLUSH_MS) < 0)
				break;
		if (s->fd >= 0)
			shutdown(s->fd, SHUT_RDWR);
		libssh2_session_free(s->ssh);
		s->ssh = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int session_run(const struct args *a, char *passphrase, struct status *st, volatile sig_atomic_t *stop)
{
	struct session s = { .a = a, .st = st, .stop = stop, .fd = -1, .pass = passphrase };
	struct knownhosts_file *kh = NULL;
	int64_t hs_dl;
	int rc, kh_missing = 0;

	if (a->timeout_ms)
		s.deadline = st->t_start + a->timeout_ms;
	rc = knownhosts_load(a->known_hosts, &kh, NULL);
	if (rc == -ENOENT) {
		kh_missing = 1;
	} else if (rc < 0) {
		status_fail(st, EXSTATUS_EKNOWNHOSTS, "cannot read known_hosts %s: %s", a->known_hosts,
		    rc == -EFBIG ? "file too large" : strerror(-rc));
		goto out;
	}
	if (do_connect(&s) != 0)
		goto out;
	hs_dl = min_deadline(clock_mono_ms() + a->handshake_timeout_ms, s.deadline);
	if (do_handshake(&s, kh, hs_dl) != 0 || do_hostkey(&s, kh, kh_missing) != 0 ||
	    do_auth(&s, hs_dl) != 0 || do_exec(&s) != 0)
		goto out;
out:
	teardown(&s);
	knownhosts_free(kh);
	st->t_end = clock_mono_ms();
	if (st->error != EXSTATUS_OK || !st->has_exit)
		return EXIT_LOCAL;
	return st->exit_code;
}
