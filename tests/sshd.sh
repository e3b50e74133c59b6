# tests/sshd.sh — a real OpenSSH sshd on a free loopback port with throwaway
# host and user keys, for end-to-end tests. Source after tests/lib.sh, then:
#   sshd_start [extra sshd_config lines...]   sets SSHD_PORT SSHD_DIR SSH_USER
#                                             KNOWN_HOSTS KEY_ED25519 KEY_ECDSA
#                                             KEY_RSA KEY_PASS (passphrase: PASSPHRASE)
#                                             KEY_STRANGER (not authorized) MARK_DIR
#   sshd_stop
# As root the login is the dedicated user $WR_TEST_USER (default wrtest, shell
# /bin/sh, password field '*' so sshd without PAM does not treat it as locked);
# otherwise the current user (sshd then runs unprivileged).
#
# Accounts with other login shells: set SSHD_SHELL_USERS="name:/shell ..."
# (e.g. "wrsh-fish:/usr/bin/fish wrsh-tcsh:/usr/bin/tcsh") before sshd_start.
# As root each is created if absent (useradd -m), given that shell, unlocked
# like $WR_TEST_USER and allowed in; they share the authorized keys. Sets
# SSHD_SHELL_READY (the names set up) and SSHD_SHELL_SKIP (why some or all
# are not: not root, a shell that is not installed).
WR_TEST_USER=${WR_TEST_USER:-wrtest}
PASSPHRASE='correct horse battery staple'
SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

sshd_user() {
	if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
	if ! getent passwd "$WR_TEST_USER" >/dev/null; then
		useradd -m -s /bin/sh "$WR_TEST_USER" >/dev/null 2>&1 ||
			getent passwd "$WR_TEST_USER" >/dev/null || return 1
	fi
	# Unlock (sshd without PAM refuses '!' accounts) without giving a password.
	if [ "$(getent shadow "$WR_TEST_USER" | cut -d: -f2)" != "*" ]; then
		usermod -p '*' "$WR_TEST_USER" >/dev/null 2>&1 || true
	fi
	mkdir -p /run/sshd && chmod 755 /run/sshd
	echo "$WR_TEST_USER"
}

# sshd_account NAME SHELL : NAME exists, has login shell SHELL, is unlocked
sshd_account() {
	local u=$1 sh=$2
	[ -x "$sh" ] || return 1
	if ! getent passwd "$u" >/dev/null; then
		useradd -m -s "$sh" "$u" >/dev/null 2>&1 || getent passwd "$u" >/dev/null || return 1
	fi
	if [ "$(getent passwd "$u" | cut -d: -f7)" != "$sh" ]; then
		usermod -s "$sh" "$u" >/dev/null 2>&1 || return 1
	fi
	if [ "$(getent shadow "$u" | cut -d: -f2)" != "*" ]; then
		usermod -p '*' "$u" >/dev/null 2>&1 || return 1
	fi
}

