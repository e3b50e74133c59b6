#!/usr/bin/env bash
# tests/e2e/runner_jobs.sh — webhook-runner's EXECUTION path end to end: a
# real daemon, the real remote-executor and a real OpenSSH sshd on loopback.
# Covers the daemon's table of answers (200/500/502/503/504), the idempotency
# rules (replay, 409, 422, retry as a new attempt, keys per hook, event id as
# key), a storm of identical deliveries, the concurrency caps (429, nothing
# recorded), a client that goes away, a crash of the daemon (and of the whole
# machine), the per-request log, /healthz, and that nothing is left running.
# Signature/JWT/template rejection is tests/e2e/runner_verify.sh and runner_templates.sh's job.
#
# Executions are COUNTED through side effects: every job runs
#   n=<name>; echo $$ >>M/<name>.pids; echo start >>M/<name>.start;
#   sleep <secs>; case <action> in ok) echo run >>M/<name>; ...
# so "$MARK_DIR/<name>" has one line per execution that got to its end and
# <name>.start one per execution that began. Every curl has --max-time, every
# wait a bound; remote shells (by the pids they record), background curls and
# peers, and executors of our daemons are killed at exit.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

EX=$BUILD/remote-executor
PEER=$BUILD/tools/tcp_peer
need_bins "$RUNNER_BIN" "$EX"
need_tools sqlite3
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
T_START=$(now_ms)

R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
at_exit kill_leftovers

# ------------------------------------------------------------------ helpers
healthz_running() {
	curl -s --max-time 5 "http://127.0.0.1:$RUNNER_PORT/healthz" -o "$R/healthz.json" || { echo x; return; }
	json_get "$R/healthz.json" running_jobs
}
idle() { [ "$(healthz_running)" = 0 ]; }
# our_executors : remote-executor processes that are children of the daemon
our_executors() {
	local p
	for p in $(pgrep -P "$RUNNER_PID" 2>/dev/null); do
		if grep -q remote-executor "/proc/$p/cmdline" 2>/dev/null && ! pid_gone "$p"; then echo "$p"; fi
	done
}
no_executors() { [ -z "$(our_executors)" ]; }
has_executor() { [ -n "$(our_executors)" ]; }

# ------------------------------------------------------------------ fixtures
SECRET=$T_TMP/hookdeck.secret JWT_SECRET=$T_TMP/jwt.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$JWT_SECRET"
DEST=$SSH_USER@127.0.0.1:$SSHD_PORT

# known_hosts variants: the right keys for 127.0.0.1 and localhost; another
# key for 127.0.0.1 (a changed host key); nothing at all (an unknown host)
KH_BOTH=$T_TMP/kh_both KH_CHANGED=$T_TMP/kh_changed KH_EMPTY=$T_TMP/kh_empty
{ cat "$KNOWN_HOSTS"; sed "s/^\[127\.0\.0\.1\]/[localhost]/" "$KNOWN_HOSTS"; } >"$KH_BOTH"
ssh-keygen -q -t ed25519 -N '' -C other -f "$T_TMP/other_host"
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$T_TMP/other_host.pub")" >"$KH_CHANGED"
: >"$KH_EMPTY"

# A port where nothing listens (connect refused)
CLOSED_PORT=$(closed_port)
# A TCP peer that accepts and never says a word (SSH handshake timeout):
# tests/tools/tcp_peer when built, else a python3 socket server. Its stdin
# is a FIFO it holds open itself, so it runs until killed.
SILENT_PORT=
mkfifo "$T_TMP/peer.in"
if [ -x "$PEER" ]; then
	"$PEER" silent 0<>"$T_TMP/peer.in" >"$T_TMP/peer.out" 2>"$T_TMP/peer.err" &
else
	"$PY" "$TOP/tests/tools/silent_listener.py" 0<>"$T_TMP/peer.in" >"$T_TMP/peer.out" 2>"$T_TMP/peer.err" &
fi
BG_PIDS+=("$!")
wait_until 5 test -s "$T_TMP/peer.out" && SILENT_PORT=$(head -n 1 "$T_TMP/peer.out")

