#!/usr/bin/env bash
# tests/e2e/deploy_systemd.sh — the systemd deployment, without a running
# systemd (there is none on the test machines):
#  - systemd-analyze security --offline rates systemd/webhook-runner.service
#    at most 1.5 (systemd-timesyncd's stock unit printed for comparison);
#  - `make install DESTDIR PREFIX` lays out exactly the expected files, and
#    systemd-analyze verify is clean on the installed unit (a copy whose
#    ExecStart points into DESTDIR, so the binary it checks is the installed one);
#  - the notify protocol against a real unix datagram socket standing in for
#    systemd (tests/tools/notify_listen.py): READY=1 from the main pid once
#    /healthz answers, RELOADING=1 + MONOTONIC_USEC then READY=1 on SIGHUP
#    (good and bad file), STOPPING=1 on SIGTERM, abstract addresses, a bad
#    address; a job's remote-executor does not see NOTIFY_SOCKET;
#  - `webhook-runner healthcheck` against a live daemon, a closed port, a
#    non-HTTP peer (sshd) and a silent one (the 3 s bound);
#  - the unit's SystemCallFilter= against what the daemon and its executor
#    really call: both run a real job under strace as an unprivileged user
#    with no_new_privs and no capabilities, and every syscall seen must be in
#    the set systemd-analyze expands the unit's filter to.
# Every wait is bounded; daemons and listeners are stopped at exit.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

WR=$BUILD/webhook-runner
EX=$BUILD/remote-executor
UNIT=$TOP/systemd/webhook-runner.service
need_bins "$WR" "$EX"
[ -f "$UNIT" ] || { fail setup "$UNIT missing"; exit 1; }
HAVE_SA=1
command -v systemd-analyze >/dev/null || HAVE_SA=0

# ------------------------------------------------- systemd-analyze security
exposure() { # UNIT-FILE -> "X.Y" (empty when systemd-analyze says nothing)
	(cd "$T_TMP" && timeout 60 systemd-analyze security --offline=true "$1" 2>&1) |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' | tail -n 1
}
if [ "$HAVE_SA" = 1 ]; then
	score=$(exposure "$UNIT")
	ts_unit=/lib/systemd/system/systemd-timesyncd.service
	ts_score=-
	[ -f "$ts_unit" ] && ts_score=$(exposure "$ts_unit")
	echo "# systemd-analyze security --offline=true: webhook-runner.service $score, systemd-timesyncd.service $ts_score"
	if [ -z "$score" ]; then
		fail security_score "no exposure level in systemd-analyze's output"
	elif awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
		ok security_score_at_most_1.5
	else
		fail security_score "exposure $score > 1.5"
	fi
else
	skip security_score "systemd-analyze not installed"
fi

