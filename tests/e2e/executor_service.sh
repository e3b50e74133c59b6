#!/usr/bin/env bash
# tests/e2e/executor_service.sh — `remote-executor serve` against a real
# sshd, driven by tests/tools/xclient over its Unix socket: success, exit
# codes, stderr, output over the cap on both streams, timeouts; a changed
# host key (refused, nothing runs), an unknown identity and a destination
# the identity may not reach (refused without a connection: sshd's
# connection log unchanged); warm sessions (N jobs, one connection),
# reuse off (a connection each), sshd restarted between jobs (the next job
# reconnects and runs once), idle close, concurrent jobs up to the cap and
# past it, max_jobs (busy); a peer uid not allowed (setpriv); the client
# hanging up mid-job (the channel closes: a writing command ends); the
# service killed mid-job (a clear failure, nothing reruns); malformed
# requests (clear errors, the service stays up); SIGTERM drain. Executions
# are counted on the target (marker files), connections in sshd's log.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"

EX=$BUILD/remote-executor
XC=$BUILD/tools/xclient
PEER=$BUILD/tools/tcp_peer
need_bins "$EX" "$XC" "$PEER"
need_tools setpriv
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
. "$TOP/tests/executor.sh"

SOCK=$T_TMP/svc/ex.sock
mkdir -p "$T_TMP/svc" && chmod 755 "$T_TMP/svc"
SDEST=$SSH_USER@127.0.0.1:$SSHD_PORT
connections() { grep -c 'Connection from 127.0.0.1' "$SSHD_DIR/sshd.log"; }
marks() { lines "$MARK_DIR/$1"; }

# svc_cfg FILE [KEY=JSON...] : a service config; KEY=JSON pairs replace
# top-level or pool keys (pool.x=...)
svc_cfg() {
	local f=$1
	shift
	"$PY" - "$f" "$SOCK" "$KNOWN_HOSTS" "$KEY_ED25519" "$KEY_PASS" "$SDEST" "$(id -u)" "$@" <<'EOF'
import json, sys
f, sock, kh, key, keypass, dest, uid = sys.argv[1:8]
c = {"socket": sock, "socket_mode": "0666", "allowed_uids": [int(uid)], "known_hosts": kh,
     "identities": {
         "deploy": {"key": key, "destinations": [dest]},
         "locked": {"key": keypass, "passphrase": "env:WR_SVC_PASS", "destinations": [dest]},
         "wild": {"key": key, "destinations": [dest.split("@")[0] + "@*.example.com:22"]}},
     "pool": {"max_sessions_per_destination": 2, "idle_timeout_s": 60, "keepalive_s": 2},
     "max_jobs": 4, "drain_timeout_s": 30}
for kv in sys.argv[8:]:
    k, v = kv.split("=", 1)
    if k.startswith("pool."):
        c["pool"][k[5:]] = json.loads(v)
    else:
        c[k] = json.loads(v)
json.dump(c, open(f, "w"), indent=1)
EOF
}
SVC_PID=
# start_svc CFG : the service in the background, waiting for its socket
start_svc() {
	rm -f "$SOCK"
	WR_SVC_PASS=$PASSPHRASE "$EX" serve --config "$1" 2>>"$T_TMP/svc.log" &
	SVC_PID=$!
	BG_PIDS+=("$SVC_PID")
	wait_until 10 test -S "$SOCK"
}
stop_svc() {
	[ -n "$SVC_PID" ] || return 0
	kill "$SVC_PID" 2>/dev/null
	wait "$SVC_PID" 2>/dev/null
	SVC_PID=
}
at_exit stop_svc
# xc TAG ARGS... : one request; RC, ELAPSED; $T_TMP/TAG.{out,err,st}
xc() {
	local tag=$1 t0
	shift
	t0=$(now_ms)
	timeout -k 5 40 "$XC" "$SOCK" --status "$T_TMP/$tag.st" "$@" >"$T_TMP/$tag.out" 2>"$T_TMP/$tag.err"
	RC=$?
	ELAPSED=$(($(now_ms) - t0))
}
job() { local tag=$1; shift; xc "$tag" --dest "$SDEST" --identity deploy --job "$tag" "$@"; }
stats() { xc stats_$1 --stats && json_get "$T_TMP/stats_$1.st" "$2"; }