# The job: counts its executions (see the top of the file).
CMD="n={{name}}; echo \$\$ >>$MARK_DIR/\$n.pids; echo start >>$MARK_DIR/\$n.start; sleep {{secs}};"
CMD+=" case {{action}} in ok) echo run >>$MARK_DIR/\$n; echo out-\$n;;"
CMD+=" fail) echo run >>$MARK_DIR/\$n; echo failing-\$n >&2; exit 3;;"
CMD+=" kill) echo run >>$MARK_DIR/\$n; kill -9 \$\$;; esac"
PARAMS='{ "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" },
          "action": { "from": "payload", "path": "action", "pattern": "ok|fail|kill" },
          "secs": { "from": "payload", "path": "secs", "pattern": "[0-9]{1,2}" } }'

# hook ID [dest=… to=… out=… idf=… kh=… hs=… extra=…] : one hook's JSON
hook() {
	local id=$1
	shift
	local dest=$DEST to=20 out=true idf=$KEY_ED25519 kh=$KNOWN_HOSTS hs=5 extra=""
	[ $# -eq 0 ] || local "$@"
	cat <<JSON
    { "id": "$id",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$SECRET"] },$extra
      "job": { "destination": "$dest", "identity": "$idf", "known_hosts": "$kh",
               "command": "$CMD", "params": $PARAMS,
               "timeout_s": $to, "connect_timeout_s": 3, "handshake_timeout_s": $hs,
               "response_output": $out } }
JSON
}
# jobs_cfg FILE STORE MAX_JOBS MAX_PER_DESTINATION THREADS : every hook above
jobs_cfg() {
	local jwt='
      "jwt": { "algorithms": ["HS256"], "key": "file:'$JWT_SECRET'", "issuer": "ci",
               "audience": "webhook-runner" },'
	mkcfg "$1" "$(hook main),
$(hook twin),
$(hook quiet out=false),
$(hook short to=1),
$(hook jwt extra="$jwt"),
$(hook local dest="$SSH_USER@localhost:$SSHD_PORT" kh="$KH_BOTH"),
$(hook refused dest="$SSH_USER@127.0.0.1:$CLOSED_PORT"),
$(hook silent dest="$SSH_USER@127.0.0.1:${SILENT_PORT:-9}" hs=1),
$(hook changed kh="$KH_CHANGED"),
$(hook unknown kh="$KH_EMPTY"),
$(hook stranger idf="$KEY_STRANGER")" \
		store="$2" max_jobs="$3" max_per_dest="$4" threads="$5" log_level=info log_format=json
}

jobs_cfg "$T_TMP/main.json" "$T_TMP/main.db" 8 8 64
start_daemon "$T_TMP/main.json" "$T_TMP/main.log"
MAIN_PID=$RUNNER_PID

# ------------------------------------------------------------------ 200
T0=$(now_ms)
send ok1 main "$(pl ok1 ok 0)" key-ok1
ELAPSED=$(($(now_ms) - T0))
info "ok_200 took ${ELAPSED} ms"
answer ok_200 ok1 code=200 status=succeeded exit_code=0 attempt=1 hook=main \
	'job_id=[1-9]*' 'duration_ms=[0-9]*' 'output_tail=*out-ok1*' has:signal=no has:error=no \
	'hdr:Content-Type=application/json' 'hdr:X-Request-Id=?*' hdr:Idempotent-Replayed= \
	runs:ok1=1 starts:ok1=1
expect_eq ok_200_store_row "$(db "select attempt, state, exit_code, http_status from jobs where hook='main' and key='key-ok1'")" \
	"1|succeeded|0|200"
expect_eq ok_200_job_id_is_the_row "$(db "select id from jobs where key='key-ok1'")" "$(jf ok1 job_id)"
expect_eq ok_200_store_response_is_body "$(db "select response from jobs where key='key-ok1'")" \
	"$(cat "$R/ok1.body")"

send quiet1 quiet "$(pl quiet1 ok 0)" key-quiet1
answer ok_200_without_output quiet1 code=200 status=succeeded exit_code=0 has:output_tail=no \
	runs:quiet1=1

send jwt1 jwt "$(pl jwt1 ok 0)" key-jwt1
answer ok_200_jwt_hook jwt1 code=200 status=succeeded hook=jwt 'output_tail=*out-jwt1*' runs:jwt1=1
send jwt1r jwt "$(pl jwt1 ok 0)" key-jwt1
answer ok_200_jwt_hook_replay jwt1r code=200 status=succeeded hdr:Idempotent-Replayed=true runs:jwt1=1

# ------------------------------------------------------------------ 500
send fail1 main "$(pl fail1 fail 0)" key-fail1
answer failed_500 fail1 code=500 status=failed exit_code=3 attempt=1 has:signal=no \
	'output_tail=*failing-fail1*' hdr:Retry-After= runs:fail1=1

send kill1 main "$(pl kill1 kill 0)" key-kill1
answer signal_500 kill1 code=500 status=failed signal=KILL exit_code=null runs:kill1=1
expect_eq signal_500_store "$(db "select state, signal, http_status from jobs where key='key-kill1'")" \
	"failed|KILL|500"

# ------------------------------------------------------------------ 503
if (exec 3<>"/dev/tcp/127.0.0.1/$CLOSED_PORT") 2>/dev/null; then
	skip connect_refused_503 "something listens on port $CLOSED_PORT now"
else
	T0=$(now_ms)
	send refused1 refused "$(pl refused1 ok 0)" key-refused1
	ELAPSED=$(($(now_ms) - T0))
	info "connect_refused_503 took ${ELAPSED} ms"
	answer connect_refused_503 refused1 code=503 status=failed error=connect_refused \
		'hdr:Retry-After=[1-9]*' exit_code=null runs:refused1=0 starts:refused1=0
	[ "$ELAPSED" -lt 3000 ] && ok connect_refused_503_quick || fail connect_refused_503_quick "${ELAPSED} ms"
	# transient: a retry of the same key is a new attempt, not a replay of the 503
	send refused1b refused "$(pl refused1 ok 0)" key-refused1
	answer connect_refused_retry_is_new_attempt refused1b code=503 attempt=2 hdr:Idempotent-Replayed=
fi
if [ -n "$SILENT_PORT" ]; then
	T0=$(now_ms)
	send silent1 silent "$(pl silent1 ok 0)" key-silent1
	ELAPSED=$(($(now_ms) - T0))
	info "handshake_timeout_503 took ${ELAPSED} ms"
	answer handshake_timeout_503 silent1 code=503 status=failed \
		error=handshake_timeout 'hdr:Retry-After=[1-9]*' runs:silent1=0
	[ "$ELAPSED" -lt 6000 ] && ok handshake_timeout_503_in_time ||
		fail handshake_timeout_503_in_time "${ELAPSED} ms (handshake_timeout_s 1)"
else
	fail handshake_timeout_503 "no silent TCP peer"
fi

# ------------------------------------------------------------------ 502
send changed1 changed "$(pl changed1 ok 0)" key-changed1
answer hostkey_changed_502 changed1 code=502 status=failed error=hostkey_changed hdr:Retry-After= \
	starts:changed1=0 runs:changed1=0
send unknown1 unknown "$(pl unknown1 ok 0)" key-unknown1
answer hostkey_unknown_502 unknown1 code=502 status=failed error=hostkey_unknown starts:unknown1=0
send stranger1 stranger "$(pl stranger1 ok 0)" key-stranger1
answer auth_failure_502 stranger1 code=502 status=failed error=auth starts:stranger1=0

# ------------------------------------------------------------------ 504
T0=$(now_ms)
send slow1 short "$(pl slow1 ok 30)" key-slow1
ELAPSED=$(($(now_ms) - T0))
info "timeout_504 took ${ELAPSED} ms"
answer timeout_504 slow1 code=504 status=timeout error=timeout runs:slow1=0 \
	starts:slow1=1
[ "$ELAPSED" -lt 8000 ] && ok timeout_504_in_time || fail timeout_504_in_time "${ELAPSED} ms (timeout_s 1)"
# the deadline is the deadline: the executor ends the run at timeout_s and
# exits at once (HTTP and signing add a little)
if [ "$ELAPSED" -ge 1000 ] && [ "$ELAPSED" -le 1500 ]; then ok timeout_504_at_deadline; else
	fail timeout_504_at_deadline "${ELAPSED} ms, want 1000..1500 (timeout_s 1)"; fi
expect_eq timeout_504_store "$(db "select state, http_status from jobs where key='key-slow1'")" "timeout|504"
if wait_until 3 no_executors; then ok timeout_no_executor_left; else
	fail timeout_no_executor_left "executor(s) $(our_executors) still there"; fi
# The remote side: the shell that ran `sleep 30` and its sleep must be gone
# too (a job that timed out must not go on running on the target).
if wait_until 5 no_remote_left slow1; then ok timeout_no_remote_command_left; else
	fail timeout_no_remote_command_left "still running on the target: $(remote_left slow1)"; fi

# ------------------------------------------------------------------ idempotency
send ok1r main "$(pl ok1 ok 0)" key-ok1
answer replay_200 ok1r code=200 hdr:Idempotent-Replayed=true runs:ok1=1 starts:ok1=1
check replay_body_byte_identical cmp -s "$R/ok1.body" "$R/ok1r.body"
send ok1m main "$(pl ok1 ok 0 changed)" key-ok1
answer replay_other_body_422 ok1m code=422 'error=*different body*' hdr:Idempotent-Replayed= \
	runs:ok1=1 starts:ok1=1
expect_eq replay_other_body_nothing_recorded "$(db "select count(*) from jobs where key='key-ok1'")" 1

send fail1b main "$(pl fail1 fail 0)" key-fail1
answer failed_then_retry_attempt_2 fail1b code=500 status=failed attempt=2 exit_code=3 \
	hdr:Idempotent-Replayed= runs:fail1=2
expect_eq failed_then_retry_store "$(db "select group_concat(attempt||':'||state, ',') from (select * from jobs where key='key-fail1' order by attempt)")" \
	"1:failed,2:failed"

# the same key on another hook is another delivery
send twin1 twin "$(pl ok1 ok 0)" key-ok1
answer key_per_hook twin1 code=200 status=succeeded attempt=1 hook=twin hdr:Idempotent-Replayed= \
	runs:ok1=2
# the event id is the key when Idempotency-Key is absent
rsign "$CFG" main "$(pl evt1 ok 0)" --idempotency-key unused |
	sed 's/^Idempotency-Key: .*/x-hookdeck-eventid: evt_e2e_1/' >"$R/evt1.hdrs"
cp "$R/evt1.hdrs" "$R/evt1r.hdrs"
send_signed evt1 main "$(pl evt1 ok 0)"
answer eventid_key evt1 code=200 status=succeeded runs:evt1=1
send_signed evt1r main "$(pl evt1 ok 0)"
answer eventid_key_replay evt1r code=200 hdr:Idempotent-Replayed=true runs:evt1=1
expect_eq eventid_key_stored "$(db "select count(*) from deliveries where hook='main' and key='evt_e2e_1'")" 1

# still running: 409 with Retry-After; healthz counts the job
send busy1 main "$(pl busy1 ok 3)" key-busy1 &
BG_PIDS+=("$!")
BUSY_BG=$!
if wait_until 10 started busy1; then
	expect_eq healthz_running_jobs "$(healthz_running)" 1
	send busy1b main "$(pl busy1 ok 3)" key-busy1
	answer running_409 busy1b code=409 'hdr:Retry-After=[1-9]*' hdr:Idempotent-Replayed= \
		starts:busy1=1
	send busy1c main "$(pl busy1 ok 3 other)" key-busy1
	answer running_other_body_422 busy1c code=422 starts:busy1=1
	wait "$BUSY_BG"
	answer running_first_gets_200 busy1 code=200 status=succeeded runs:busy1=1 starts:busy1=1
	wait_until 5 idle && ok healthz_running_jobs_back_to_0 ||
		fail healthz_running_jobs_back_to_0 "running_jobs $(healthz_running)"
	send busy1d main "$(pl busy1 ok 3)" key-busy1
	answer running_then_replay busy1d code=200 hdr:Idempotent-Replayed=true runs:busy1=1
	check running_then_replay_identical cmp -s "$R/busy1.body" "$R/busy1d.body"
else
	fail running_409 "the job did not start"
fi

# ------------------------------------------------------------------ storm
# 50 identical deliveries at once (one key, one body) of a job that sleeps
# 1 s: exactly one execution; every answer 200 (the run, or its replay), 409
# (still running) or 429 (no slot); then a replay.
STORM=$(pl storm ok 1)
rsign "$CFG" main "$STORM" --idempotency-key key-storm >"$R/storm.hdrs"
T0=$(now_ms)
seq 1 50 | xargs -P 50 -I{} curl -s --max-time 40 -o "$R/storm.{}.body" -D "$R/storm.{}.hdr" \
	-w '{} %{http_code}\n' -H @"$R/storm.hdrs" --data-binary @"$STORM" "$(runner_url main)" \
	>"$R/storm.codes" 2>/dev/null
ELAPSED=$(($(now_ms) - T0))
STORM_RAN= STORM_BAD= STORM_N200=0 STORM_N409=0 STORM_N429=0 STORM_NREP=0
while read -r i code; do
	echo "$code" >"$R/storm.$i.code"
	echo main >"$R/storm.$i.hook"
	case $code in
	200) if grep -qi '^Idempotent-Replayed: true' "$R/storm.$i.hdr"; then STORM_NREP=$((STORM_NREP + 1))
		else STORM_N200=$((STORM_N200 + 1)); STORM_RAN=$i; fi ;;
	409) STORM_N409=$((STORM_N409 + 1)) ;;
	429) STORM_N429=$((STORM_N429 + 1)) ;;
	*) STORM_BAD+="$i:$code " ;;
	esac
