#!/usr/bin/env bash
# tests/e2e/runner_ops.sh — webhook-runner's OPERABILITY features end to end:
# a real daemon, the real remote-executor and a real OpenSSH sshd.
#   metrics  /metrics after a known mix of answers: promtool-clean, exact
#            counter values, jobs_running while a job runs, bounded labels
#   logs     --log-format json (every line an object, stable keys, request
#            and job lifecycle lines), --log-level warn, no secret anywhere
#   async    202 + Location, GET /jobs/<id> authorization (none, wrong, read
#            token, the hook's JWT), 409 while queued/running, replay,
#            failed jobs, the queue cap (429), the durable queue across a
#            restart
#   reload   SIGHUP: new hook, rotated secret, a rejected broken file, a
#            running job finishes under the old command
#   drain    SIGTERM: a running job finishes (200), new deliveries get 503,
#            exit 0; past drain_timeout_s the job is interrupted (503,
#            "interrupted" in the store) and its next delivery is attempt 2
# Executions are counted through side effects: each job appends its config
# version (v1/v2) to $MARK_DIR/<name> when it completes and "start" to
# <name>.start when it begins. A job that must be running while something
# happens (a 409, a reload, a SIGTERM) does not sleep a fixed time: it waits
# for the test to create $MARK_DIR/<name>.go (release NAME), at most SECS
# seconds, so the test holds it exactly as long as needed, however slow the
# machine. Every curl has --max-time and every wait a bound; daemons,
# background curls and remote shells are killed at exit.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"
shopt -s extglob

EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX"
need_tools sqlite3
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
T_START=$(now_ms)

R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
SEND_MAX_TIME=40 # send/send_signed: a job here may be held for up to 30 s
at_exit kill_leftovers

# ------------------------------------------------------------------ helpers
presign() { # TAG HOOK PAYLOAD KEY : sign with $CFG into $R/TAG.hdrs
	rsign "$CFG" "$2" "$3" --idempotency-key "$4" >"$R/$1.hdrs" 2>"$R/$1.signerr"
}
# jget TAG PATH [TOKEN] : GET http://…/PATH, with a bearer TOKEN when given
jget() {
	local tag=$1 path=$2 tok=${3:-}
	local auth=()
	[ -n "$tok" ] && auth=(-H "Authorization: Bearer $tok")
	rm -f "$R/$tag.kv"
	CODE=$(fetch "$R/$tag" --max-time 10 "${auth[@]}" "http://127.0.0.1:$RUNNER_PORT/$path")
	echo "$CODE" >"$R/$tag.code"
}
# term_and_wait SECONDS : SIGTERM the daemon, wait (bounded) for it; sets
# EXIT_RC (the exit status, or "hung") and EXIT_MS (ms from the signal)
term_and_wait() {
	local t0 pid=$RUNNER_PID
	t0=$(now_ms)
	kill -TERM "$pid"
	if wait_until "$1" pid_gone "$pid"; then
		wait "$pid"
		EXIT_RC=$?
	else
		EXIT_RC=hung
		kill -9 "$pid"
		wait "$pid"
	fi
	EXIT_MS=$(($(now_ms) - t0))
	RUNNER_PID=
}
# log_has LOG PYTHON-CONDITION-ON-d : some JSON line satisfies it
log_count() {
	$PY "$TOP/tests/tools/log_count.py" "$1" "$2"
}
# log_more FILE EXPR N : more than N lines of FILE match EXPR (for wait_until,
# which then counts afresh on every try)
log_more() { [ "$(log_count "$1" "$2")" -gt "$3" ]; }
# metrics TAG : scrape /metrics into $R/TAG.prom and parse it into
# $R/TAG.kv lines "name|k=v,k=v (sorted)|value"
metrics() {
	jget "$1" metrics
	cp "$R/$1.body" "$R/$1.prom"
	$PY "$TOP/tests/tools/prom_flatten.py" "$R/$1.prom" >"$R/$1.mkv"
}
# mget TAG NAME [k=v,...] : a sample's value, "absent" when there is none
mget() {
	local labels v
	labels=$(echo "${3:-}" | tr ',' '\n' | sed '/^$/d' | sort | paste -sd, -)
	v=$(grep -F -m1 "$2|$labels|" "$R/$1.mkv" | grep "^$2|" | cut -d'|' -f3)
	echo "${v:-absent}"
}

# ------------------------------------------------------------------ fixtures
SECRET=$T_TMP/hookdeck.secret SECRET2=$T_TMP/hookdeck2.secret JWT_SECRET=$T_TMP/jwt.secret
READ_TOKEN_FILE=$T_TMP/read.token
for f in "$SECRET" "$SECRET2" "$JWT_SECRET" "$READ_TOKEN_FILE"; do
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f"
done
READ_TOKEN=$(cat "$READ_TOKEN_FILE")
WRONG_TOKEN=wrong-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
DEST=$SSH_USER@127.0.0.1:$SSHD_PORT
VERSION=$("$RUNNER_BIN" --version | awk '{print $2}')

PARAMS='{ "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" },
          "action": { "from": "payload", "path": "action", "pattern": "ok|fail" },
          "secs": { "from": "payload", "path": "secs", "pattern": "[0-9]{1,2}" } }'