# ---------------------------------------------------------- make install
DEST=$T_TMP/dest
# -o: use the binaries of $BUILD as they are (never rebuild them here with
# other flags, e.g. into a sanitizer build dir).
inst() { # DESTDIR [make args...]
	local d=$1
	shift
	timeout 120 make -C "$TOP" --no-print-directory install BUILD="$BUILD" DESTDIR="$d" \
		-o "$BUILD/webhook-runner" -o "$BUILD/remote-executor" -o "$BUILD/webhook-relay" "$@" >>"$T_TMP/install.log" 2>&1
}
if inst "$DEST" PREFIX=/usr; then
	ok install_runs
	got=$(cd "$DEST" && find . -type f | sort | tr '\n' ' ')
	want="./etc/webhook-runner/config.json.example ./usr/bin/remote-executor ./usr/bin/webhook-relay ./usr/bin/webhook-runner ./usr/lib/systemd/system/webhook-relay-connect.service ./usr/lib/systemd/system/webhook-relay.service ./usr/lib/systemd/system/webhook-runner.service ./usr/share/doc/webhook-runner/README.md ./usr/share/doc/webhook-runner/config.md ./usr/share/man/man1/remote-executor.1 ./usr/share/man/man5/remote-executor.json.5 ./usr/share/man/man5/webhook-runner.json.5 ./usr/share/man/man8/webhook-relay.8 ./usr/share/man/man8/webhook-runner.8 "
	expect_eq install_layout "$got" "$want"
	modes=$(cd "$DEST" && stat -c '%a %n' usr/bin/webhook-runner usr/bin/remote-executor \
		usr/lib/systemd/system/webhook-runner.service etc/webhook-runner/config.json.example | tr '\n' ' ')
	expect_eq install_modes "$modes" "755 usr/bin/webhook-runner 755 usr/bin/remote-executor 644 usr/lib/systemd/system/webhook-runner.service 644 etc/webhook-runner/config.json.example "
	check install_binaries_are_the_build cmp -s "$WR" "$DEST/usr/bin/webhook-runner"
	check install_executor_is_the_build cmp -s "$EX" "$DEST/usr/bin/remote-executor"
	check install_example_config cmp -s "$TOP/config/example.json" "$DEST/etc/webhook-runner/config.json.example"
	expect_eq install_unit_execstart "$(grep '^ExecStart=' "$DEST/usr/lib/systemd/system/webhook-runner.service")" \
		'ExecStart=/usr/bin/webhook-runner --config ${CONFIGURATION_DIRECTORY}/config.json'
	# The unit is the repository's, except for the binary's directory.
	expect_eq install_unit_otherwise_same \
		"$(diff <(sed 's|/usr/local/bin/|/usr/bin/|' "$UNIT") "$DEST/usr/lib/systemd/system/webhook-runner.service" && echo same)" same
	# Again over the same tree: no error, nothing added; an existing config.json stays.
	echo '{"keep":1}' >"$DEST/etc/webhook-runner/config.json"
	if inst "$DEST" PREFIX=/usr; then
		expect_eq install_keeps_config_json "$(cat "$DEST/etc/webhook-runner/config.json")" '{"keep":1}'
	else
		fail install_twice "second install failed: $(tail -n 3 "$T_TMP/install.log")"
	fi
	rm -f "$DEST/etc/webhook-runner/config.json"
	# Default PREFIX is /usr/local, and the unit follows it.
	if inst "$T_TMP/dest-local"; then
		expect_eq install_default_prefix \
			"$(cd "$T_TMP/dest-local" && { ls usr/local/bin; ls usr/local/lib/systemd/system; } | tr '\n' ' ')" \
			"remote-executor webhook-relay webhook-runner webhook-relay-connect.service webhook-relay.service webhook-runner.service "
		expect_eq install_default_execstart \
			"$(grep -c '^ExecStart=/usr/local/bin/webhook-runner ' "$T_TMP/dest-local/usr/local/lib/systemd/system/webhook-runner.service")" 1
	else
		fail install_default_prefix "$(tail -n 3 "$T_TMP/install.log")"
	fi
else
	fail install_runs "$(tail -n 5 "$T_TMP/install.log")"
fi