done <"$R/storm.codes"
STORM_SUM="200=$STORM_N200 replayed=$STORM_NREP 409=$STORM_N409 429=$STORM_N429"
info "storm: $STORM_SUM in ${ELAPSED} ms"
expect_eq storm_answers "$(wc -l <"$R/storm.codes") ${STORM_BAD:-none}" "50 none"
expect_eq storm_exactly_one_execution "$(runs storm)/$(starts storm)" "1/1"
expect_eq storm_exactly_one_run_answer "$STORM_N200" 1
[ $((STORM_N200 + STORM_N409)) -ge 1 ] && ok storm_some_200_or_409 || fail storm_some_200_or_409 "$STORM_SUM"
expect_eq storm_store_one_attempt "$(db "select count(*) from jobs where key='key-storm'")" 1
cp "$R/storm.hdrs" "$R/stormr.hdrs"
send_signed stormr main "$STORM"
answer storm_then_replay stormr code=200 status=succeeded hdr:Idempotent-Replayed=true runs:storm=1
# The storm must have run once (storm_exactly_one_run_answer): with no
# first answer there is nothing to compare the replay with, and that fails.
if [ -z "$STORM_RAN" ]; then
	fail storm_replay_identical "no delivery of the storm got a first (not replayed) 200: $STORM_SUM"
