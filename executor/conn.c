/*
 * conn.c — one authenticated SSH connection over libssh2 (contract in
 * conn.h). Every step returns 0 or a negative errno, and records why it
 * failed in the status (status_fail) before it returns: the errno is for
 * the control flow, the status for the caller of the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>

#include "../common/clock.h"
#include "conn.h"
#include "input.h"
#include "knownhosts.h"
#include "net.h"

#define FLUSH_MS 50 /* teardown: handing the last packets to the kernel */
#define RELEASE_MS 1000 /* freeing a finished run's channel on a connection kept open */

int64_t conn_min_deadline(int64_t a, int64_t b)
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
	struct conn *s = *abstract;
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
int conn_wait_io(struct conn *s, int64_t deadline, int cap_ms)
{
	struct pollfd p[2] = { { .fd = s->fd }, { .fd = s->watch_fd, .events = POLLIN } };
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
		p[0].events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		p[0].events |= POLLOUT;
	if (!p[0].events)
		p[0].events = POLLIN;
	if (poll(p, s->watch_fd >= 0 ? 2 : 1, ms) < 0 && errno != EINTR)
		return -errno;
	/* The client sends nothing after its request: a byte, its EOF or a
	 * hang-up all mean it is gone, and the run stops as on a signal. */
	if (s->watch_fd >= 0 && p[1].revents) {
		s->stop_why = "the client went away";
		*s->stop = 1;
	}
	return *s->stop ? -EINTR : 0;
}