# mkcmd VER WAIT : the job; WAIT "gate" waits for $MARK_DIR/<name>.go at
# most {{secs}} s, "true" does not wait at all
mkcmd() {
	local w="w={{secs}}0; while [ \$w -gt 0 ] && [ ! -e $MARK_DIR/\$n.go ]; do sleep 0.1; w=\$((w-1)); done;"
	[ "$2" = gate ] || w="true {{secs}};"
	printf '%s' "n={{name}}; echo \$\$ >>$MARK_DIR/\$n.pids; echo start >>$MARK_DIR/\$n.start;" \
		" $w case {{action}} in ok) echo $1 >>$MARK_DIR/\$n; echo out-\$n;;" \
		" fail) echo $1 >>$MARK_DIR/\$n; echo failing-\$n >&2; exit 3;; esac"
}
release() { touch "$MARK_DIR/$1.go"; }
# kill_remote NAME : end NAME's remote shells and their children
kill_remote() {
	local p
	[ -f "$MARK_DIR/$1.pids" ] || return 0
	while read -r p; do
		[ -n "$p" ] || continue
		pkill -9 -P "$p" 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done <"$MARK_DIR/$1.pids"
}
# hook ID [secret=FILE ver=v1 sl=gate mode=sync jwt=no to=60] : one hook's JSON
hook() {
	local id=$1
	shift
	local secret=$SECRET ver=v1 sl=gate mode=sync jwt=no to=60 extra=""
	[ $# -eq 0 ] || local "$@"
	[ "$jwt" = yes ] && extra='
      "jwt": { "algorithms": ["HS256"], "key": "file:'$JWT_SECRET'", "issuer": "ci",
               "audience": "webhook-runner" },'
	cat <<JSON
    { "id": "$id",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$secret"] },$extra
      "job": { "destination": "$DEST", "identity": "$KEY_ED25519", "known_hosts": "$KNOWN_HOSTS",
               "command": "$(mkcmd "$ver" "$sl")", "params": $PARAMS, "mode": "$mode",
               "timeout_s": $to, "connect_timeout_s": 3, "handshake_timeout_s": 5,
               "response_output": true } }
JSON
}
# ops_cfg FILE STORE MAX_JOBS MAX_QUEUED DRAIN_S HOOKS_JSON [mkcfg options] :
# written atomically (a SIGHUP never reads half a file)
ops_cfg() {
	mkcfg "$1" "$6" store="$2" max_jobs="$3" max_queued="$4" drain="$5" threads=16 \
		read_token="$READ_TOKEN_FILE" log_level=info log_format=text atomic=yes "${@:7}"
}
HOOKS_V1="$(hook main), $(hook jwt jwt=yes), $(hook amain mode=async jwt=yes)"
HOOKS_V2="$(hook main secret="$SECRET2" ver=v2), $(hook jwt jwt=yes), $(hook amain mode=async jwt=yes),
$(hook added ver=v2)"

# ================================================================== daemon A
# metrics, JSON logs, async, /jobs, reload, drain (a)
CFG_A=$T_TMP/a.json
ops_cfg "$CFG_A" "$T_TMP/a.db" 8 100 30 "$HOOKS_V1"
cp "$CFG_A" "$T_TMP/a-v1.json"
start_daemon "$CFG_A" "$T_TMP/a.log" --log-format json
A_LOG=$RUNNER_LOG

# ------------------------------------------------------------------ metrics: the mix
send m_ok main "$(pl m-ok ok 0)" key-m-ok
answer mix_200 m_ok code=200 status=succeeded runs:m-ok=1
rsign "$CFG" main "$(pl m-bad ok 0)" --idempotency-key key-m-bad |
	sed 's/^\(x-hookdeck-signature: \).*/\1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=/' >"$R/m_badsig.hdrs"
send_signed m_badsig main "$(pl m-bad ok 0)"
answer mix_401_bad_signature m_badsig code=401 starts:m-bad=0
rsign "$CFG" main "$(pl m-dup ok 0)" --idempotency-key key-m-dup >"$R/m_dup.hdrs"
DUPSIG=$(grep '^x-hookdeck-signature:' "$R/m_dup.hdrs")
echo "$DUPSIG" >>"$R/m_dup.hdrs"
send_signed m_dup main "$(pl m-dup ok 0)"
answer mix_401_repeated_signature_header m_dup code=401 starts:m-dup=0
rsign "$CFG" jwt "$(pl m-jwt ok 0)" --idempotency-key key-m-jwt --claims '{"iss":"evil"}' >"$R/m_badjwt.hdrs"
send_signed m_badjwt jwt "$(pl m-jwt ok 0)"
answer mix_403_bad_jwt m_badjwt code=403 starts:m-jwt=0

send m_busy main "$(pl m-busy ok 20)" key-m-busy &
BUSY_BG=$!
BG_PIDS+=("$BUSY_BG")
if wait_until 10 started m-busy; then
	metrics mx_running
	expect_eq metrics_jobs_running_while_a_job_runs "$(mget mx_running webhook_runner_jobs_running)" 1
	send m_busy2 main "$(pl m-busy ok 20)" key-m-busy
	answer mix_409 m_busy2 code=409 starts:m-busy=1
	sleep 1 # at least a second in the histogram
else
	fail mix_409 "the job did not start"
fi
release m-busy
wait "$BUSY_BG"
answer mix_409_first_200 m_busy code=200 runs:m-busy=1
send m_replay main "$(pl m-ok ok 0)" key-m-ok
answer mix_replay m_replay code=200 hdr:Idempotent-Replayed=true runs:m-ok=1
send m_mismatch main "$(pl m-ok ok 0 other)" key-m-ok
answer mix_422_mismatch m_mismatch code=422 runs:m-ok=1
send m_fail main "$(pl m-fail fail 0)" key-m-fail
answer mix_500 m_fail code=500 exit_code=3 runs:m-fail=1
UNKNOWN_IDS=()
N404=0
for i in $(seq 1 50); do
	u=zz$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
	UNKNOWN_IDS+=("$u")
	c=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST --data-binary '{}' \
		"http://127.0.0.1:$RUNNER_PORT/hooks/$u")
	[ "$c" = 404 ] && N404=$((N404 + 1))
