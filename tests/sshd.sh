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
			echo "AllowUsers $SSH_USER"
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
