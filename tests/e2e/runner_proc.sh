#!/usr/bin/env bash
# tests/e2e/runner_proc.sh — secrets stay out of /proc and core dumps, read
# the way an unprivileged neighbour (or root) would: a real daemon whose
# signing secret comes from its environment (env:) and whose SSH key has a
# passphrase (file:), and a job stalled in its SSH handshake against
# tests/tools/tcp_peer, so that its remote-executor can be looked at while it
# runs. As root the daemon runs as the test user, so "not dumpable" shows as
# /proc files owned by root.
#   - the daemon: no env: secret in /proc/<pid>/environ, core size 0;
#   - the executor: neither the rendered command nor the passphrase in
#     /proc/<pid>/cmdline, no passphrase in its environ, core size 0, an
#     environment of PATH and HOME only.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

need_bins "$RUNNER_BIN" "$BUILD/remote-executor" "$BUILD/tools/tcp_peer"
need_tools curl openssl setpriv
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
. "$TOP/tests/executor.sh" # start_peer, stop_peer
start_peer silent || { fail setup "tcp_peer did not start"; exit 1; }

W=$T_TMP/w
mkdir -p "$W"
TOKEN=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
SECRET=hd-secret-$TOKEN-0123456789abcdef
printf '%s' "$PASSPHRASE" >"$W/pass"
cp "$KEY_PASS" "$W/id"
cp "$KNOWN_HOSTS" "$W/known_hosts"
"$PY" "$TOP/tests/tools/proc_config.py" "$W/config.json" "$W" "$BUILD/remote-executor" \
	"$SSH_USER@127.0.0.1:$PEER_PORT" "$TOKEN" || { fail setup "cannot write config"; exit 1; }
chmod 600 "$W/pass" "$W/id"
AS_USER=""
if [ "$(id -u)" -eq 0 ]; then
	chown -R "$SSH_USER" "$W"
	AS_USER=$SSH_USER
	# the same binary, exec'ed by setpriv as the test user: same pid
	printf '#!/bin/sh\nexec setpriv --reuid=%s --regid=%s --init-groups %s "$@"\n' \
		"$SSH_USER" "$SSH_USER" "$BUILD/webhook-runner" >"$T_TMP/as-user"
	chmod 755 "$T_TMP/as-user"
	RUNNER_BIN=$T_TMP/as-user
fi
export WR_PROC_SECRET=$SECRET
RUNNER_LOG=$T_TMP/runner.log
runner_start "$W/config.json" || { fail runner_start "webhook-runner did not start (see stderr)"; exit 1; }
unset WR_PROC_SECRET

# ---- the daemon ---------------------------------------------------------------
expect_eq daemon_is_the_runner "$(tr '\0' ' ' <"/proc/$RUNNER_PID/cmdline" | cut -d' ' -f1)" "$BUILD/webhook-runner"
check daemon_environ_has_no_secret bash -c "! tr '\0' '\n' <'/proc/$RUNNER_PID/environ' | grep -qF '$SECRET'"
check daemon_environ_wiped bash -c "! tr '\0' '\n' <'/proc/$RUNNER_PID/environ' | grep -q ."
check daemon_no_core grep -Eq '^Max core file size +0 +0 ' "/proc/$RUNNER_PID/limits"
if [ -n "$AS_USER" ]; then
	expect_eq daemon_runs_as_test_user "$(stat -c %U "/proc/$RUNNER_PID")" "$AS_USER"
	expect_eq daemon_not_dumpable "$(stat -c %U "/proc/$RUNNER_PID/environ")" root
else
	skip daemon_not_dumpable "needs root to run the daemon as another user"
fi

# ---- a job stalled in its handshake --------------------------------------------
printf '{"v":"value-%s"}' "$TOKEN" >"$W/body.json"
SIG=$(openssl dgst -sha256 -hmac "$SECRET" -binary "$W/body.json" | openssl base64 -A)
curl -s -o "$T_TMP/stall.body" --max-time 40 -H "x-hookdeck-signature: $SIG" \
	-H "Idempotency-Key: proc-1" --data-binary @"$W/body.json" "$(runner_url stall)" &
CURL=$!
BG_PIDS+=($CURL)
exec_pid() {
	local p
	for p in $(pgrep -P "$RUNNER_PID" 2>/dev/null); do
		grep -q remote-executor "/proc/$p/cmdline" 2>/dev/null && { echo "$p"; return 0; }
	done
	return 1
}
stalled() { EXEC_PID=$(exec_pid) && grep -q accepted "$PEER_ERR"; }
if wait_until 10 stalled; then
	ok executor_stalled_in_handshake
	tr '\0' '\n' <"/proc/$EXEC_PID/cmdline" >"$T_TMP/exec.cmdline"
	tr '\0' '\n' <"/proc/$EXEC_PID/environ" >"$T_TMP/exec.environ"
	check executor_cmdline_read test -s "$T_TMP/exec.cmdline"
	check executor_cmdline_no_command bash -c "! grep -qF -e 'cmd-marker-$TOKEN' -e 'value-$TOKEN' '$T_TMP/exec.cmdline'"
	check executor_cmdline_no_passphrase bash -c "! grep -qF '$PASSPHRASE' '$T_TMP/exec.cmdline'"
	check executor_cmdline_uses_descriptors grep -qx -- --command-fd "$T_TMP/exec.cmdline"
	check executor_environ_no_passphrase bash -c "! grep -qF '$PASSPHRASE' '$T_TMP/exec.environ'"
	check executor_environ_no_secret bash -c "! grep -qF '$SECRET' '$T_TMP/exec.environ'"
	expect_eq executor_environ_minimal "$(cut -d= -f1 "$T_TMP/exec.environ" | sort | tr '\n' ' ')" "HOME PATH "
	check executor_no_core grep -Eq '^Max core file size +0 +0 ' "/proc/$EXEC_PID/limits"
	if [ -n "$AS_USER" ]; then
		expect_eq executor_not_dumpable "$(stat -c %U "/proc/$EXEC_PID/environ")" root
	else
		skip executor_not_dumpable "needs root to run the daemon as another user"
	fi
	# its descriptors: the command and the passphrase are not on disk anywhere
	fds=$(ls -l "/proc/$EXEC_PID/fd" 2>/dev/null | grep -c 'memfd:' || true)
	check executor_no_memfd_left_open test "$fds" -eq 0
else
	fail executor_stalled_in_handshake "no executor of the daemon reached the peer"
fi
kill "$RUNNER_PID" 2>/dev/null # the drain interrupts the stalled job
wait "$CURL" 2>/dev/null
check no_secret_in_log bash -c "! grep -qF -e '$SECRET' -e '$PASSPHRASE' '$RUNNER_LOG'"