done
expect_eq mix_404_unknown_hooks "$N404" 50

# ------------------------------------------------------------------ metrics: the exposition
metrics mx
expect_eq metrics_200 "$(cat "$R/mx.code")" 200
expect_match metrics_content_type "$(header mx Content-Type)" '^text/plain; version=0\.0\.4'
if command -v promtool >/dev/null; then
	if promtool check metrics <"$R/mx.prom" >"$R/promtool.out" 2>&1; then
		ok metrics_promtool_clean
	else
		fail metrics_promtool_clean "$(head -n 5 "$R/promtool.out" | tr '\n' '|')"
	fi
else
	fail metrics_promtool_clean "promtool missing (Debian package prometheus; make deps)"
fi
expect_eq metrics_parse_clean "$(grep -c '^BAD|' "$R/mx.mkv")" 0
M=webhook_runner
GOT=""
for kv in main,200=3 main,401=2 jwt,403=1 main,409=1 main,422=1 main,500=1 _unknown,404=50; do
	hc=${kv%=*}
	GOT+="${hc}=$(mget mx ${M}_requests_total "hook=${hc%,*},code=${hc#*,}") "
done
expect_eq metrics_requests_by_hook_code "$GOT" \
	"main,200=3 main,401=2 jwt,403=1 main,409=1 main,422=1 main,500=1 _unknown,404=50 "
expect_eq metrics_requests_no_other_hook_series \
	"$(grep "^${M}_requests_total|" "$R/mx.mkv" | grep -vE '\|code=[0-9]+,hook=(main|jwt|_unknown|-)\|' | head -n 3)" ""
expect_eq metrics_unknown_hooks_one_series \
	"$(grep -c "^${M}_requests_total|code=404,hook=_unknown|" "$R/mx.mkv")/$(grep -c 'hook=zz' "$R/mx.mkv")" "1/0"
expect_eq metrics_verification_failures \
	"$(mget mx ${M}_verification_failures_total hook=main,reason=signature:mismatch) $(mget mx ${M}_verification_failures_total hook=main,reason=signature:duplicate_header) $(mget mx ${M}_verification_failures_total hook=jwt,reason=jwt:iss) $(grep -c "^${M}_verification_failures_total|" "$R/mx.mkv")" \
	"1 1 1 3"
expect_eq metrics_idempotency_decisions \
	"$(for d in new replay conflict mismatch retry; do printf '%s=%s ' $d "$(mget mx ${M}_idempotency_decisions_total hook=main,decision=$d)"; done)" \
	"new=3 replay=1 conflict=1 mismatch=1 retry=absent "
expect_eq metrics_jobs_by_outcome \
	"$(mget mx ${M}_jobs_total hook=main,outcome=succeeded) $(mget mx ${M}_jobs_total hook=main,outcome=failed) $(grep -c "^${M}_jobs_total|" "$R/mx.mkv")" \
	"2 1 2"
expect_eq metrics_job_duration_count \
	"$(mget mx ${M}_job_duration_seconds_count hook=main) $(mget mx ${M}_job_duration_seconds_bucket hook=main,le=+Inf)" "3 3"
DSUM=$(mget mx ${M}_job_duration_seconds_sum hook=main)
$PY -c 'import sys; sys.exit(0 if 1.0 <= float(sys.argv[1]) < 60 else 1)' "$DSUM" 2>/dev/null &&
	{ info "metrics_job_duration_sum: $DSUM s"; ok metrics_job_duration_sum; } || fail metrics_job_duration_sum "$DSUM (the held job is in it)"
# cumulative buckets never decrease; the held job (over 1 s) is not in le="1"
BUCKETS=$(grep "^${M}_job_duration_seconds_bucket|hook=main," "$R/mx.mkv" | cut -d'|' -f3 | tr '\n' ' ')
$PY -c 'import sys; v=[int(x) for x in sys.argv[1:]]; sys.exit(0 if len(v) == 12 and v == sorted(v) and v[3] <= 2 else 1)' $BUCKETS &&
	{ info "metrics_job_duration_buckets: $BUCKETS"; ok metrics_job_duration_buckets; } || fail metrics_job_duration_buckets "$BUCKETS"
expect_eq metrics_jobs_running_idle "$(mget mx ${M}_jobs_running)" 0
expect_eq metrics_jobs_queued_idle "$(mget mx ${M}_jobs_queued)" 0
expect_eq metrics_build_info "$(mget mx ${M}_build_info "version=$VERSION")" 1
expect_eq metrics_no_tls_series_without_tls "$(grep -c "^${M}_tls_" "$R/mx.prom")" 0

# ------------------------------------------------------------------ /jobs/<unknown>
jget ju_none jobs/999999
jget ju_read jobs/999999 "$READ_TOKEN"
jget ju_wrong jobs/999999 "$WRONG_TOKEN"
jget ju_text jobs/abc "$READ_TOKEN"
expect_eq jobs_unknown_id "$(cat "$R/ju_none.code") $(cat "$R/ju_read.code") $(cat "$R/ju_wrong.code") $(cat "$R/ju_text.code")" \
	"401 404 403 404"

# ------------------------------------------------------------------ async
send a1 amain "$(pl a1 ok 20)" key-a1
A1_TOKEN=$(sed -n 's/^Authorization: Bearer //p' "$R/a1.hdrs")
A1_ID=$(jf a1 job_id)
answer async_202 a1 code=202 status=queued attempt=1 hook=amain "location=/jobs/$A1_ID" \
	"hdr:Location=/jobs/$A1_ID" 'job_id=[1-9]*'
cp "$R/a1.hdrs" "$R/a1b.hdrs"
send_signed a1b amain "$(pl a1 ok 20)"
answer async_409_while_queued_or_running a1b code=409 'hdr:Retry-After=[1-9]*'
jget a1_none "jobs/$A1_ID"
answer async_get_no_token_401 a1_none code=401 'hdr:WWW-Authenticate=Bearer*'
jget a1_wrong "jobs/$A1_ID" "$WRONG_TOKEN"
answer async_get_wrong_token_403 a1_wrong code=403
jget a1_read "jobs/$A1_ID" "$READ_TOKEN"
answer async_get_read_token_200 a1_read code=200 "job_id=$A1_ID" hook=amain 'status=@(queued|running)'
jget a1_jwt "jobs/$A1_ID" "$A1_TOKEN"
answer async_get_hook_jwt_200 a1_jwt code=200 "job_id=$A1_ID"
# a JWT opens only jobs of hooks that verify it: main's jobs need the read token
MAIN_JOB=$(db "select id from jobs where key='key-m-ok'")
jget mj_jwt "jobs/$MAIN_JOB" "$A1_TOKEN"
jget mj_read "jobs/$MAIN_JOB" "$READ_TOKEN"
expect_eq jobs_jwt_only_for_its_hook "$(cat "$R/mj_jwt.code") $(cat "$R/mj_read.code")" "403 200"
a_done() { # ID : the job left queued/running
	jget poll "jobs/$1" "$READ_TOKEN"
	[ "$CODE" = 200 ] && [[ "$(jf poll status)" != @(queued|running) ]]
}
release a1
if wait_until 20 a_done "$A1_ID"; then
	jget a1_fin "jobs/$A1_ID" "$READ_TOKEN"
	answer async_job_succeeded a1_fin code=200 status=succeeded exit_code=0 http_status=200 \
		'output_tail=*out-a1*' runs:a1=1 starts:a1=1
else
	fail async_job_succeeded "job $A1_ID still $(jf poll status) after 20 s"
fi
cp "$R/a1.hdrs" "$R/a1r.hdrs"
send_signed a1r amain "$(pl a1 ok 20)"
answer async_replay_after_completion a1r code=200 hdr:Idempotent-Replayed=true status=succeeded \
	"job_id=$A1_ID" runs:a1=1

send af amain "$(pl af fail 0)" key-af
AF_ID=$(jf af job_id)
answer async_failed_202 af code=202 status=queued
if wait_until 20 a_done "$AF_ID"; then
	jget af_fin "jobs/$AF_ID" "$READ_TOKEN"
	answer async_failed_reported af_fin code=200 status=failed exit_code=3 http_status=500 runs:af=1
else
	fail async_failed_reported "job $AF_ID still $(jf poll status) after 20 s"
fi
cp "$R/af.hdrs" "$R/af2.hdrs"
send_signed af2 amain "$(pl af fail 0)"
answer async_failed_retry_is_attempt_2 af2 code=202 attempt=2 status=queued
wait_until 20 a_done "$(jf af2 job_id)"
answer async_failed_retry_ran af2 runs:af=2

# ------------------------------------------------------------------ SIGHUP reload
rsign "$T_TMP/a-v1.json" main "$(pl rl-old ok 0)" --idempotency-key key-rl-old >"$R/rl_old.hdrs"
send rl_run main "$(pl rl-run ok 20)" key-rl-run &
RL_BG=$!
BG_PIDS+=("$RL_BG")
if wait_until 10 started rl-run; then
	ops_cfg "$CFG_A" "$T_TMP/a.db" 8 100 30 "$HOOKS_V2"
	N_OK=$(log_count "$A_LOG" 'd.get("event")=="reload" and d.get("result")=="ok"')
	kill -HUP "$RUNNER_PID"
	if wait_until 10 log_more "$A_LOG" 'd.get("event")=="reload" and d.get("result")=="ok"' "$N_OK"; then
		ok reload_logged_ok
	else
		fail reload_logged_ok "no reload result=ok line"
	fi
	send rl_added added "$(pl rl-added ok 0)" key-rl-added
	answer reload_new_hook_answers rl_added code=200 status=succeeded ran:rl-added=v2
	send_signed rl_old main "$(pl rl-old ok 0)"
	answer reload_old_secret_401 rl_old code=401 starts:rl-old=0
	send rl_new main "$(pl rl-new ok 0)" key-rl-new
	answer reload_new_secret_200 rl_new code=200 status=succeeded ran:rl-new=v2
	release rl-run
	wait "$RL_BG"
	answer reload_running_job_keeps_old_command rl_run code=200 status=succeeded ran:rl-run=v1
else
	fail reload "the job did not start"
	release rl-run
	wait "$RL_BG"
fi
# a broken file: rejected, logged, the config in force keeps serving
N_REJ=$(log_count "$A_LOG" 'd.get("event")=="reload" and d.get("result")=="rejected"')
printf '{ "server": { "listen": ' >"$CFG_A.tmp" && mv "$CFG_A.tmp" "$CFG_A"
kill -HUP "$RUNNER_PID"
if wait_until 10 log_more "$A_LOG" 'd.get("event")=="reload" and d.get("result")=="rejected"' "$N_REJ"; then
	ok reload_broken_file_rejected
else
	fail reload_broken_file_rejected "no reload result=rejected line"
fi
ops_cfg "$T_TMP/a-v2.json" "$T_TMP/a.db" 8 100 30 "$HOOKS_V2"
CFG=$T_TMP/a-v2.json # sign with the config in force
send rl_keep added "$(pl rl-keep ok 0)" key-rl-keep
answer reload_broken_keeps_old_config rl_keep code=200 ran:rl-keep=v2
send rl_keep2 main "$(pl rl-keep2 ok 0)" key-rl-keep2
answer reload_broken_keeps_new_secret rl_keep2 code=200 ran:rl-keep2=v2
cp "$T_TMP/a-v2.json" "$CFG_A"
kill -0 "$RUNNER_PID" 2>/dev/null && ok reload_daemon_alive || fail reload_daemon_alive "daemon gone"

# ------------------------------------------------------------------ SIGTERM drain (a)
send dr_run main "$(pl dr-run ok 20)" key-dr-run &
DR_BG=$!
BG_PIDS+=("$DR_BG")
if wait_until 10 started dr-run; then
	rsign "$CFG" main "$(pl dr-new ok 0)" --idempotency-key key-dr-new >"$R/dr_new.hdrs"
	T0=$(now_ms)
	PID_A=$RUNNER_PID
	kill -TERM "$PID_A"
	DURING=""
	N503=0
	HZ=""
	for i in $(seq 1 100); do
		send_signed dr_new main "$(pl dr-new ok 0)" --max-time 3
		DURING+="$CODE "
		[ "$CODE" = 503 ] && N503=$((N503 + 1))
		[ -z "$HZ" ] && [ "$CODE" = 503 ] &&
			HZ=$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RUNNER_PORT/healthz")
		# the job runs on until three deliveries were turned away
		[ "$N503" -ge 3 ] || [ "$i" -ge 30 ] && release dr-run
		kill -0 "$DR_BG" 2>/dev/null || break
		sleep 0.1
	done
	wait "$DR_BG"
	answer drain_running_job_finishes_200 dr_run code=200 status=succeeded runs:dr-run=1
	BADCODES=$(echo "$DURING" | tr ' ' '\n' | grep -vE '^(503|000|)$' | sort -u | tr '\n' ' ')
	[ "$N503" -ge 1 ] && [ -z "$BADCODES" ] && { info "drain_new_deliveries_503: $N503 x 503"; ok drain_new_deliveries_503; } ||
		fail drain_new_deliveries_503 "codes during drain: $DURING"
	expect_eq drain_new_delivery_never_ran "$(starts dr-new)" 0
	expect_eq drain_healthz_503 "$HZ" 503
	if wait_until 15 pid_gone "$PID_A"; then
		wait "$PID_A"
		DRAIN_RC=$?
		info "drain_exit_0: exited after $(($(now_ms) - T0)) ms"
		expect_eq drain_exit_0 "$DRAIN_RC" 0
	else
		fail drain_exit_0 "still running 15 s after SIGTERM"
		kill -9 "$PID_A"
		wait "$PID_A"
	fi
	RUNNER_PID=
	expect_eq drain_logged_stopped "$(log_count "$A_LOG" 'd.get("event")=="stopped"')" 1
else
	fail drain "the job did not start"
	release dr-run
	wait "$DR_BG"
	runner_stop
fi

# ------------------------------------------------------------------ JSON log of daemon A
$PY "$TOP/tests/tools/ops_log_check.py" "$A_LOG" "$R" >"$R/logcheck.txt"
LOG_LINES=$(sed -n 's/^lines //p' "$R/logcheck.txt")
BADJ=$(grep '^bad-json' "$R/logcheck.txt" | head -n 3 | tr '\n' '|')
[ -z "$BADJ" ] && [ "${LOG_LINES:-0}" -gt 50 ] && { info "log_json_every_line: $LOG_LINES lines"; ok log_json_every_line; } ||
	fail log_json_every_line "${BADJ:-only ${LOG_LINES:-0} lines}"
BADR=$(grep '^bad-req' "$R/logcheck.txt" | head -n 5 | tr '\n' '|')
LOG_CHECKED=$(sed -n 's/^checked //p' "$R/logcheck.txt")
[ -z "$BADR" ] && [ "${LOG_CHECKED:-0}" -ge 25 ] && { info "log_request_lines: $LOG_CHECKED requests"; ok log_request_lines; } ||
	fail log_request_lines "${BADR:-only ${LOG_CHECKED:-0} requests matched}"
BADJOB=$(grep '^bad-job' "$R/logcheck.txt" | head -n 5 | tr '\n' '|')
JOBSLINE=$(grep '^jobs ' "$R/logcheck.txt")
[ -z "$BADJOB" ] && [[ "$JOBSLINE" =~ queued=[3-9] ]] && { info "log_job_lifecycle: ${JOBSLINE#jobs }"; ok log_job_lifecycle; } ||
	fail log_job_lifecycle "${BADJOB:-$JOBSLINE}"
expect_match log_job_outcomes "$(grep '^outcomes ' "$R/logcheck.txt")" 'failed/3.*succeeded/0'
expect_eq log_reload_lines "$(log_count "$A_LOG" 'd.get("event")=="reload" and d.get("result") in ("ok","rejected")')" 2
expect_eq log_reload_rejected_is_error \
	"$(log_count "$A_LOG" 'd.get("event")=="reload" and d.get("result")=="rejected" and d.get("level")=="error" and "error" in d')" 1

# ================================================================== daemon W: --log-level warn
CFG_W=$T_TMP/w.json
ops_cfg "$CFG_W" "$T_TMP/w.db" 4 100 5 "$(hook main)"
start_daemon "$CFG_W" "$T_TMP/w.log" --log-format json --log-level warn
send w_ok main "$(pl w-ok ok 0)" key-w-ok
send w_fail main "$(pl w-fail fail 0)" key-w-fail
expect_eq loglevel_warn_requests "$(cat "$R/w_ok.code") $(cat "$R/w_fail.code")" "200 500"
runner_stop
W_ALL=$(log_count "$RUNNER_LOG" 'True')
W_INFO=$(log_count "$RUNNER_LOG" 'd.get("level") in ("info","debug")')
W_WARN=$(log_count "$RUNNER_LOG" 'd.get("level")=="warn" and d.get("event") in ("request","job_finished")')
W_LINES=$(wc -l <"$RUNNER_LOG" | tr -d ' ')
if [ "$W_ALL" = "$W_LINES" ]; then ok loglevel_warn_lines_all_json; else
	# show the lines that are not JSON objects (seen once, not understood yet)
	fail loglevel_warn_lines_all_json "$W_ALL of $W_LINES lines are JSON; the others: $($PY "$TOP/tests/tools/non_json_lines.py" "$RUNNER_LOG" | tr '\n' ' ')"
fi
info "loglevel_warn_no_info: $W_ALL lines, $W_WARN warn"
expect_eq loglevel_warn_no_info "$W_INFO" 0
expect_eq loglevel_warn_keeps_the_failure "$W_WARN" 2

# ================================================================== daemon Q: queue cap, durable queue
CFG_Q=$T_TMP/q.json
ops_cfg "$CFG_Q" "$T_TMP/q.db" 1 2 20 "$(hook amain mode=async jwt=yes)"
start_daemon "$CFG_Q" "$T_TMP/q.log" --log-format json
# signed beforehand: the timing below must not wait for the signer
for t in qa2 qa3 qa4 d2 d3; do presign $t amain "$(pl $t ok 0)" key-$t; done
send qa1 amain "$(pl qa1 ok 20)" key-qa1
if [ "$CODE" = 202 ] && wait_until 10 started qa1; then
	send_signed qa2 amain "$(pl qa2 ok 0)"
	send_signed qa3 amain "$(pl qa3 ok 0)"
	metrics mq
	send_signed qa4 amain "$(pl qa4 ok 0)"
	release qa1
	expect_eq queue_two_accepted "$(cat "$R/qa2.code") $(cat "$R/qa3.code")" "202 202"
	expect_eq queue_metrics_gauges "$(mget mq webhook_runner_jobs_running) $(mget mq webhook_runner_jobs_queued)" "1 2"
	answer queue_full_429 qa4 code=429 'hdr:Retry-After=[1-9]*'
	expect_eq queue_full_nothing_recorded "$(db "select count(*) from jobs where key='key-qa4'")/$(db "select count(*) from deliveries where key='key-qa4'")" "0/0"
	QA3_ID=$(jf qa3 job_id)
	if wait_until 20 a_done "$QA3_ID"; then ok queue_drains; else fail queue_drains "qa3 still $(jf poll status)"; fi
	expect_eq queue_each_ran_once "$(runs qa1) $(runs qa2) $(runs qa3) $(starts qa4)" "1 1 1 0"
else
	fail queue_full_429 "qa1: $CODE, or it did not start"
	release qa1
fi

# durable queue: three jobs on one worker, SIGTERM while the first runs
send d1 amain "$(pl d1 ok 20)" key-d1
if [ "$CODE" = 202 ] && wait_until 10 started d1; then
	send_signed d2 amain "$(pl d2 ok 0)"
	send_signed d3 amain "$(pl d3 ok 0)"
	expect_eq durable_queued "$(cat "$R/d2.code") $(cat "$R/d3.code")" "202 202"
	D_IDS="$(jf d1 job_id) $(jf d2 job_id) $(jf d3 job_id)"
	# SIGTERM while d1 runs; d1 is let go once the daemon is draining
	kill -TERM "$RUNNER_PID"
	wait_until 10 log_more "$RUNNER_LOG" 'd.get("event")=="stopping"' 0
	release d1
	term_and_wait 20
	info "durable_sigterm_exit_0: $EXIT_MS ms"
	expect_eq durable_sigterm_exit_0 "$EXIT_RC" 0
	expect_eq durable_store_after_stop \
		"$(db "select group_concat(key||':'||state, ' ') from (select * from jobs where key like 'key-d_' order by key)")" \
		"key-d1:succeeded key-d2:queued key-d3:queued"
	expect_eq durable_only_first_ran "$(runs d1) $(starts d2) $(starts d3)" "1 0 0"
	start_daemon "$CFG_Q" "$T_TMP/q.log" --log-format json
	ALL_DONE=1
	for id in $D_IDS; do wait_until 20 a_done "$id" || ALL_DONE=0; done
	[ "$ALL_DONE" = 1 ] && ok durable_run_after_restart || fail durable_run_after_restart "not all finished"
	ST=""
	for id in $D_IDS; do jget dget "jobs/$id" "$READ_TOKEN"; ST+="$(jf dget status) "; done
	expect_eq durable_get_succeeded "$ST" "succeeded succeeded succeeded "
	expect_eq durable_exactly_three_executions "$(runs d1) $(runs d2) $(runs d3) $(($(starts d1) + $(starts d2) + $(starts d3)))" "1 1 1 3"
	expect_eq durable_store_attempts "$(db "select group_concat(attempt||':'||state, ' ') from (select * from jobs where key like 'key-d_' order by key)")" \
		"1:succeeded 1:succeeded 1:succeeded"
else
	fail durable_queue "d1: $CODE, or it did not start"
	release d1
fi
runner_stop

# ================================================================== daemon D: drain timeout
# The job's timeout_s is 4: the drain (1 s) interrupts it first. libssh2 1.10
# cannot signal the remote command and OpenSSH does not end a command without
# a terminal when its channel closes, so the remote command ends at its
# remote deadline (timeout_s + 1, job.remote_timeout), not at once.
CFG_D=$T_TMP/d.json
ops_cfg "$CFG_D" "$T_TMP/d.db" 4 100 1 "$(hook main to=4)"
start_daemon "$CFG_D" "$T_TMP/d.log" --log-format json
send to1 main "$(pl to1 ok 60)" key-to1 &
TO_BG=$!
BG_PIDS+=("$TO_BG")
if wait_until 10 started to1; then
	sleep 0.3
	term_and_wait 20
	info "drain_timeout_exit_0: $EXIT_MS ms"
	expect_eq drain_timeout_exit_0 "$EXIT_RC" 0
	[ "$EXIT_MS" -lt 8000 ] && ok drain_timeout_bounded || fail drain_timeout_bounded "$EXIT_MS ms (drain_timeout_s 1)"
	wait "$TO_BG"
	answer drain_timeout_answer_503 to1 code=503 status=interrupted error=shutdown attempt=1 \
		'hdr:Retry-After=[1-9]*' runs:to1=0
	expect_eq drain_timeout_store "$(db "select attempt||':'||state||':'||http_status from jobs where key='key-to1'")" \
		"1:interrupted:503"
	expect_eq drain_timeout_logged "$(log_count "$RUNNER_LOG" 'd.get("event")=="drain" and d.get("interrupted_jobs")=="1"')" 1
	if wait_until 10 no_remote_left to1; then ok drain_timeout_remote_command_gone_by_its_deadline; else
		fail drain_timeout_remote_command_gone "still running: $(remote_left to1)"; fi
	kill_remote to1 # it must not complete attempt 1 behind our back
	# the next start: the same delivery (same headers and body) is attempt 2;
	# the command no longer sleeps, so it completes
	ops_cfg "$CFG_D" "$T_TMP/d.db" 4 100 1 "$(hook main sl=true ver=v2)"
	start_daemon "$CFG_D" "$T_TMP/d.log" --log-format json
	cp "$R/to1.hdrs" "$R/to2.hdrs"
	send_signed to2 main "$(pl to1 ok 60)"
	answer drain_timeout_next_delivery_attempt_2 to2 code=200 status=succeeded attempt=2 \
		hdr:Idempotent-Replayed= ran:to1=v2 starts:to1=2
	expect_eq drain_timeout_store_attempts "$(db "select group_concat(attempt||':'||state, ' ') from (select * from jobs where key='key-to1' order by attempt)")" \
		"1:interrupted 2:succeeded"
	runner_stop

	# ---------------------------------------------------------- retention
	# store.retention_days (30 by default): the daemon prunes finished jobs
	# older than that in the background (at start, then hourly). Age attempt
	# 1 by 31 days: it goes, attempt 2 and the delivery stay. Then age
	# attempt 2 too: the key goes whole, delivery included.
	DAY_MS=86400000
	db "update jobs set finished_ms = finished_ms - 31 * $DAY_MS where key='key-to1' and attempt=1" >/dev/null
	start_daemon "$CFG_D" "$T_TMP/d-prune1.log" --log-format json
	pruned_one() { [ "$(db "select group_concat(attempt, ' ') from jobs where key='key-to1'")" = 2 ]; }
	if wait_until 10 pruned_one; then ok retention_prunes_old_attempt; else
		fail retention_prunes_old_attempt "jobs left: $(db "select group_concat(attempt||':'||state, ' ') from jobs where key='key-to1'")"; fi
	expect_eq retention_keeps_delivery_of_live_key "$(db "select count(*) from deliveries where key='key-to1'")" 1
	expect_eq retention_logged "$(log_count "$RUNNER_LOG" 'd.get("event")=="prune" and d.get("deleted")=="1"')" 1
	runner_stop
	db "update jobs set finished_ms = finished_ms - 31 * $DAY_MS where key='key-to1'" >/dev/null
	start_daemon "$CFG_D" "$T_TMP/d-prune2.log" --log-format json
	pruned_all() { [ "$(db "select count(*) from jobs where key='key-to1'")/$(db "select count(*) from deliveries where key='key-to1'")" = 0/0 ]; }
	if wait_until 10 pruned_all; then ok retention_prunes_key_and_delivery; else
		fail retention_prunes_key_and_delivery "left: $(db "select count(*) from jobs where key='key-to1'") jobs"; fi
	runner_stop
else
	fail drain_timeout "the job did not start"
	wait "$TO_BG"
	runner_stop
fi

# ================================================================== daemon RQ: taken, not started
# Two workers, one slot per destination: rq1 runs, rq2 is taken from the queue
# by the second worker and waits for the slot. SIGTERM (drain 1 s): rq1 is
# interrupted; rq2 never started, and its 202 will not be delivered again, so
# it goes back to the queue and runs after the restart, once.
CFG_RQ=$T_TMP/rq.json
ops_cfg "$CFG_RQ" "$T_TMP/rq.db" 2 100 1 "$(hook amain mode=async jwt=yes)" max_per_dest=1
start_daemon "$CFG_RQ" "$T_TMP/rq.log" --log-format json
presign rq2 amain "$(pl rq2 ok 0)" key-rq2
send rq1 amain "$(pl rq1 ok 20)" key-rq1
taken() { [ "$(db "select state from jobs where key='key-rq2'")" = running ]; }
if [ "$CODE" = 202 ] && wait_until 10 started rq1; then
	send_signed rq2 amain "$(pl rq2 ok 0)"
	RQ2_ID=$(jf rq2 job_id)
	if wait_until 10 taken; then ok requeue_rq2_taken_and_waiting; else
		fail requeue_rq2_taken_and_waiting "rq2 is $(db "select state from jobs where key='key-rq2'")"; fi
	term_and_wait 20
	info "requeue_sigterm_exit_0: $EXIT_MS ms"
	expect_eq requeue_sigterm_exit_0 "$EXIT_RC" 0
	kill_remote rq1 # its remote command would last until its own deadline
	expect_eq requeue_store_after_stop \
		"$(db "select group_concat(key||':'||state, ' ') from (select * from jobs where key like 'key-rq_' order by key)")" \
		"key-rq1:interrupted key-rq2:queued"
	expect_eq requeue_logged "$(log_count "$RUNNER_LOG" 'd.get("event")=="job_requeued" and d.get("hook")=="amain"')" 1
	expect_eq requeue_rq2_not_started "$(starts rq2)" 0
	start_daemon "$CFG_RQ" "$T_TMP/rq.log" --log-format json
	if wait_until 20 a_done "$RQ2_ID"; then ok requeue_runs_after_restart; else
		fail requeue_runs_after_restart "rq2 still $(jf poll status)"; fi
	expect_eq requeue_ran_once "$(runs rq2) $(starts rq2) $(db "select group_concat(attempt||':'||state, ' ') from jobs where key='key-rq2'")" \
		"1 1 1:succeeded"
	runner_stop
else
	fail requeue "rq1: $CODE, or it did not start"
	release rq1
	runner_stop
fi

# ================================================================== hygiene
# every secret and token of the run, in every log
TOKENS=("$(cat "$SECRET")" "$(cat "$SECRET2")" "$(cat "$JWT_SECRET")" "$READ_TOKEN" "$WRONG_TOKEN")
while read -r t; do [ -n "$t" ] && TOKENS+=("$t"); done < <(
	sed -n -e 's/^Authorization: Bearer //p' -e 's/^x-hookdeck-signature: //p' "$R"/*.hdrs | tr -d '\r' | sort -u)
SEEN=""
for l in "${LOGS[@]}"; do
	for t in "${TOKENS[@]}"; do
		grep -qF -- "$t" "$l" && SEEN+="${t:0:12}… in $(basename "$l"); "
	done
done
info "log_no_secrets_or_tokens: ${#TOKENS[@]} checked"
expect_eq log_no_secrets_or_tokens "${SEEN:-none}" none
SAN=$(grep -hE 'ERROR: (Address|Leak)Sanitizer|LeakSanitizer|runtime error:' "${LOGS[@]}" "$R"/*.body 2>/dev/null | head -n 3)
expect_eq sanitizer_clean "${SAN:-clean}" clean

LEFT=""
for f in "$MARK_DIR"/*.pids; do
	[ -f "$f" ] || continue
	n=$(basename "$f" .pids)
	l=$(remote_left "$n")
	[ -n "$l" ] && LEFT+="$n: $l; "
done
for p in $(pgrep -f "remote-executor.*$SSHD_DIR" 2>/dev/null); do LEFT+="executor $p; "; done
for p in $(pgrep -f "webhook-runner --config $T_TMP" 2>/dev/null); do LEFT+="daemon $p; "; done
expect_eq no_processes_left "${LEFT:-none}" none
info "total_time $(($(now_ms) - T_START)) ms"