else
	check storm_replay_identical cmp -s "$R/storm.$STORM_RAN.body" "$R/stormr.body"
fi

# ------------------------------------------------------------------ client goes away
T0=$(now_ms)
send gone1 main "$(pl gone1 ok 3)" key-gone1 --max-time 1
ELAPSED=$(($(now_ms) - T0))
info "client_gone: curl gave up after ${ELAPSED} ms"
expect_eq client_gone_curl_gave_up "$(cat "$R/gone1.code")" 000
if wait_until 15 test -s "$MARK_DIR/gone1"; then ok client_gone_job_completed; else
	fail client_gone_job_completed "no mark after 15 s"; fi
wait_until 10 idle
send gone1r main "$(pl gone1 ok 3)" key-gone1
answer client_gone_then_replay gone1r code=200 status=succeeded hdr:Idempotent-Replayed=true \
	'output_tail=*out-gone1*' runs:gone1=1 starts:gone1=1

# ------------------------------------------------------------------ log lines
# Every answered request (by X-Request-Id): exactly one "request" line with
# its hook, verify=ok, the expected idempotency decision and status; every
# run (new/retry) one job_started and one job_finished of the same job.
"$PY" "$TOP/tests/tools/jobs_log_check.py" "$RUNNER_LOG" "$R" >"$R/logcheck.txt"
LOG_CHECKED=$(sed -n 's/^checked //p' "$R/logcheck.txt")
if grep -q '^bad ' "$R/logcheck.txt" || [ "${LOG_CHECKED:-0}" -lt 60 ]; then
	fail log_one_request_line_each "$(grep -v '^jobs' "$R/logcheck.txt" | head -n 8 | tr '\n' '|')"