const char *conn_errmsg(struct conn *s)
{
	char *msg = NULL;

	libssh2_session_last_error(s->ssh, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown libssh2 error";
}

/* A failed wait during phase work: the stop signal, the overall timeout, or
 * the phase's own timeout (reported as PHASE_TIMEOUT). */
void conn_fail_wait(struct conn *s, int w, enum exstatus_error phase_timeout, const char *what)
{
	if (w == -EINTR)
		status_fail(s->st, EXSTATUS_ETERMINATED, "%s during %s", s->stop_why, what);
	else if (w == -ETIMEDOUT && s->deadline && clock_mono_ms() >= s->deadline)
		status_fail(s->st, EXSTATUS_ETIMEOUT, "run timed out during %s", what);
	else if (w == -ETIMEDOUT)
		status_fail(s->st, phase_timeout, "%s timed out", what);
	else
		status_fail(s->st, EXSTATUS_EIO, "%s: %s", what, strerror(-w));
}

static int do_connect(struct conn *s)
{
	int64_t dl = conn_min_deadline(clock_mono_ms() + s->a->connect_timeout_ms, s->deadline);
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
		status_fail(s->st, EXSTATUS_ETERMINATED, "%s during connect", s->stop_why);
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

static int do_handshake(struct conn *s, const struct knownhosts_file *kh, int64_t dl)
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
		if ((w = conn_wait_io(s, dl, 1000)) < 0)
			break;
	if (w < 0) {
		conn_fail_wait(s, w, EXSTATUS_EHANDSHAKETIMEOUT, "SSH handshake");
		return w;
	}
	if (rc != 0) {
		if (rc == LIBSSH2_ERROR_TIMEOUT)
			status_fail(s->st, EXSTATUS_EHANDSHAKETIMEOUT, "SSH handshake timed out");
		else
			status_fail(s->st, EXSTATUS_EHANDSHAKE, "SSH handshake failed: %s", conn_errmsg(s));
		return rc == LIBSSH2_ERROR_TIMEOUT ? -ETIMEDOUT : -EPROTO;
	}
	return 0;
}

static int do_hostkey(struct conn *s, const struct knownhosts_file *kh, int kh_missing)
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
	snprintf(s->hostkey_type, sizeof s->hostkey_type, "%s", s->st->hostkey_type);
	snprintf(s->hostkey, sizeof s->hostkey, "%s", s->st->hostkey);
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
static int auth_file(struct conn *s, const char *path, const char *pass, int64_t dl, int *accepted)
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
		if ((w = conn_wait_io(s, dl, 1000)) < 0)
			break;
	if (w < 0) {
		conn_fail_wait(s, w, EXSTATUS_EHANDSHAKETIMEOUT, "authentication");
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
	status_fail(s->st, EXSTATUS_EAUTH, "authentication with %s failed: %s", path, conn_errmsg(s));
	return -EPROTO;
}

/* Try every identity ssh-agent holds. 0 (*ACCEPTED says whether the server
 * took one), or a negative errno with the status set. */
static int auth_agent(struct conn *s, int64_t dl, int *accepted)
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
			if ((w = conn_wait_io(s, dl, 1000)) < 0)
				break;
		if (w < 0) {
			conn_fail_wait(s, w, EXSTATUS_EHANDSHAKETIMEOUT, "authentication");
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

static int do_auth(struct conn *s, int64_t dl)
{
	static const char *const defaults[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *user = s->a->user;
	char *methods, *pass = s->pass, path[4096];
	int rc = -EACCES, r = 0, w = 0, tried = 0, accepted = 0;
	size_t i;

	status_phase(s->st, EXSTATUS_PH_AUTH);
	while (!(methods = libssh2_userauth_list(s->ssh, user, (unsigned)strlen(user))) &&
	    libssh2_session_last_errno(s->ssh) == LIBSSH2_ERROR_EAGAIN)
		if ((w = conn_wait_io(s, dl, 1000)) < 0)
			break;
	if (w < 0) {
		conn_fail_wait(s, w, EXSTATUS_EHANDSHAKETIMEOUT, "authentication");
		rc = w;
		goto out;
	}
	if (!methods) {
		if (libssh2_userauth_authenticated(s->ssh)) {
			rc = 0; /* the server accepted "none" */
			goto out;
		}
		status_fail(s->st, EXSTATUS_EAUTH, "authentication failed: %s", conn_errmsg(s));
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

/* Keepalives from now on (when --keepalive is not 0). */
void conn_keepalive_start(struct conn *s)
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
	s->keepalive_s = ka;
	s->last_rx = clock_mono_ms();
}

/* Between waits: send a keepalive when one is due (only when CAN_SEND: no
 * packet of ours is half-sent, which libssh2 must finish first), and call
 * the peer dead after dead_ms of silence. 0, or -EIO (connection lost) or
 * -ETIMEDOUT (dead peer) with the status set. */
int conn_keepalive_tick(struct conn *s, int can_send)
{
	int secs_to_next;

	if (!s->a->keepalive_s)
		return 0;
	if (can_send && libssh2_keepalive_send(s->ssh, &secs_to_next) != 0 &&
	    libssh2_session_last_errno(s->ssh) != LIBSSH2_ERROR_EAGAIN) {
		status_fail(s->st, EXSTATUS_EIO, "connection lost: %s", conn_errmsg(s));
		return -EIO;
	}
	if (clock_mono_ms() - s->last_rx > s->dead_ms) {
		status_fail(s->st, EXSTATUS_EKEEPALIVE, "no answer from %s for %lld s (keepalive)",
		    s->a->host, (long long)s->dead_ms / 1000);
		return -ETIMEDOUT;
	}
	return 0;
}

/* Close what is open, politely but within FLUSH_MS (contract in conn.h). A finished run's
 * channel is closed on both sides already. After a failure the command may
 * still run, and the server answers a channel close only once it ends:
 * our close and the disconnect are handed to the kernel (libssh2 no longer
 * blocks on sending them), never waited for. The socket is then shut down,
 * so that whatever libssh2 would still wait for fails at once and the
 * session is always freed. Should the connection's end overtake those two
 * packets (closing a socket with unread data resets it), sshd closes the
 * command's streams all the same when it loses the connection. */
void conn_teardown(struct conn *s)
{
	static volatile sig_atomic_t no_stop;
	int64_t dl = clock_mono_ms() + FLUSH_MS;
	int rc;

	s->stop = &no_stop; /* we are stopping already: the bounded waits below must run */
	s->watch_fd = -1;
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
			if (conn_wait_io(s, dl, FLUSH_MS) < 0)
				break;
	} else if (s->ch) {
		while (libssh2_channel_free(s->ch) == LIBSSH2_ERROR_EAGAIN)
			if (conn_wait_io(s, dl, FLUSH_MS) < 0)
				break;
	}
	s->ch = NULL; /* if still open, libssh2_session_free frees it */
	if (s->ssh) {
		/* Only sends (a half-sent close makes it fail at once). */
		while (libssh2_session_disconnect(s->ssh, "done") == LIBSSH2_ERROR_EAGAIN)
			if (conn_wait_io(s, dl, FLUSH_MS) < 0)
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


void conn_bind(struct conn *c, const struct args *a, struct status *st, volatile sig_atomic_t *stop)
{
	c->a = a;
	c->st = st;
	c->stop = stop;
	c->stop_why = "terminated by signal";
	c->deadline = a->timeout_ms ? st->t_start + a->timeout_ms : 0;
	c->ch = NULL;
	c->out_closed[0] = c->out_closed[1] = 0;
	c->exec_sent = 0;
	c->frame_cut = 0;
	if (c->ssh) {
		snprintf(st->hostkey_type, sizeof st->hostkey_type, "%s", c->hostkey_type);
		snprintf(st->hostkey, sizeof st->hostkey, "%s", c->hostkey);
	}
}

void conn_init(struct conn *c, const struct args *a, char *passphrase, struct status *st,
    volatile sig_atomic_t *stop)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->watch_fd = -1;
	c->frame_fd = -1;
	c->pass = passphrase;
	conn_bind(c, a, st, stop);
}

int conn_open(struct conn *c)
{
	struct knownhosts_file *kh = NULL;
	int64_t hs_dl;
	int rc, kh_missing = 0;

	rc = knownhosts_load(c->a->known_hosts, &kh, NULL);
	if (rc == -ENOENT) {
		kh_missing = 1;
	} else if (rc < 0) {
		status_fail(c->st, EXSTATUS_EKNOWNHOSTS, "cannot read known_hosts %s: %s",
		    c->a->known_hosts, rc == -EFBIG ? "file too large" : strerror(-rc));
		goto out;
	}
	if ((rc = do_connect(c)) != 0)
		goto out;
	hs_dl = conn_min_deadline(clock_mono_ms() + c->a->handshake_timeout_ms, c->deadline);
	if ((rc = do_handshake(c, kh, hs_dl)) != 0 || (rc = do_hostkey(c, kh, kh_missing)) != 0 ||
	    (rc = do_auth(c, hs_dl)) != 0)
		goto out;
out:
	knownhosts_free(kh);
	if (rc < 0 && c->st->error == EXSTATUS_OK)
		status_fail(c->st, EXSTATUS_EINTERNAL, "connection failed: %s", strerror(-rc));
	return rc;
}

int conn_idle_ok(struct conn *c, int64_t now)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN | POLLRDHUP };
	int next, queued = 0;

	if (!c->ssh || c->fd < 0)
		return 0;
	/* A keepalive that could not go out whole (EAGAIN) would leave a packet
	 * half-sent, which libssh2 wants finished by the same call before any
	 * other: the next run would start from that. Rare on an idle socket;
	 * the connection is dropped instead, costing one reconnect. */
	if (c->keepalive_s && libssh2_keepalive_send(c->ssh, &next) != 0)
		return 0;
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL | POLLRDHUP)))
		return 0; /* the peer closed (sshd restarted, idle limit) or the socket failed */
	/* What the peer sent while idle (keepalive answers) stays queued for
	 * libssh2 to read with the next run: more of it means the peer lives. */
	if (ioctl(c->fd, FIONREAD, &queued) == 0 && queued > c->idle_queued) {
		c->idle_queued = queued;
		c->last_rx = now;
	}
	if (c->last_rx < c->idle_since)
		c->last_rx = c->idle_since;
	return !c->keepalive_s || now - c->last_rx <= c->dead_ms;
}

int conn_release_channel(struct conn *c)
{
	int64_t dl = clock_mono_ms() + RELEASE_MS;
	int rc = 0;

	if (!c->ch)
		return 0;
	while ((rc = libssh2_channel_free(c->ch)) == LIBSSH2_ERROR_EAGAIN)
		if (conn_wait_io(c, dl, RELEASE_MS) < 0)
			break;
	if (rc != 0)
		return -EIO; /* the channel stays with the session, which the caller tears down */
	c->ch = NULL;
	return 0;
}