# ------------------------------------------------- systemd-analyze verify
if [ "$HAVE_SA" = 1 ] && [ -x "$DEST/usr/bin/webhook-runner" ]; then
	mkdir -p "$T_TMP/verify"
	sed "s|^ExecStart=/usr/bin/|ExecStart=$DEST/usr/bin/|" "$DEST/usr/lib/systemd/system/webhook-runner.service" \
		>"$T_TMP/verify/webhook-runner.service"
	out=$(cd "$T_TMP" && timeout 60 systemd-analyze verify "$T_TMP/verify/webhook-runner.service" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then
		ok verify_clean
	else
		fail verify_clean "rc=$rc: $(echo "$out" | head -n 5 | tr '\n' ' ')"
	fi
	# The control: verify does look at ExecStart (a missing binary is reported).
	sed "s|^ExecStart=/usr/bin/|ExecStart=$T_TMP/nowhere/|" "$DEST/usr/lib/systemd/system/webhook-runner.service" \
		>"$T_TMP/verify/webhook-runner.service"
	out=$(cd "$T_TMP" && timeout 60 systemd-analyze verify "$T_TMP/verify/webhook-runner.service" 2>&1)
	expect_match verify_sees_a_missing_binary "$out" "nowhere/webhook-runner is not executable"
else
	skip verify_clean "systemd-analyze not installed or make install failed"
fi
# The relay's unit: as clean and as hardened as the runner's.
if [ "$HAVE_SA" = 1 ] && [ -x "$DEST/usr/bin/webhook-relay" ]; then
	sed "s|^ExecStart=/usr/bin/|ExecStart=$DEST/usr/bin/|" "$DEST/usr/lib/systemd/system/webhook-relay.service" \
		>"$T_TMP/verify/webhook-relay.service"
	out=$(cd "$T_TMP" && timeout 60 systemd-analyze verify "$T_TMP/verify/webhook-relay.service" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok relay_unit_verify_clean
	else fail relay_unit_verify_clean "rc=$rc: $(echo "$out" | head -n 5 | tr '\n' ' ')"; fi
	score=$(exposure "$TOP/systemd/webhook-relay.service")
	echo "# systemd-analyze security --offline=true: webhook-relay.service $score"
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
		ok relay_unit_security_at_most_1.5
	else fail relay_unit_security_at_most_1.5 "exposure '$score'"; fi
else
	skip relay_unit_verify_clean "systemd-analyze not installed or make install failed"
fi

# ------------------------------------------------------ the notify protocol
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
N=$T_TMP/n
mkdir -p "$N"
printf 'deploy-secret-%s' "$RANDOM$RANDOM" >"$N/secret"
chmod 600 "$N/secret"
# The executor, as the daemon starts it: record the environment it gets.
cat >"$N/executor" <<EOF
#!/bin/sh
env >"$N/executor.env.\$\$"
exec "$EX" "\$@"
EOF
chmod 755 "$N/executor"
write_config() { # FILE STORE EXECUTOR SECRET IDENTITY KNOWN_HOSTS
	cat >"$1" <<EOF
{
  "server": { "drain_timeout_s": 5 },
  "store": { "path": "$2" },
  "executor": { "path": "$3" },
  "hooks": [ {
    "id": "deploy",
    "signature": { "scheme": "hookdeck", "secrets": ["file:$4"] },
    "job": { "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT", "identity": "$5",
             "known_hosts": "$6", "command": "echo deployed", "timeout_s": 30 }
  } ]
}
EOF
}
CFG=$N/config.json
write_config "$CFG" "$N/runner.db" "$N/executor" "$N/secret" "$KEY_ED25519" "$KNOWN_HOSTS"
echo '{"ref":"refs/heads/main"}' >"$N/payload.json"

D_PID= L_PID=
stop_daemon() {
	[ -n "$D_PID" ] && kill -9 "$D_PID" 2>/dev/null && wait "$D_PID" 2>/dev/null
	D_PID=
}
stop_listener() {
	[ -n "$L_PID" ] && kill "$L_PID" 2>/dev/null && wait "$L_PID" 2>/dev/null
	L_PID=
}
at_exit stop_daemon
at_exit stop_listener

# start_notified TAG ADDRESS [LISTEN=1]: a listener on ADDRESS (unless LISTEN
# is 0) and a daemon with NOTIFY_SOCKET=ADDRESS on a free port. Sets D_PID,
# D_PORT, MSGS (the listener's lines), D_LOG.
start_notified() {
	local tag=$1 addr=$2 listen=${3:-1} try port
	MSGS=$N/$tag.msgs D_LOG=$N/$tag.log
	: >"$MSGS"
	if [ "$listen" = 1 ]; then
		"$PY" "$TOP/tests/tools/notify_listen.py" "$addr" "$N/$tag.port" "$MSGS" 2>>"$N/$tag.listener.err" &
		L_PID=$!
		wait_until 10 test -e "$MSGS.bound" || { echo "listener did not bind" >&2; return 1; }
	fi
	for try in 1 2 3 4 5 6; do
		port=$((20000 + (RANDOM * 5 + try * 977) % 40000))
		echo "$port" >"$N/$tag.port"
		NOTIFY_SOCKET=$addr "$WR" --config "$CFG" --host 127.0.0.1 --port "$port" >>"$D_LOG" 2>&1 &
		D_PID=$!
		if wait_until 10 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz"; then
			D_PORT=$port
			return 0
		fi
		kill -9 "$D_PID" 2>/dev/null
		wait "$D_PID" 2>/dev/null
		D_PID=
	done
	return 1
}
nmsgs() { wc -l <"$MSGS" | tr -d ' '; }
has_msgs() { [ "$(nmsgs)" -ge "$1" ]; }
msg() { sed -n "${1}p" "$MSGS"; } # the Nth line
kinds() { sed -E 's/^pid=[^ ]* mono=[^ ]* healthz=[^ ]* ([A-Z]+)=1.*/\1/' "$MSGS" | tr '\n' ' '; }

if start_notified main "$N/notify.sock"; then
	ok notify_daemon_started
	wait_until 10 has_msgs 1
	m1=$(msg 1)
	expect_match notify_ready_first "$m1" "^pid=[0-9]+ mono=[0-9]+ healthz=[^ ]+ READY=1\|"
	expect_match notify_ready_once_healthz_answers "$m1" " healthz=200 "
	expect_match notify_ready_from_main_pid "$m1" "^pid=$D_PID .*\|MAINPID=$D_PID\|"
	expect_match notify_ready_status "$m1" "\|STATUS=serving 1 hook on 127\.0\.0\.1:$D_PORT\|"

	# healthcheck against the live daemon, three spellings.
	hc_out=$("$WR" healthcheck --port "$D_PORT" 2>&1)
	hc_rc=$?
	expect_eq healthcheck_live_exit "$hc_rc" 0
	expect_match healthcheck_live_says "$hc_out" '^healthy: \{"status":"ok",'
	"$WR" healthcheck --url "http://127.0.0.1:$D_PORT/healthz" >/dev/null 2>&1
	expect_eq healthcheck_live_url "$?" 0
	"$WR" healthcheck --url "http://localhost:$D_PORT/" >/dev/null 2>&1
	expect_eq healthcheck_live_localhost "$?" 0

	# A job: the executor's environment has no NOTIFY_SOCKET.
	rsign "$CFG" deploy "$N/payload.json" >"$N/hdrs" 2>>"$N/sign.err"
	code=$(curl -s --max-time 60 -o "$N/job.body" -w '%{http_code}' -H @"$N/hdrs" \
		--data-binary @"$N/payload.json" "http://127.0.0.1:$D_PORT/hooks/deploy")
	expect_eq notify_job_ran "$code" 200
	envf=$(ls "$N"/executor.env.* 2>/dev/null | head -n 1)
	if [ -n "$envf" ] && grep -q '^PATH=' "$envf"; then
		if grep -q NOTIFY_SOCKET "$envf"; then
			fail executor_env_has_no_notify_socket "$(grep NOTIFY_SOCKET "$envf")"
		else
			ok executor_env_has_no_notify_socket
		fi
	else
		fail executor_env_has_no_notify_socket "the executor's environment was not recorded"
	fi

	# SIGHUP with a good file: RELOADING=1 (MONOTONIC_USEC = now), then READY=1.
	kill -HUP "$D_PID"
	wait_until 10 has_msgs 3
	m2=$(msg 2) m3=$(msg 3)
	expect_match notify_reloading "$m2" " RELOADING=1\|MONOTONIC_USEC=[0-9]+\|"
	usec=$(sed -nE 's/.*MONOTONIC_USEC=([0-9]+).*/\1/p' <<<"$m2")
	mono=$(sed -nE 's/^pid=[^ ]* mono=([0-9]+).*/\1/p' <<<"$m2")
	if [ -n "$usec" ] && [ -n "$mono" ] && [ "$usec" -le "$mono" ] && [ $((mono - usec)) -lt 5000000 ]; then
		ok notify_monotonic_usec_is_now
	else
		fail notify_monotonic_usec_is_now "MONOTONIC_USEC=$usec, received at $mono"
	fi
	expect_match notify_ready_after_reload "$m3" " healthz=200 READY=1\|STATUS=configuration reloaded\|"

	# SIGHUP with a broken file: the same pair, the status says rejected.
	cp "$CFG" "$N/config.good"
	echo '{ "hooks": [' >"$CFG"
	kill -HUP "$D_PID"
	wait_until 10 has_msgs 5
	expect_match notify_reloading_bad_file "$(msg 4)" " RELOADING=1\|"
	expect_match notify_ready_after_rejected_reload "$(msg 5)" " healthz=200 READY=1\|STATUS=reload rejected"
	cp "$N/config.good" "$CFG"

	# SIGTERM: STOPPING=1 with a stop timeout that covers the drain (5 s + 30 s).
	t0=$(now_ms)
	kill -TERM "$D_PID"
	rc=timeout
	if wait_until 20 pid_gone "$D_PID"; then
		wait "$D_PID"
		rc=$?
	fi
	D_PID=
	expect_eq notify_daemon_exit_after_term "$rc" 0
	wait_until 5 has_msgs 6
	expect_match notify_stopping "$(msg 6)" "^pid=[0-9]+ .* STOPPING=1\|STATUS=draining 0 running job\(s\) for up to 5 s\|EXTEND_TIMEOUT_USEC=35000000\|$"
	expect_eq notify_sequence "$(kinds)" "READY RELOADING READY RELOADING READY STOPPING "
	echo "# stopped in $(($(now_ms) - t0)) ms"

	# The port is closed now: healthcheck says so, in one line, exit 1.
	hc_out=$("$WR" healthcheck --port "$D_PORT" 2>&1)
	hc_rc=$?
	expect_eq healthcheck_closed_exit "$hc_rc" 1
	expect_match healthcheck_closed_says "$hc_out" "^webhook-runner healthcheck: http://127\.0\.0\.1:$D_PORT/healthz: connect: Connection refused$"
else
	fail notify_daemon_started "$(tail -n 5 "$N/main.log" 2>/dev/null)"
fi
stop_daemon
stop_listener

# An abstract address ("@name"), as systemd uses in some setups.
if start_notified abstract "@wr-test-$$-$RANDOM"; then
	wait_until 10 has_msgs 1
	expect_match notify_abstract_ready "$(msg 1)" " healthz=200 READY=1\|"
else
	fail notify_abstract_ready "daemon did not start"
fi
stop_daemon
stop_listener

# A bad address: the daemon serves anyway and says why in the log.
if start_notified badaddr "relative.sock" 0; then
	ok notify_bad_address_still_serves
	wait_until 5 grep -q 'notify' "$D_LOG"
	expect_match notify_bad_address_logged "$(grep notify "$D_LOG" | head -n 1)" "warn notify error=\"?Invalid argument"
else
	fail notify_bad_address_still_serves "daemon did not start: $(tail -n 3 "$D_LOG")"
fi
stop_daemon

# ------------------------------------------- healthcheck against odd peers
# sshd answers, but not in HTTP.
hc_out=$("$WR" healthcheck --port "$SSHD_PORT" 2>&1)
hc_rc=$?
expect_eq healthcheck_not_http_exit "$hc_rc" 1
# (sshd may reset the connection before its banner is read: either is one line.)
expect_match healthcheck_not_http_says "$hc_out" "^webhook-runner healthcheck: [^ ]*: (not an HTTP answer|answer: Connection reset by peer)$"
# A peer that accepts and never answers: the 3 s bound.
"$PY" "$TOP/tests/tools/silent_listener.py" "$N/silent.port" &
SILENT_PID=$!
at_exit "kill $SILENT_PID"
if wait_until 10 test -s "$N/silent.port"; then
	t0=$(now_ms)
	hc_out=$("$WR" healthcheck --port "$(cat "$N/silent.port")" 2>&1)
	hc_rc=$?
	dt=$(($(now_ms) - t0))
	expect_eq healthcheck_silent_exit "$hc_rc" 1
	expect_match healthcheck_silent_says "$hc_out" ": answer: no answer within 3000 ms$"
	if [ "$dt" -ge 2900 ] && [ "$dt" -lt 6000 ]; then ok healthcheck_silent_bounded; else
		fail healthcheck_silent_bounded "took $dt ms"; fi
else
	fail healthcheck_silent "the silent peer did not start"
fi
"$WR" healthcheck --port 0 >/dev/null 2>&1
expect_eq healthcheck_bad_port_exit "$?" 1
"$WR" healthcheck --url "https://127.0.0.1:1/" >/dev/null 2>&1
expect_eq healthcheck_https_refused_exit "$?" 1

# ------------------------------- the unit's syscall filter vs. real syscalls
# What systemd would allow: expand the unit's SystemCallFilter= lines (an
# allow list, then ~deny lists) with systemd-analyze's own group tables.
allowed_syscalls() {
	"$PY" "$TOP/tests/tools/unit_allowed_syscalls.py" "$UNIT"
}
if ! command -v strace >/dev/null || ! command -v setpriv >/dev/null || [ "$HAVE_SA" = 0 ] || [ "$(id -u)" -ne 0 ]; then
	skip syscall_filter "needs strace, setpriv, systemd-analyze and root (to become an unprivileged user)"
else
	SC=$T_TMP/sc
	mkdir -p "$SC/bin"
	cp "$WR" "$EX" "$SC/bin/"
	cp "$KEY_ED25519" "$SC/key"
	cp "$KNOWN_HOSTS" "$SC/known_hosts"
	cp "$N/secret" "$SC/secret"
	write_config "$SC/config.json" "$SC/runner.db" "$SC/bin/remote-executor" "$SC/secret" "$SC/key" "$SC/known_hosts"
	chown -R 65534:65534 "$SC"
	chmod 700 "$SC"
	chmod 600 "$SC/key" "$SC/secret"
	allowed_syscalls >"$T_TMP/allowed" 2>"$T_TMP/allowed.err"
	SC_PID= sc_port=
	for try in 1 2 3 4; do
		sc_port=$((20000 + (RANDOM * 3 + try * 1231) % 40000))
		# Like the unit: another uid, no_new_privs, no capabilities at all.
		setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
			--inh-caps=-all --bounding-set=-all -- \
			strace -f -qq -o "$SC/trace" -- "$SC/bin/webhook-runner" --config "$SC/config.json" \
			--host 127.0.0.1 --port "$sc_port" >>"$T_TMP/sc.log" 2>&1 &
		SC_PID=$!
		if wait_until 20 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$sc_port/healthz"; then break; fi
		kill -9 "$SC_PID" 2>/dev/null
		wait "$SC_PID" 2>/dev/null
		SC_PID=
	done
	if [ -n "$SC_PID" ]; then
		at_exit "kill -9 $SC_PID"
		# Signals go to the daemon, strace's child (strace would detach on them).
		SC_D=$(pgrep -P "$SC_PID" -x webhook-runner | head -n 1)
		"$WR" sign --config "$SC/config.json" --hook deploy "$N/payload.json" >"$SC.hdrs" 2>>"$N/sign.err"
		code=$(curl -s --max-time 60 -o "$SC.body" -w '%{http_code}' -H @"$SC.hdrs" \
			--data-binary @"$N/payload.json" "http://127.0.0.1:$sc_port/hooks/deploy")
		expect_eq syscall_run_job_as_nobody "$code" 200
		kill -HUP "$SC_D"
		sleep 0.5
		curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$sc_port/metrics"
		kill -TERM "$SC_D"
		wait_until 20 pid_gone "$SC_PID" || kill -9 "$SC_PID" "$SC_D"
		wait "$SC_PID" 2>/dev/null
		SC_PID=
		used=$(sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p; s/^[0-9]+ +<\.\.\. ([a-z0-9_]+) resumed>.*/\1/p' "$SC/trace" | sort -u)
		n_used=$(wc -w <<<"$used")
		# The daemon is not dumpable, so an unprivileged strace cannot read its
		# memory: execve's arguments show as addresses. The executor is the
		# one execve by another process than the daemon's own.
		first=$(sed -nE 's/^([0-9]+) +execve\(.*/\1/p' "$SC/trace" | head -n 1)
		if sed -nE 's/^([0-9]+) +execve\(.*/\1/p' "$SC/trace" | grep -qvx "$first"; then
			ok syscall_trace_covers_executor
		else
			fail syscall_trace_covers_executor "no execve by a child of the daemon in the trace"
		fi
		if [ ! -s "$T_TMP/allowed" ]; then
			fail syscall_filter "cannot expand the unit's filter: $(head -c 300 "$T_TMP/allowed.err")"
		else
			outside=$(comm -23 <(tr ' ' '\n' <<<"$used" | sed '/^$/d' | sort -u) <(sort -u "$T_TMP/allowed") | tr '\n' ' ')
			echo "# $n_used distinct syscalls seen (daemon + executor), filter allows $(wc -l <"$T_TMP/allowed")"
			echo "# seen: $(tr '\n' ' ' <<<"$used")"
			if [ -z "$outside" ]; then
				ok syscall_filter_allows_all_used
			else
				fail syscall_filter_allows_all_used "used but not allowed by the unit: $outside"
			fi
		fi
	else
		fail syscall_run_job_as_nobody "daemon under strace did not start: $(tail -n 5 "$T_TMP/sc.log")"
	fi
fi