else
	info "log_one_request_line_each: $LOG_CHECKED requests"
	ok log_one_request_line_each
fi
read -r _ LOG_RUNS LOG_ST LOG_FI < <(grep '^jobs ' "$R/logcheck.txt")
[ "${LOG_RUNS:-0}" -gt 0 ] && [ "$LOG_RUNS" = "$LOG_ST" ] && [ "$LOG_ST" = "$LOG_FI" ] &&
	{ info "log_job_started_finished: $LOG_RUNS runs"; ok log_job_started_finished; } ||
	fail log_job_started_finished "runs=$LOG_RUNS job_started=$LOG_ST job_finished=$LOG_FI"
GONE_LINE=$(grep '"event":"request"' "$RUNNER_LOG" | grep '"key":"key-gone1"' | grep -c '"idempotency":"new".*"status":"200"')
expect_eq log_client_gone_request_line "$GONE_LINE" 1

# ------------------------------------------------------------------ caps
runner_stop
# global: max_jobs 2; four different keys at once -> two run, two 429
jobs_cfg "$T_TMP/capg.json" "$T_TMP/capg.db" 2 2 6
start_daemon "$T_TMP/capg.json" "$T_TMP/capg.log"
for i in 1 2 3 4; do
	rsign "$CFG" main "$(pl capg$i ok 4)" --idempotency-key key-capg$i >"$R/capg$i.hdrs"