svc_cfg "$T_TMP/svc.json"
start_svc "$T_TMP/svc.json" || { fail svc_start "no socket: $(tail -n 5 "$T_TMP/svc.log")"; exit 1; }
ok svc_start
expect_eq svc_socket_mode "$(stat -c %a "$SOCK")" 666

# ------------------------------------------------------------ runs
c0=$(connections)
job ok --command "echo hello; echo run >>$MARK_DIR/ok"
fields svc_success ok rc=0 phase=done error=null exit=0 host=127.0.0.1 port="$SSHD_PORT"
expect_eq svc_success_output "$(cat "$T_TMP/ok.out")" hello
expect_eq svc_success_ran_once "$(marks ok)" 1
has_text svc_success_log "$T_TMP/svc.log" "job id=ok peer_uid=$(id -u) identity=deploy dest=$SDEST"

job exit7 --command 'echo out; exit 7'
fields svc_exit_code exit7 rc=0 phase=done error=null exit=7
job errs --command 'echo to-stderr >&2; echo to-stdout'
expect_eq svc_stderr "$(cat "$T_TMP/errs.err")" to-stderr
expect_eq svc_stdout_beside_stderr "$(cat "$T_TMP/errs.out")" to-stdout
job quoting --command "printf '%s|' 'a b' \"c'd\" '\$HOME'"
expect_eq svc_posix_sh_quoting "$(cat "$T_TMP/quoting.out")" "a b|c'd|\$HOME|"

# Output over the cap, on both streams: exactly the cap is relayed, all of
# it is counted, truncated is set; uncapped, a large output arrives whole.
job big --max-output 100000 --command 'head -c 300000 /dev/zero | tr "\0" o; head -c 300000 /dev/zero | tr "\0" e >&2'
fields svc_output_capped big rc=0 phase=done exit=0 truncated=true bytes_out=300000 bytes_err=300000
expect_eq svc_output_cap_exact "$(($(wc -c <"$T_TMP/big.out") + $(wc -c <"$T_TMP/big.err")))" 100000
job whole --command 'seq 1 200000; seq 1 50000 >&2'
fields svc_output_whole whole rc=0 exit=0 truncated=false
expect_eq svc_output_whole_stdout "$(md5sum <"$T_TMP/whole.out")" "$(seq 1 200000 | md5sum)"
expect_eq svc_output_whole_stderr "$(md5sum <"$T_TMP/whole.err")" "$(seq 1 50000 | md5sum)"

job tmo --run-ms 1500 --command "$(long_cmd tmo 30)"
fields svc_timeout tmo rc=0 error=timeout phase=exec
within svc_timeout_prompt 1000 8000

c1=$(connections)
expect_eq svc_runs_share_one_connection "$((c1 - c0))" 1
info "connections for the first $((8)) jobs: $((c1 - c0)) (the timed-out one's is torn down)"

# ------------------------------------------------------------ reuse
stop_svc
start_svc "$T_TMP/svc.json"
c0=$(connections) t_warm= t_cold=
for i in 1 2 3 4 5; do job warm$i --command "echo run >>$MARK_DIR/warm"; [ $i = 1 ] || t_warm+=" $ELAPSED"; done
c1=$(connections)
expect_eq svc_reuse_one_connection "$((c1 - c0))" 1
expect_eq svc_reuse_all_ran "$(marks warm)" 5
fields svc_reuse_status warm5 rc=0 exit=0 phase=done hostkey_type=ssh-ed25519
expect_eq svc_reuse_stats_connects "$(stats reuse connects)" 1
expect_eq svc_reuse_stats_reuses "$(stats reuse2 reuses)" 4
has_text svc_reuse_logged "$T_TMP/svc.log" "job id=warm5 peer_uid=$(id -u) identity=deploy dest=$SDEST reuse=1 warm=1"

c0=$(connections)
for i in 1 2 3; do job cold$i --no-reuse --command "echo run >>$MARK_DIR/cold"; t_cold+=" $ELAPSED"; done
info "client-side ms per job: warm${t_warm}; reuse off${t_cold}"
c1=$(connections)
expect_eq svc_no_reuse_connection_each "$((c1 - c0))" 3
expect_eq svc_no_reuse_all_ran "$(marks cold)" 3