# sshd_shell_users : set up SSHD_SHELL_USERS, filling SSHD_SHELL_READY/SKIP
sshd_shell_users() {
	local e u sh
	SSHD_SHELL_READY="" SSHD_SHELL_SKIP=""
	[ -n "${SSHD_SHELL_USERS:-}" ] || return 0
	if [ "$(id -u)" -ne 0 ]; then
		SSHD_SHELL_SKIP="not root: cannot create accounts with other login shells"
		return 0
	fi
	for e in $SSHD_SHELL_USERS; do
		u=${e%%:*} sh=${e#*:}
		if sshd_account "$u" "$sh"; then
			SSHD_SHELL_READY+="$u "
		else
			SSHD_SHELL_SKIP+="$u: cannot set up with $sh (installed? sh tests/deps.sh); "
		fi
	done
}

sshd_keys() { # dir
	local d=$1
	mkdir -p "$d" && chmod 755 "$d"
	ssh-keygen -q -t ed25519 -N '' -C host -f "$d/host_ed25519"
	ssh-keygen -q -t ecdsa -b 256 -N '' -C host -f "$d/host_ecdsa"
	ssh-keygen -q -t ed25519 -N '' -C user-ed25519 -f "$d/id_ed25519"
	ssh-keygen -q -t ecdsa -b 384 -N '' -C user-ecdsa -f "$d/id_ecdsa"
	ssh-keygen -q -t rsa -b 2048 -N '' -C user-rsa -f "$d/id_rsa"
	ssh-keygen -q -t ed25519 -N "$PASSPHRASE" -C user-pass -f "$d/id_pass"
	ssh-keygen -q -t ed25519 -N '' -C stranger -f "$d/id_stranger"
	cat "$d"/id_ed25519.pub "$d"/id_ecdsa.pub "$d"/id_rsa.pub "$d"/id_pass.pub >"$d/authorized_keys"
	chmod 644 "$d/authorized_keys"
}

sshd_start() {
	SSH_USER=$(sshd_user) || { echo "sshd_start: cannot set up test user" >&2; return 1; }
	sshd_shell_users
	SSHD_DIR=${SSHD_DIR:-$T_TMP/sshd}
	[ -f "$SSHD_DIR/host_ed25519" ] || sshd_keys "$SSHD_DIR"
	KEY_ED25519=$SSHD_DIR/id_ed25519 KEY_ECDSA=$SSHD_DIR/id_ecdsa KEY_RSA=$SSHD_DIR/id_rsa
	KEY_PASS=$SSHD_DIR/id_pass KEY_STRANGER=$SSHD_DIR/id_stranger
	MARK_DIR=$T_TMP/marks
	mkdir -p "$MARK_DIR" && chmod 1777 "$MARK_DIR"
	local try port
	for try in 1 2 3 4 5 6 7 8; do
		port=$((20000 + (RANDOM * 7 + try * 131) % 40000))
		{
			echo "Port $port"
			echo "ListenAddress 127.0.0.1"
			echo "HostKey $SSHD_DIR/host_ed25519"
			echo "HostKey $SSHD_DIR/host_ecdsa"
			echo "PidFile $SSHD_DIR/sshd.pid"
			echo "AuthorizedKeysFile $SSHD_DIR/authorized_keys"
			echo "StrictModes no"
			echo "UsePAM no"
			echo "PasswordAuthentication no"
			echo "KbdInteractiveAuthentication no"
			echo "PubkeyAuthentication yes"
			# libssh2 1.10 signs RSA user keys with SHA-1 only (see README).
			echo "PubkeyAcceptedAlgorithms +ssh-rsa"
			echo "AllowUsers $SSH_USER $SSHD_SHELL_READY"
			echo "MaxStartups 200"
			echo "MaxSessions 200"
			echo "PrintMotd no"
			echo "PrintLastLog no"
			echo "Subsystem sftp internal-sftp"
			echo "LogLevel VERBOSE"
			local l
			for l in "$@"; do echo "$l"; done
		} >"$SSHD_DIR/sshd_config"
		"$SSHD_BIN" -D -e -f "$SSHD_DIR/sshd_config" 2>>"$SSHD_DIR/sshd.log" &
		SSHD_PID=$!
		local i
		for i in $(seq 1 100); do
			kill -0 "$SSHD_PID" 2>/dev/null || break
			if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
				SSHD_PORT=$port
				at_exit "sshd_stop"
				KNOWN_HOSTS=$SSHD_DIR/known_hosts
				ssh-keyscan -p "$SSHD_PORT" -t ed25519,ecdsa 127.0.0.1 >"$KNOWN_HOSTS" 2>/dev/null
				[ -s "$KNOWN_HOSTS" ] || { echo "sshd_start: ssh-keyscan failed" >&2; return 1; }
				return 0
			fi
			sleep 0.05
		done
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	done
	echo "sshd_start: could not start sshd; log:" >&2
	tail -n 20 "$SSHD_DIR/sshd.log" >&2
	return 1
}

sshd_stop() {
	[ -n "${SSHD_PID:-}" ] || return 0
	kill "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
}

# ssh_ref ARGS... : the same command through OpenSSH ssh(1), the reference peer.
ssh_ref() {
	ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
		-o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
		-i "$KEY_ED25519" -p "$SSHD_PORT" "$SSH_USER@127.0.0.1" "$@"
}
