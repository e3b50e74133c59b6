#!/usr/bin/env bash
# tests/e2e/runner_xservice.sh — webhook-runner with executor.socket: every
# job runs through a real `remote-executor serve` (the service holds the key)
# against a real OpenSSH sshd, next to a second daemon in spawn mode with the
# same hooks, so the answers of both modes are compared side by side.
#   - sync success, non-zero exit, timeout and output cap: the same HTTP
#     status, job state and answer fields in both modes;
#   - an async job through the queue;
#   - an identity the service does not know, or one it does not allow for
#     the destination: 502 "refused", nothing runs, no SSH connection;
#   - no service at the socket: 503 + Retry-After, recorded failed (never
#     succeeded), nothing runs;
#   - a busy service (its max_jobs reached): 503 busy, the job does not run;
#   - a hung service (SIGSTOP): the runner's backstop answers 504, bounded;
#   - the service killed mid-job: 500 failed, error "executor", as a dead
#     executor is, and the job is not run again;
#   - reuse: N jobs in a row, one SSH connection on the target (counted in
#     sshd's log); a reuse:false hook, one connection per job;
#   - SIGTERM with a job in flight: the job finishes and is answered.
# Executions are counted on the target (runs/starts, tests/runner.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"
. "$TOP/tests/xservice.sh"

EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX"
need_tools sqlite3 curl
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }

R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
at_exit kill_leftovers
SECRET=$T_TMP/hookdeck.secret
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET")
DEST=$SSH_USER@127.0.0.1:$SSHD_PORT

# The job counts itself on the target (see tests/runner.sh, "executions").
CMD="n={{name}}; echo \$\$ >>$MARK_DIR/\$n.pids; echo start >>$MARK_DIR/\$n.start; sleep {{secs}};"
CMD+=" case {{action}} in ok) echo run >>$MARK_DIR/\$n; echo out-\$n;;"
CMD+=" fail) echo run >>$MARK_DIR/\$n; echo failing-\$n >&2; exit 3;;"
CMD+=" big) echo run >>$MARK_DIR/\$n; yes A | head -c 20000;; esac"
PARAMS='{ "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" },
          "action": { "from": "payload", "path": "action", "pattern": "ok|fail|big" },
          "secs": { "from": "payload", "path": "secs", "pattern": "[0-9]{1,2}" } }'