done
CAPG_BG=()
for i in 1 2 3 4; do
	send_signed capg$i main "$(pl capg$i ok 4)" &
	CAPG_BG+=("$!")
done
BG_PIDS+=("${CAPG_BG[@]}")
wait "${CAPG_BG[@]}"
C200=0 C429=0 CAPG_BAD=""
for i in 1 2 3 4; do
	code=$(cat "$R/capg$i.code")
	rows=$(db "select (select count(*) from jobs where key='key-capg$i')||'/'||(select count(*) from deliveries where key='key-capg$i')")
	case $code in
	200) C200=$((C200 + 1)); [ "$rows $(runs capg$i)" = "1/1 1" ] || CAPG_BAD+="capg$i:200 rows=$rows runs=$(runs capg$i) " ;;
	429) C429=$((C429 + 1))
		[ "$rows $(starts capg$i)" = "0/0 0" ] || CAPG_BAD+="capg$i:429 rows=$rows starts=$(starts capg$i) "
		[[ "$(header capg$i Retry-After)" =~ ^[1-9][0-9]*$ ]] || CAPG_BAD+="capg$i:429 no Retry-After " ;;
	*) CAPG_BAD+="capg$i:$code " ;;
	esac
done
expect_eq global_cap_two_run_two_429 "$C200/$C429 ${CAPG_BAD:-clean}" "2/2 clean"
runner_stop