# Many jobs on warm connections: all run, no new connection, and the
# service's resident memory (an info line: allocators make it noisy).
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SVC_PID/status"; }
c0=$(connections) m0=$(rss) t0=$(now_ms)
for i in $(seq 1 100); do job many --command "echo run >>$MARK_DIR/many"; done
info "100 warm jobs: $(($(now_ms) - t0)) ms, service RSS ${m0} -> $(rss) kB"
expect_eq svc_many_warm_all_ran "$(marks many)" 100
expect_eq svc_many_warm_no_connection "$(($(connections) - c0))" 0

# A passphrase-protected key: the service holds the passphrase (env:).
xc locked --dest "$SDEST" --identity locked --command 'echo unlocked'
fields svc_passphrase_identity locked rc=0 exit=0
expect_eq svc_passphrase_identity_output "$(cat "$T_TMP/locked.out")" unlocked

# ------------------------------------------------------------ refusals
c0=$(connections)
xc unknown --dest "$SDEST" --identity nobody --command "echo run >>$MARK_DIR/refused"
fields svc_unknown_identity_refused unknown rc=0 error=refused
has_text svc_unknown_identity_message "$T_TMP/unknown.st" 'no identity \"nobody\"'
xc otherport --dest "$SSH_USER@127.0.0.1:$((SSHD_PORT + 1))" --identity deploy --command "echo run >>$MARK_DIR/refused"
fields svc_other_port_refused otherport rc=0 error=refused
xc otheruser --dest "root@127.0.0.1:$SSHD_PORT" --identity deploy --command "echo run >>$MARK_DIR/refused"
fields svc_other_user_refused otheruser rc=0 error=refused
xc wildip --dest "$SSH_USER@127.0.0.1:22" --identity wild --command "echo run >>$MARK_DIR/refused"
fields svc_wildcard_not_ip wildip rc=0 error=refused
xc wildapex --dest "$SSH_USER@example.com:22" --identity wild --command "echo run >>$MARK_DIR/refused"
fields svc_wildcard_not_apex wildapex rc=0 error=refused
xc wildlook --dest "$SSH_USER@evil-example.com:22" --identity wild --command "echo run >>$MARK_DIR/refused"
fields svc_wildcard_label_boundary wildlook rc=0 error=refused
expect_eq svc_refused_no_connection "$(($(connections) - c0))" 0
no_mark svc_refused_nothing_ran refused
expect_eq svc_refused_counted "$(stats refused refused)" 6

# A changed host key: every new connection checks known_hosts afresh.
cp "$KNOWN_HOSTS" "$T_TMP/kh.good"
ssh-keygen -q -t ed25519 -N '' -f "$T_TMP/other_ed25519"
{ kh_line "$T_TMP/other_ed25519.pub"; kh_line "$SSHD_DIR/host_ecdsa.pub"; } >"$KNOWN_HOSTS"
job changed --no-reuse --command "echo run >>$MARK_DIR/changed"
fields svc_hostkey_changed_refused changed rc=0 phase=hostkey error=hostkey_changed
no_mark svc_hostkey_changed_nothing_ran changed
cp "$T_TMP/kh.good" "$KNOWN_HOSTS"

# ------------------------------------------------------------ sshd restarts
job before_restart --command "echo run >>$MARK_DIR/restart"
# A restart as a host reboot or an upgrade does it: the listener and the
# per-connection processes it started (by pid, children of our sshd) go.
children=$(pgrep -P "$SSHD_PID" 2>/dev/null)
kill "$SSHD_PID" && wait "$SSHD_PID" 2>/dev/null
for p in $children; do kill "$p" 2>/dev/null; done
"$SSHD_BIN" -D -e -f "$SSHD_DIR/sshd_config" 2>>"$SSHD_DIR/sshd.log" &
SSHD_PID=$!
wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SSHD_PORT" 2>/dev/null
# The warm connection to the old sshd is dead: dropped by the pool's check
# or, if a job comes first, failing before exec and run again on a new one.
job after_restart --command "echo run >>$MARK_DIR/restart"
fields svc_sshd_restart_reconnects after_restart rc=0 phase=done exit=0
expect_eq svc_sshd_restart_ran_once_each "$(marks restart)" 2
info "after the restart: retries=$(stats rs retries) dead_closed=$(stats rs2 dead_closed)"