# hook ID MODE [to=… cap=… name=… reuse=… mode=…] : one hook; MODE spawn
# (identity: a key path) or svc (identity_name)
hook() {
	local id=$1 how=$2
	shift 2
	local to=20 cap=1048576 name=deploy reuse="" mode=sync dest=$DEST who
	[ $# -eq 0 ] || local "$@"
	if [ "$how" = svc ]; then
		who="\"identity_name\": \"$name\"${reuse:+, \"reuse\": $reuse}"
	else
		who="\"identity\": \"$KEY_ED25519\", \"known_hosts\": \"$KNOWN_HOSTS\""
	fi
	cat <<JSON
    { "id": "$id",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$SECRET"] },
      "job": { "destination": "$dest", $who, "mode": "$mode",
               "command": "$CMD", "params": $PARAMS, "timeout_s": $to,
               "connect_timeout_s": 3, "handshake_timeout_s": 5,
               "max_output_bytes": $cap, "response_output": true } }
JSON
}
hooks() { # MODE
	echo "$(hook main "$1"), $(hook short "$1" to=1), $(hook capped "$1" cap=100),
$(hook queued "$1" mode=async), $(hook own "$1" reuse=false), $(hook nosuch "$1" name=nosuch),
$(hook elsewhere "$1" dest="$SSH_USER@localhost:$SSHD_PORT")"
}

# ------------------------------------------------------------------ the service
XS_DIR=$T_TMP/xs
xsvc_start "$XS_DIR" deploy "$KEY_ED25519" "$KNOWN_HOSTS" "$DEST" ||
	{ fail xsvc_start "remote-executor serve did not start: $(tail -n 5 "$XS_DIR/service.log" 2>/dev/null)"; exit 1; }
SOCK=$XS_SOCK

# ------------------------------------------------------------------ the two daemons
# spawn mode: the hooks but nosuch (whose identity only the service knows of)
SP_HOOKS="$(hook main spawn), $(hook short spawn to=1), $(hook capped spawn cap=100)"
mkcfg "$T_TMP/spawn.json" "$SP_HOOKS" store="$T_TMP/spawn.db" log_format=json
mkcfg "$T_TMP/svc.json" "$(hooks svc)" store="$T_TMP/svc.db" socket="$SOCK" log_format=json
start_daemon "$T_TMP/spawn.json" "$T_TMP/spawn.log"
SP_PORT=$RUNNER_PORT SP_PID=$RUNNER_PID SP_DB=$DB SP_CFG=$CFG
RUNNER_PID= # the trap of the first start stops it through SP_PID
at_exit 'kill $SP_PID 2>/dev/null; wait $SP_PID 2>/dev/null'
start_daemon "$T_TMP/svc.json" "$T_TMP/svc.log"
SV_PORT=$RUNNER_PORT SV_PID=$RUNNER_PID SV_DB=$DB SV_CFG=$CFG

# on spawn|svc : send to that daemon next
on() {
	if [ "$1" = spawn ]; then RUNNER_PORT=$SP_PORT DB=$SP_DB CFG=$SP_CFG; else
		RUNNER_PORT=$SV_PORT DB=$SV_DB CFG=$SV_CFG; fi
}
# shape TAG : the answer's status, its sorted top-level field names, and the
# values that do not depend on the run (code, status, exit, error, hook)
shape() {
	"$PY" -c 'import json,sys
b=json.load(open(sys.argv[1]))
keep=("status","exit_code","error","hook","attempt","signal")
print(open(sys.argv[2]).read().strip(), ",".join(sorted(b)), {k: b.get(k) for k in keep})' \
		"$R/$1.body" "$R/$1.code" 2>&1
}
# same_shape NAME TAG_SPAWN TAG_SVC
same_shape() { expect_eq "$1" "$(shape "$3")" "$(shape "$2")"; }
# send_bg TAG HOOK PAYLOAD KEY : send in the background (SEND_PID)
send_bg() {
	(send "$@") &
	BG_PIDS+=("$!")
	SEND_PID=$!
}
# conns : SSH connections accepted by the test sshd so far
conns() { grep -c 'Accepted publickey for' "$SSHD_DIR/sshd.log"; }

# ------------------------------------------------------------------ success
on spawn; send sp_ok main "$(pl sp-ok ok 0)" key-sp-ok
on svc; send sv_ok main "$(pl sv-ok ok 0)" key-sv-ok
answer svc_sync_200 sv_ok code=200 status=succeeded exit_code=0 attempt=1 hook=main \
	'job_id=[1-9]*' 'output_tail=*out-sv-ok*' has:error=no runs:sv-ok=1 starts:sv-ok=1
answer spawn_sync_200 sp_ok code=200 status=succeeded runs:sp-ok=1
same_shape svc_sync_same_shape_as_spawn sp_ok sv_ok
on svc
expect_eq svc_sync_store_row "$(db "select state, exit_code, http_status from jobs where key='key-sv-ok'")" \
	"succeeded|0|200"

# ------------------------------------------------------------------ non-zero exit
on spawn; send sp_fail main "$(pl sp-fail fail 0)" key-sp-fail
on svc; send sv_fail main "$(pl sv-fail fail 0)" key-sv-fail
answer svc_exit3_500 sv_fail code=500 status=failed exit_code=3 'output_tail=*failing-sv-fail*' \
	hdr:Retry-After= runs:sv-fail=1
same_shape svc_exit3_same_shape_as_spawn sp_fail sv_fail

# ------------------------------------------------------------------ timeout
on spawn; send sp_to short "$(pl sp-to ok 30)" key-sp-to
T0=$(now_ms)
on svc; send sv_to short "$(pl sv-to ok 30)" key-sv-to
ELAPSED=$(($(now_ms) - T0))
info "svc timeout_504 took $ELAPSED ms (timeout_s 1)"
answer svc_timeout_504 sv_to code=504 status=timeout starts:sv-to=1 runs:sv-to=0
same_shape svc_timeout_same_shape_as_spawn sp_to sv_to
[ "$ELAPSED" -lt 8000 ] && ok svc_timeout_bounded || fail svc_timeout_bounded "$ELAPSED ms for timeout_s 1"

# ------------------------------------------------------------------ output cap
on spawn; send sp_big capped "$(pl sp-big big 0)" key-sp-big
on svc; send sv_big capped "$(pl sv-big big 0)" key-sv-big
answer svc_output_cap sv_big code=200 status=succeeded runs:sv-big=1
tail_len() { "$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1])).get("output_tail") or ""))' "$R/$1.body"; }
expect_eq svc_output_cap_100_bytes "$(tail_len sv_big)" 100
expect_eq svc_output_cap_same_as_spawn "$(tail_len sv_big)" "$(tail_len sp_big)"

# ------------------------------------------------------------------ async
on svc; send sv_async queued "$(pl sv-async ok 0)" key-sv-async
answer svc_async_202 sv_async code=202 status=queued 'hdr:Location=/jobs/[1-9]*'
AID=$(jf sv_async job_id)
async_done() { [ "$(db "select state from jobs where id=$AID")" = succeeded ]; }
if wait_until 20 async_done; then ok svc_async_ran; else
	fail svc_async_ran "state $(db "select state, error from jobs where id=$AID")"; fi
expect_eq svc_async_ran_once "$(runs sv-async)" 1

# ------------------------------------------------------------------ refused identity
before=$(conns)
on svc; send sv_nosuch nosuch "$(pl sv-nosuch ok 0)" key-sv-nosuch
answer svc_unknown_identity_502 sv_nosuch code=502 status=failed error=refused hdr:Retry-After= \
	starts:sv-nosuch=0 runs:sv-nosuch=0
expect_match svc_unknown_identity_message "$(jf sv_nosuch message)" 'nosuch'
expect_eq svc_unknown_identity_no_ssh "$(conns)" "$before"
if grep '"job_finished"' "$T_TMP/svc.log" | grep -q '"error":"refused"'; then
	ok svc_unknown_identity_logged
else
	fail svc_unknown_identity_logged "no job_finished with error refused in the log"
fi

# A destination the identity may not reach (the service allows deploy for
# 127.0.0.1 only): refused the same way, without a connection.
before=$(conns)
on svc; send sv_elsewhere elsewhere "$(pl sv-elsewhere ok 0)" key-sv-elsewhere
answer svc_destination_not_allowed_502 sv_elsewhere code=502 status=failed error=refused \
	starts:sv-elsewhere=0 runs:sv-elsewhere=0
expect_eq svc_destination_not_allowed_no_ssh "$(conns)" "$before"

# ------------------------------------------------------------------ reuse
# A fresh service: no warm session yet.
xsvc_restart || { fail xsvc_restart "the service did not come back"; exit 1; }
before=$(conns)
for i in 1 2 3 4; do
	on svc; send "sv_reuse$i" main "$(pl "sv-reuse$i" ok 0)" "key-sv-reuse$i"
done
got=$(conns)
answer svc_reuse_jobs_ran sv_reuse4 code=200 runs:sv-reuse1=1 runs:sv-reuse2=1 runs:sv-reuse3=1 runs:sv-reuse4=1
info "reuse: 4 jobs, $((got - before)) SSH connections; duration_ms $(for i in 1 2 3 4; do jf "sv_reuse$i" duration_ms; done | tr '\n' ' ')(the first one connects)"
expect_eq svc_reuse_one_connection "$((got - before))" 1
before=$(conns)
for i in 1 2 3; do
	on svc; send "sv_own$i" own "$(pl "sv-own$i" ok 0)" "key-sv-own$i"
done
got=$(conns)
answer svc_noreuse_jobs_ran sv_own3 code=200 runs:sv-own1=1 runs:sv-own2=1 runs:sv-own3=1
expect_eq svc_noreuse_one_connection_per_job "$((got - before))" 3

# ------------------------------------------------------------------ a busy service
# max_jobs 1 in the service: a second job while one runs is answered busy
# (503 + Retry-After), and it does not run; the first one finishes.
XS_MAX_JOBS=1 xsvc_restart || { fail xsvc_restart "the service did not come back"; exit 1; }
on svc
send_bg sv_first main "$(pl sv-first ok 2)" key-sv-first
if wait_until 10 started sv-first; then
	send sv_busy main "$(pl sv-busy ok 0)" key-sv-busy
	answer svc_busy_503 sv_busy code=503 status=failed error=busy 'hdr:Retry-After=[1-9]*' starts:sv-busy=0
	wait "$SEND_PID" 2>/dev/null
	answer svc_busy_first_job_finishes sv_first code=200 status=succeeded runs:sv-first=1
else
	fail svc_busy "the first job did not start"
fi
xsvc_restart || { fail xsvc_restart "the service did not come back"; exit 1; }

# ------------------------------------------------------------------ a hung service
# Stopped (SIGSTOP): it takes the connection and never answers. The runner's
# backstop (timeout_s 1, + 1 s) answers 504, bounded.
kill -STOP "$XS_PID"
T0=$(now_ms)
on svc; send sv_hung short "$(pl sv-hung ok 0)" key-sv-hung
ELAPSED=$(($(now_ms) - T0))
kill -CONT "$XS_PID"
info "hung service: answered in $ELAPSED ms (timeout_s 1)"
answer svc_hung_service_504 sv_hung code=504 status=timeout error=timeout starts:sv-hung=0
if [ "$ELAPSED" -ge 1500 ] && [ "$ELAPSED" -lt 6000 ]; then ok svc_hung_service_backstop_bounded; else
	fail svc_hung_service_backstop_bounded "$ELAPSED ms, want the backstop (about 2.5 s)"; fi

# ------------------------------------------------------------------ service killed mid-job
on svc
send_bg sv_dies main "$(pl sv-dies ok 4)" key-sv-dies
if wait_until 10 started sv-dies; then
	kill -9 "$XS_PID"
	wait "$XS_PID" 2>/dev/null
	wait "$SEND_PID" 2>/dev/null
	answer svc_killed_midjob_500 sv_dies code=500 status=failed error=executor hdr:Retry-After=
	expect_eq svc_killed_midjob_store "$(db "select state, error, attempt from jobs where key='key-sv-dies'")" \
		"failed|executor|1"
	sleep 5 # longer than the job: anything run again would have started by now
	expect_eq svc_killed_midjob_not_rerun "$(starts sv-dies)/$(db "select count(*) from jobs where key='key-sv-dies'")" "1/1"
else
	fail svc_killed_midjob "the job did not start"
fi

# ------------------------------------------------------------------ no service
# The socket is gone with the service: a clear 503, nothing runs, nothing succeeded.
rm -f "$SOCK"
send sv_none main "$(pl sv-none ok 0)" key-sv-none
answer svc_not_running_503 sv_none code=503 status=failed error=executor_unavailable \
	'hdr:Retry-After=[1-9]*' starts:sv-none=0
expect_match svc_not_running_message "$(jf sv_none message)" 'cannot reach the remote-executor service'
expect_eq svc_not_running_store "$(db "select state, http_status from jobs where key='key-sv-none'")" "failed|503"
# Back up: the same delivery runs (failed is retryable), once.
xsvc_restart || { fail xsvc_restart "the service did not come back"; exit 1; }
send sv_none2 main "$(pl sv-none ok 0)" key-sv-none
answer svc_back_retry_runs sv_none2 code=200 status=succeeded attempt=2 runs:sv-none=1

# ------------------------------------------------------------------ drain
send_bg sv_drain main "$(pl sv-drain ok 2)" key-sv-drain
if wait_until 10 started sv-drain; then
	kill -TERM "$SV_PID"
	wait "$SEND_PID" 2>/dev/null
	answer svc_drain_finishes_job sv_drain code=200 status=succeeded runs:sv-drain=1
	if wait_until 20 pid_gone "$SV_PID"; then ok svc_drain_exits; else fail svc_drain_exits "still running"; fi
	expect_eq svc_drain_store "$(db "select state from jobs where key='key-sv-drain'")" succeeded
else
	fail svc_drain "the job did not start"
fi

# ------------------------------------------------------------------ logs
san='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'
if grep -qE "$san" "$T_TMP/svc.log" "$T_TMP/spawn.log" "$XS_DIR/service.log"; then
	fail sanitizer_clean "$(grep -hE -m 3 "$san" "$T_TMP/svc.log" "$T_TMP/spawn.log" "$XS_DIR/service.log" | head -c 400)"
else
	ok sanitizer_clean
fi