# per destination: max_per_destination 1; two at once to 127.0.0.1 -> one
# 429; one to localhost (another destination, the same sshd) runs alongside
jobs_cfg "$T_TMP/capd.json" "$T_TMP/capd.db" 4 1 6
start_daemon "$T_TMP/capd.json" "$T_TMP/capd.log"
rsign "$CFG" main "$(pl capd1 ok 4)" --idempotency-key key-capd1 >"$R/capd1.hdrs"
rsign "$CFG" main "$(pl capd2 ok 4)" --idempotency-key key-capd2 >"$R/capd2.hdrs"
rsign "$CFG" local "$(pl capd3 ok 4)" --idempotency-key key-capd3 >"$R/capd3.hdrs"
CAPD_BG=()
send_signed capd1 main "$(pl capd1 ok 4)" & CAPD_BG+=("$!")
send_signed capd2 main "$(pl capd2 ok 4)" & CAPD_BG+=("$!")
send_signed capd3 local "$(pl capd3 ok 4)" & CAPD_BG+=("$!")
BG_PIDS+=("${CAPD_BG[@]}")
wait "${CAPD_BG[@]}"
CAPD="$(cat "$R/capd1.code") $(cat "$R/capd2.code")"
case $CAPD in
"200 429") CAPD_WIN=1 CAPD_LOSE=2 ;;
"429 200") CAPD_WIN=2 CAPD_LOSE=1 ;;
*) CAPD_WIN= ;;
esac
if [ -n "$CAPD_WIN" ]; then
	answer per_destination_cap_429 capd$CAPD_LOSE code=429 'hdr:Retry-After=[1-9]*' \
		starts:capd$CAPD_LOSE=0
	answer per_destination_cap_winner_ran capd$CAPD_WIN code=200 runs:capd$CAPD_WIN=1
	expect_eq per_destination_cap_nothing_recorded \
		"$(db "select count(*) from jobs where key='key-capd$CAPD_LOSE'")/$(db "select count(*) from deliveries where key='key-capd$CAPD_LOSE'")" "0/0"
else
	fail per_destination_cap_429 "127.0.0.1 answers: $CAPD (want one 200, one 429)"
fi
answer per_destination_other_destination_runs capd3 code=200 status=succeeded runs:capd3=1
runner_stop

# ------------------------------------------------------------------ crash
# What a crash does to a running job. The runner starts remote-executor with
# --exit-with-parent, so kill -9 of the daemon stops the executor too (it
# closes its channel on the way out): nothing runs on unrecorded. The row
# stays "running", start-up marks it "interrupted", and the next delivery
# runs the job again as attempt 2, exactly once more. Whether attempt 1's
# remote part finished before the channel closed is timing (case A counts it
# instead of assuming it). Case B crashes everything, as a power loss would,
# and makes the total exact.
jobs_cfg "$T_TMP/crash.json" "$T_TMP/crash.db" 8 8 16
start_daemon "$T_TMP/crash.json" "$T_TMP/crash.log"

# A: only the daemon dies
send crasha main "$(pl crasha ok 3)" key-crasha --max-time 30 &
CRASH_BG=$!
BG_PIDS+=("$CRASH_BG")
if wait_until 10 started crasha && wait_until 3 has_executor; then
	XPID=$(our_executors | head -n 1)
	EXEC_PIDS+=("$XPID")
	sleep 0.5
	runner_kill9
	wait "$CRASH_BG"
	expect_eq crash_daemon_only_store_says_running "$(db "select state from jobs where key='key-crasha'")" running
	if wait_until 5 pid_gone "$XPID"; then ok crash_daemon_only_executor_stops_with_daemon; else
		fail crash_daemon_only_executor_stops_with_daemon "executor $XPID outlived the daemon by 5 s"; fi
	sleep 4 # past attempt 1's sleep: had its remote part survived, it would have marked by now
	RUNS_A1=$(runs crasha)
	case "$RUNS_A1" in 0|1) ok crash_daemon_only_attempt1_counted ;;
	*) fail crash_daemon_only_attempt1_counted "attempt 1 ran $RUNS_A1 times" ;; esac
	start_daemon "$T_TMP/crash.json" "$T_TMP/crash.log"
	expect_eq crash_daemon_only_interrupted "$(db "select attempt||':'||state from jobs where key='key-crasha'")" "1:interrupted"
	send crasha2 main "$(pl crasha ok 3)" key-crasha
	answer crash_daemon_only_retry_runs_again crasha2 code=200 status=succeeded attempt=2 \
		hdr:Idempotent-Replayed= runs:crasha=$((RUNS_A1 + 1)) starts:crasha=2
	send crasha3 main "$(pl crasha ok 3)" key-crasha
	answer crash_daemon_only_then_replay crasha3 code=200 hdr:Idempotent-Replayed=true runs:crasha=$((RUNS_A1 + 1))
	check crash_daemon_only_replay_identical cmp -s "$R/crasha2.body" "$R/crasha3.body"