# A warm connection whose peer went silent (its sshd processes stopped, by
# pid): the next job's channel open times out within the handshake
# timeout, before any exec request, so it runs once on a new connection.
# descendants PID : the processes under PID (children, grandchildren)
descendants() { local c; for c in $(pgrep -P "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done; }
stop_warm() { STOPPED=$(descendants "$SSHD_PID"); [ -n "$STOPPED" ] && kill -STOP $STOPPED; }
drop_stopped() { [ -n "${STOPPED:-}" ] && kill -KILL $STOPPED 2>/dev/null; STOPPED=; }
at_exit drop_stopped
stop_svc
start_svc "$T_TMP/svc.json"
job silent0 --command 'echo warm'
stop_warm
r0=$(stats silent0 retries)
job silent1 --handshake-ms 1500 --command "echo run >>$MARK_DIR/silent"
fields svc_silent_warm_retried_new silent1 rc=0 exit=0 phase=done
expect_eq svc_silent_warm_ran_once "$(marks silent)" 1
expect_eq svc_silent_warm_retry_counted "$(($(stats silent1 retries) - r0))" 1
has_text svc_silent_warm_retry_logged "$T_TMP/svc.log" "job id=silent1 peer_uid=$(id -u) identity=deploy dest=$SDEST reuse=1 warm=0 retried=1"
drop_stopped
# A connection lost once the command was sent: the job fails, and it is
# not run again (the command may have run; here it did, once).
job lost0 --command 'echo warm'
r0=$(stats lost0 retries)
(job lost1 --command "echo run >>$MARK_DIR/lost; sleep 5"; exit $RC) &
lpid=$!
wait_until 10 test -s "$MARK_DIR/lost"
kill -KILL $(descendants "$SSHD_PID") 2>/dev/null
wait "$lpid"
RC=$?
fields svc_lost_after_exec_fails lost1 rc=0 error=io
expect_eq svc_lost_after_exec_not_rerun "$(marks lost)" 1
expect_eq svc_lost_after_exec_no_retry "$(($(stats lost1 retries) - r0))" 0
# Keepalives find an idle connection whose peer went silent: dropped after
# (keepalive_max + 1) x keepalive_s = 8 s without an answer.
job silent2 --command 'echo warm'
k0=$(stats silent2 dead_closed)
stop_warm
dead_grew() { [ "$(stats silent3 dead_closed)" -gt "$k0" ]; }
if wait_until 20 dead_grew; then ok svc_keepalive_drops_silent_idle; else
	fail svc_keepalive_drops_silent_idle "dead_closed still $k0 after 20 s"; fi
expect_eq svc_keepalive_none_idle "$(stats silent4 sessions_idle)" 0
drop_stopped

# ------------------------------------------------------------ concurrency
stop_svc
start_svc "$T_TMP/svc.json"
c0=$(connections)
# (wait for the jobs by pid: a bare wait would wait for sshd and the service)
P=(); for i in 1 2; do job par$i --command "sleep 1; echo run >>$MARK_DIR/par" & P+=($!); done
wait "${P[@]}"
c1=$(connections)
P=(); for i in 3 4; do job par$i --command "sleep 1; echo run >>$MARK_DIR/par" & P+=($!); done
wait "${P[@]}"
c2=$(connections)
expect_eq svc_concurrent_up_to_cap "$((c1 - c0))" 2
expect_eq svc_concurrent_reuse_warm "$((c2 - c1))" 0
P=(); for i in 5 6 7; do job par$i --command "sleep 1; echo run >>$MARK_DIR/par" & P+=($!); done
wait "${P[@]}"
expect_eq svc_concurrent_past_cap_own_connection "$(($(connections) - c2))" 1
expect_eq svc_concurrent_all_ran "$(marks par)" 7
expect_eq svc_concurrent_overflow_counted "$(stats par overflow)" 1
expect_eq svc_pool_keeps_cap "$(stats par2 sessions_idle)" 2

# max_jobs 4: a fifth job at once is answered busy and runs nothing.
P=(); for i in 1 2 3 4; do job full$i --command "sleep 2; echo run >>$MARK_DIR/full" & P+=($!); done
sleep 0.7
job busy --command "echo run >>$MARK_DIR/busy"
wait "${P[@]}"
fields svc_busy_past_max_jobs busy rc=0 error=busy
no_mark svc_busy_nothing_ran busy
expect_eq svc_busy_others_ran "$(marks full)" 4

# ------------------------------------------------------------ peers
nobody_uid=65534
mkdir -p "$T_TMP/nobody" && chmod 777 "$T_TMP/nobody"
setpriv --reuid=$nobody_uid --regid=$nobody_uid --clear-groups \
	"$XC" "$SOCK" --status "$T_TMP/nobody/peer.st" --dest "$SDEST" --identity deploy \
	--command "echo run >>$MARK_DIR/peer" >"$T_TMP/peer.out" 2>"$T_TMP/peer.err"
RC=$?
cp "$T_TMP/nobody/peer.st" "$T_TMP/peer.st"
fields svc_peer_uid_refused peer rc=0 error=refused
has_text svc_peer_uid_message "$T_TMP/peer.st" "peer uid $nobody_uid is not allowed"
no_mark svc_peer_nothing_ran peer
expect_eq svc_peer_counted "$(stats peer refused_peers)" 1

# ------------------------------------------------------------ bad requests
printf 'WRX\002' >"$T_TMP/raw.version"
printf 'WRX\001d\000\000\000\005u@h:2' >"$T_TMP/raw.truncated"
printf 'WRX\001c\177\377\377\377' >"$T_TMP/raw.oversize"
printf 'GET / HTTP/1.0\r\n\r\n' >"$T_TMP/raw.http"
printf 'WRX\001i\000\000\000\001ke\000\000\000\000' >"$T_TMP/raw.missing"
for k in version truncated oversize http missing; do xc raw_$k --raw "$T_TMP/raw.$k"; done
fields svc_bad_version raw_version rc=0 error=bad_request
has_text svc_bad_version_message "$T_TMP/raw_version.st" "wrong protocol version"
fields svc_bad_truncated raw_truncated rc=0 error=bad_request
has_text svc_bad_truncated_message "$T_TMP/raw_truncated.st" "stream ended mid-frame"
fields svc_bad_oversize raw_oversize rc=0 error=bad_request
has_text svc_bad_oversize_message "$T_TMP/raw_oversize.st" "frame over its size limit"
fields svc_bad_magic raw_http rc=0 error=bad_request
fields svc_bad_missing_field raw_missing rc=0 error=bad_request
has_text svc_bad_missing_message "$T_TMP/raw_missing.st" "a required field is missing"
job after_bad --command 'echo still-up'
fields svc_up_after_bad_requests after_bad rc=0 exit=0
expect_eq svc_bad_requests_counted "$(stats bad bad_requests)" 5

# ------------------------------------------------------------ hang-ups
# The client goes away mid-job: the channel closes, so a command that
# writes gets EPIPE and ends; the service logs it.
job hangup --quit-after-ms 1000 --command "echo \$\$ >$MARK_DIR/hangup.pid; while echo tick; do sleep 0.2; done"
expect_eq svc_client_hangup_rc "$RC" 5
hp=$(cat "$MARK_DIR/hangup.pid" 2>/dev/null)
if [ -n "$hp" ] && wait_until 10 pid_gone "$hp"; then ok svc_client_hangup_command_ends; else
	fail svc_client_hangup_command_ends "remote pid ${hp:-?} still runs"; fi
wait_until 5 grep -q 'job id=hangup .*error=terminated .*the client went away' "$T_TMP/svc.log"
has_text svc_client_hangup_logged "$T_TMP/svc.log" "the client went away"

# The service killed mid-job: a clear failure for the client, and nothing
# runs again when the service comes back.
(job killed_bg --command "echo run >>$MARK_DIR/killed; sleep 3"; exit $RC) &
kpid=$!
wait_until 10 test -s "$MARK_DIR/killed"
kill -9 "$SVC_PID"
wait "$SVC_PID" 2>/dev/null
SVC_PID=
wait "$kpid"
RC=$?
expect_eq svc_killed_client_fails "$RC" 3
has_text svc_killed_client_message "$T_TMP/killed_bg.err" "without a final frame"
start_svc "$T_TMP/svc.json"
sleep 1
expect_eq svc_killed_nothing_reran "$(marks killed)" 1

# ------------------------------------------------------------ drain
(job drain_bg --command "echo >$MARK_DIR/drain_started; sleep 2; echo drained"; exit $RC) &
dpid=$!
wait_until 10 test -e "$MARK_DIR/drain_started"
kill -TERM "$SVC_PID"
sleep 0.3
job drain_new --command "echo run >>$MARK_DIR/drain_new"
rc_new=$RC
wait "$dpid"
RC=$?
fields svc_drain_running_job_finishes drain_bg rc=0 exit=0 phase=done
RC=$rc_new
expect_eq svc_drain_output "$(cat "$T_TMP/drain_bg.out")" drained
fields svc_drain_new_job_busy drain_new rc=0 error=busy
no_mark svc_drain_new_nothing_ran drain_new
wait "$SVC_PID"
expect_eq svc_drain_exit_status "$?" 0
SVC_PID=
check svc_drain_socket_removed test ! -e "$SOCK"

# ------------------------------------------------------------ idle close
svc_cfg "$T_TMP/idle.json" pool.idle_timeout_s=2
start_svc "$T_TMP/idle.json"
job idle1 --command 'echo x'
d0=$(grep -c 'Received disconnect from 127.0.0.1' "$SSHD_DIR/sshd.log")
expect_eq svc_idle_session_kept "$(stats idle0 sessions_idle)" 1
sleep 4
expect_eq svc_idle_closed "$(stats idle1 idle_closed)" 1
expect_eq svc_idle_none_left "$(stats idle2 sessions_idle)" 0
d1=$(grep -c 'Received disconnect from 127.0.0.1' "$SSHD_DIR/sshd.log")
expect_eq svc_idle_sshd_saw_disconnect "$((d1 - d0))" 1
info "sshd: $(grep -i disconnect "$SSHD_DIR/sshd.log" | tail -n 3 | tr "\n" "|")"

# ------------------------------------------------------------ slow peers
# The request's connect and handshake timeouts hold in the service too.
stop_svc
peer_svc() { # MODE TAG ARGS... : a peer, a service whose identity may reach it, one job
	local mode=$1 tag=$2
	shift 2
	start_peer "$mode" || { fail "svc_${tag}_peer" "tcp_peer $mode did not start"; return 1; }
	svc_cfg "$T_TMP/$tag.json" "identities={\"p\":{\"key\":\"$KEY_ED25519\",\"destinations\":[\"$SSH_USER@127.0.0.1:$PEER_PORT\"]}}"
	start_svc "$T_TMP/$tag.json"
	xc "$tag" --dest "$SSH_USER@127.0.0.1:$PEER_PORT" --identity p "$@" --command 'true'
	stop_svc
	stop_peer
}
peer_svc silent hs --handshake-ms 1000 --run-ms 20000
fields svc_handshake_timeout hs rc=0 phase=handshake error=handshake_timeout
within svc_handshake_timeout_bound 800 6000
peer_svc blackhole ct --connect-ms 1000 --run-ms 20000
fields svc_connect_timeout ct rc=0 phase=connect error=connect_timeout
within svc_connect_timeout_bound 800 6000

# ------------------------------------------------------------ drain timeout
# Jobs still running when drain_timeout_s ends are cut off: the service
# exits, the client sees the response end without a final frame.
svc_cfg "$T_TMP/dt.json" drain_timeout_s=1
start_svc "$T_TMP/dt.json"
(job dt --command "echo >$MARK_DIR/dt_started; sleep 8"; exit $RC) &
dtpid=$!
wait_until 10 test -e "$MARK_DIR/dt_started"
t0=$(now_ms)
kill -TERM "$SVC_PID"
wait "$SVC_PID"
ELAPSED=$(($(now_ms) - t0))
SVC_PID=
within svc_drain_timeout_exits 500 5000
wait "$dtpid"
expect_eq svc_drain_timeout_client_fails "$?" 3
has_text svc_drain_timeout_logged "$T_TMP/svc.log" "drain timeout: 1 jobs still running are cut off"

# ------------------------------------------------------------ config errors
echo '{"socket": "/tmp/x.sock", "known_hosts": "/x", "allowed_uids": [0], "identities": {}, "typo": 1}' >"$T_TMP/bad.json"
"$EX" serve --config "$T_TMP/bad.json" 2>"$T_TMP/bad.err"
expect_eq svc_bad_config_exit "$?" 2
has_text svc_bad_config_names_key "$T_TMP/bad.err" 'unknown key "typo"'

# ------------------------------------------------------------ the service's own log
stop_svc
san=$(grep -c 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$T_TMP/svc.log")
expect_eq svc_no_sanitizer_reports "$san" 0
[ "$san" = 0 ] || grep -A 12 'ERROR: \|runtime error:' "$T_TMP/svc.log" | head -n 40 | sed 's/^/# info /'
