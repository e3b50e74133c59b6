#!/usr/bin/env bash
# tests/e2e/exec_split.sh — the privilege split between webhook-runner and
# the remote-executor service:
#  - the two units of that deployment (systemd/remote-executor.service,
#    systemd/webhook-runner-xservice.service) are clean for systemd-analyze
#    verify and rated at most 1.5 by systemd-analyze security --offline
#    (figures in # info lines, the stock runner unit's beside them); the
#    deploy key is a credential of the executor's unit only, and the
#    runner's unit loads no key and reaches the socket through the group;
#  - for real, as root: the service runs with the key readable by it alone;
#    webhook-runner runs as another, unprivileged user (setpriv, no
#    capabilities, no_new_privs) that is only a member of the socket's group.
#    That user cannot open the key file (the open is tried and must fail),
#    and a signed delivery still runs its job through the socket (counted on
#    the SSH target).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"
. "$TOP/tests/xservice.sh"

EX=$BUILD/remote-executor
XU=$TOP/systemd/remote-executor.service
RU=$TOP/systemd/webhook-runner-xservice.service
need_bins "$RUNNER_BIN" "$EX"
for u in "$XU" "$RU"; do [ -f "$u" ] || { fail setup "$u missing"; exit 1; }; done

# ------------------------------------------------------------ the units
exposure() { # UNIT-FILE -> "X.Y"
	(cd "$T_TMP" && timeout 60 systemd-analyze security --offline=true "$1" 2>&1) |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' | tail -n 1
}
if command -v systemd-analyze >/dev/null; then
	xs=$(exposure "$XU") rs=$(exposure "$RU") base=$(exposure "$TOP/systemd/webhook-runner.service")
	info "systemd-analyze security --offline=true: remote-executor.service $xs," \
		"webhook-runner-xservice.service $rs (webhook-runner.service $base)"
	for pair in "executor_unit_security_at_most_1.5 $xs" "runner_xservice_unit_security_at_most_1.5 $rs"; do
		set -- $pair
		if [ -n "$2" ] && awk -v s="$2" 'BEGIN { exit !(s <= 1.5) }'; then ok "$1"; else
			fail "$1" "exposure '${2:-none}' (want <= 1.5)"; fi
	done
	mkdir -p "$T_TMP/verify"
	for u in "$XU" "$RU"; do
		sed "s|^ExecStart=/usr/local/bin/|ExecStart=$BUILD/|" "$u" >"$T_TMP/verify/$(basename "$u")"
	done
	out=$(cd "$T_TMP" && timeout 60 systemd-analyze verify "$T_TMP/verify/remote-executor.service" \
		"$T_TMP/verify/webhook-runner-xservice.service" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok units_verify_clean; else
		fail units_verify_clean "rc=$rc: $(head -n 5 <<<"$out" | tr '\n' ' ')"; fi
else
	skip executor_unit_security "systemd-analyze not installed"
fi
# What each unit loads: the key only in the executor's; the group in both.
expect_eq executor_unit_loads_the_key "$(grep -c '^LoadCredential=deploy_key:' "$XU")" 1
expect_eq runner_unit_loads_only_its_secret "$(grep '^LoadCredential=' "$RU" | grep -vc '^LoadCredential=hookdeck-signing-secret:')" 0
expect_eq executor_unit_group "$(sed -n 's/^Group=//p' "$XU")" webhook-exec
expect_eq runner_unit_group "$(sed -n 's/^SupplementaryGroups=//p' "$RU")" webhook-exec
expect_eq executor_unit_socket_dir_mode "$(sed -n 's/^RuntimeDirectoryMode=//p' "$XU")" 0750

# ------------------------------------------------------------ for real
if [ "$(id -u)" -ne 0 ]; then
	skip split_key_unreadable "needs root to run the runner as another user"
	exit 0
fi
need_tools setpriv sqlite3
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
at_exit kill_leftovers
R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
chmod 755 "$R" "$P"

# The runner's account: an unused uid, and a gid standing for webhook-exec.
RUID=64917 SGID=64918
as_runner() { setpriv --reuid="$RUID" --regid="$RUID" --groups="$SGID" --inh-caps=-all \
	--bounding-set=-all --no-new-privs "$@"; }

# The key: a copy only the service's user (root here) may read.
KEYS=$T_TMP/keys
mkdir -m 700 "$KEYS"
cp "$KEY_ED25519" "$KEYS/deploy"
chmod 600 "$KEYS/deploy"
XS_DIR=$T_TMP/xs
XS_UIDS=$RUID xsvc_start "$XS_DIR" deploy "$KEYS/deploy" "$KNOWN_HOSTS" "$SSH_USER@127.0.0.1:$SSHD_PORT" ||
	{ fail xsvc_start "remote-executor serve did not start: $(tail -n 5 "$XS_DIR/service.log" 2>/dev/null)"; exit 1; }
# The socket's directory: the service's, entered by its group alone.
chgrp "$SGID" "$XS_SOCK_DIR" "$XS_SOCK" && chmod 0750 "$XS_SOCK_DIR" && chmod 0770 "$XS_SOCK"

# The open is tried and must fail: as the runner's user, cat the key.
if as_runner cat "$KEYS/deploy" >/dev/null 2>"$R/cat.err"; then
	fail split_runner_cannot_open_key "the runner's user read $KEYS/deploy"
else
	expect_match split_runner_cannot_open_key "$(cat "$R/cat.err")" 'Permission denied'
fi
# The control: the same setpriv can read a file that is the runner's.
echo readable >"$R/own" && chown "$RUID" "$R/own" && chmod 600 "$R/own"
expect_eq split_runner_user_can_read_its_own "$(as_runner cat "$R/own" 2>&1)" readable

# The runner's files: its secret, config and store, owned by it.
RD=$T_TMP/runner
mkdir -m 700 "$RD"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RD/secret"
CMD="echo \$(id -un) >>$MARK_DIR/split; echo split-ran"
DB=$RD/runner.db
mkcfg "$RD/config.json" "    { \"id\": \"split\",
      \"signature\": { \"scheme\": \"hookdeck\", \"secrets\": [\"file:$RD/secret\"] },
      \"job\": { \"destination\": \"$SSH_USER@127.0.0.1:$SSHD_PORT\", \"identity_name\": \"deploy\",
               \"command\": \"$CMD\", \"timeout_s\": 20, \"response_output\": true } }" \
	socket="$XS_SOCK" check=no
chown -R "$RUID:$RUID" "$RD"
chmod 600 "$RD/secret" "$RD/config.json"
if as_runner "$RUNNER_BIN" check-config "$RD/config.json" >"$R/check.out" 2>&1; then
	ok split_config_checks
else
	fail split_config_checks "$(head -c 300 "$R/check.out")"
fi
# The daemon as that user (runner_start's port search, through a wrapper).
cat >"$T_TMP/as_runner.sh" <<EOF
#!/bin/sh
exec setpriv --reuid=$RUID --regid=$RUID --groups=$SGID --inh-caps=-all --bounding-set=-all \
	--no-new-privs "$RUNNER_BIN" "\$@"
EOF
chmod 755 "$T_TMP/as_runner.sh"
RUNNER_BIN_WAS=$RUNNER_BIN
RUNNER_BIN=$T_TMP/as_runner.sh
CFG=$RD/config.json
RUNNER_LOG=$T_TMP/runner.log
runner_start "$CFG" || { fail runner_start "the runner did not start as uid $RUID"; exit 1; }
RUNNER_BIN=$RUNNER_BIN_WAS
expect_eq split_runner_runs_as_other_user "$(ps -o uid= -p "$RUNNER_PID" | tr -d ' ')" "$RUID"
expect_eq split_runner_has_no_caps "$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$RUNNER_PID/status")" 0000000000000000
printf '{"n":1}' >"$P/split.json"
send split1 split "$P/split.json" key-split1
answer split_job_runs_through_socket split1 code=200 status=succeeded 'output_tail=*split-ran*' runs:split=1
expect_eq split_job_ran_as_target_user "$(ran_with split)" "$SSH_USER"