else
	fail crash_daemon_only "the job did not start"
fi

# B: the machine dies (daemon, executor group, remote command)
send crashb main "$(pl crashb ok 4)" key-crashb --max-time 30 &
CRASH_BG=$!
BG_PIDS+=("$CRASH_BG")
if wait_until 10 started crashb && wait_until 3 has_executor; then
	XPID=$(our_executors | head -n 1)
	EXEC_PIDS+=("$XPID")
	sleep 1
	RSH=$(head -n 1 "$MARK_DIR/crashb.pids")
	RCHILD=$(pgrep -P "$RSH")
	runner_kill9
	kill -9 -- "-$XPID"
	kill -9 "$RSH" $RCHILD
	wait "$CRASH_BG"
	wait_until 5 pid_gone "$XPID"
	wait_until 5 no_remote_left crashb
	expect_eq crash_machine_everything_gone "$(pid_gone "$XPID" || echo "executor $XPID"; remote_left crashb)" ""
	expect_eq crash_machine_store_says_running "$(db "select state from jobs where key='key-crashb'")" running
	start_daemon "$T_TMP/crash.json" "$T_TMP/crash.log"
	expect_eq crash_machine_interrupted "$(db "select attempt||':'||state from jobs where key='key-crashb'")" "1:interrupted"
	N_INT=$(grep '"event":"jobs_interrupted"' "$RUNNER_LOG" | tail -n 1 | sed -n 's/.*"count":"\([0-9]*\)".*/\1/p')
	expect_eq crash_machine_logged_interrupted "$N_INT" 1
	send crashb2 main "$(pl crashb ok 4)" key-crashb
	answer crash_machine_retry_runs crashb2 code=200 status=succeeded attempt=2 hdr:Idempotent-Replayed= \
		runs:crashb=1 starts:crashb=2
	send crashb3 main "$(pl crashb ok 4)" key-crashb
	answer crash_machine_then_replay crashb3 code=200 hdr:Idempotent-Replayed=true runs:crashb=1 starts:crashb=2
	expect_eq crash_machine_store "$(db "select group_concat(attempt||':'||state, ',') from (select * from jobs where key='key-crashb' order by attempt)")" \
		"1:interrupted,2:succeeded"
else
	fail crash_machine "the job did not start"
fi
runner_stop

# ------------------------------------------------------------------ hygiene
SECRETS_SEEN=""
for l in "${LOGS[@]}"; do
	grep -qF "$(cat "$SECRET")" "$l" && SECRETS_SEEN+="hookdeck secret in $l; "
	grep -qF "$(cat "$JWT_SECRET")" "$l" && SECRETS_SEEN+="jwt secret in $l; "
	TOKEN=$(sed -n 's/^Authorization: Bearer //p' "$R/jwt1.hdrs")
	[ -n "$TOKEN" ] && grep -qF "$TOKEN" "$l" && SECRETS_SEEN+="jwt token in $l; "
	SIG=$(sed -n 's/^x-hookdeck-signature: //p' "$R/ok1.hdrs")
	[ -n "$SIG" ] && grep -qF "$SIG" "$l" && SECRETS_SEEN+="signature in $l; "
done
expect_eq log_no_secrets "${SECRETS_SEEN:-none}" none
SAN=$(grep -hE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "${LOGS[@]}" "$R"/*.body 2>/dev/null | head -n 3)
expect_eq sanitizer_clean "${SAN:-clean}" clean

LEFT=""
for f in "$MARK_DIR"/*.pids; do
	n=$(basename "$f" .pids)
	l=$(remote_left "$n")
	[ -n "$l" ] && LEFT+="$n: $l; "
done
for p in "${EXEC_PIDS[@]}"; do pid_gone "$p" || LEFT+="executor $p; "; done
for p in $(pgrep -f "remote-executor.*$SSHD_DIR" 2>/dev/null); do LEFT+="executor $p; "; done
expect_eq no_processes_left "${LEFT:-none}" none
info "total_time $(($(now_ms) - T_START)) ms"
