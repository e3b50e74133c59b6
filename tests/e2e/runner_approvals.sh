#!/usr/bin/env bash
# tests/e2e/runner_approvals.sh — people's approval before a hook runs, end
# to end without Slack: a real daemon, the real remote-executor, a real
# OpenSSH sshd and a real SQLite store; decisions made with the CLI
# (`webhook-runner approvals list|approve|deny`) against the live store.
# Covers: a delivery answered 202 pending_approval with nothing run; its
# redelivery answered the same 202 on the same job; an approval running the
# job exactly once; a deny with a reason (never runs; state, who and why in
# /jobs/<id> and `jobs show`; its redelivery replays the refusal); 2 of 3
# (runs only after the second distinct approver); one person twice; the
# requester (named by a JWT claim minted by PyJWT) refused; a non-approver
# refused; a token without the requester claim refused; expiry (never
# runs, state expired), also of one that expired while the daemon was
# down; a restart while pending, then an approval; an approval made while
# the daemon is stopped, run once at its start;
# votes on a decided one refused; /healthz pending_approvals and the
# /metrics gauge and decision counters; bad CLI input (unknown id, missing
# --as, malformed id) refused with nothing changed; the cap on pending
# approvals (executor.max_queued): 429, nothing stored.
#
# Executions are COUNTED on the SSH target: each job appends a line to
# $MARK_DIR/<name>. Every curl and CLI call is bounded in time.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX"
need_tools sqlite3 openssl curl
"$PY" -c 'import jwt' 2>/dev/null || { fail setup "PyJWT missing (make deps)"; exit 1; }
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }

R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
at_exit kill_leftovers

# ------------------------------------------------------------------ fixtures
umask 077
SECRET=$T_TMP/hookdeck.secret JWT_KEY=$T_TMP/jwt.key
rand_hex 32 >"$SECRET"
rand_hex 32 >"$JWT_KEY"
READ_TOKEN=$T_TMP/read.token
rand_hex 24 >"$READ_TOKEN"
umask 022
export ISS=https://ci.example.test AUD=webhook-runner SUB=deployer
DEST=$SSH_USER@127.0.0.1:$SSHD_PORT
CMD="n={{name}}; echo run >>$MARK_DIR/\$n"
PARAMS='{ "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" } }'

# ahook ID APPROVAL_JSON : an async hook with a JWT naming the requester
ahook() {
	cat <<JSON
    { "id": "$1",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$SECRET"] },
      "jwt": { "algorithms": ["HS256"], "key": "file:$JWT_KEY", "issuer": "$ISS", "audience": "$AUD" },
      "job": { "destination": "$DEST", "identity": "$KEY_ED25519", "known_hosts": "$KNOWN_HOSTS",
               "command": "$CMD", "params": $PARAMS, "mode": "async", "timeout_s": 20,
               "connect_timeout_s": 3 },
      "approval": $2 }
JSON
}
CFG=$T_TMP/config.json
mkcfg "$CFG" "$(ahook gate '{ "approvers": ["U1AAA", "U2BBB", "U3CCC"], "requester_claim": "slack_user",
                   "fields": { "Rollback": "deploy --rollback" } }'),
$(ahook two '{ "approvers": ["U1AAA", "U2BBB", "U3CCC"], "required": 2, "requester_claim": "slack_user" }'),
$(ahook brief '{ "approvers": ["U1AAA"], "timeout_s": 2, "requester_claim": "slack_user" }'),
$(ahook down '{ "approvers": ["U1AAA"], "timeout_s": 5, "requester_claim": "slack_user" }')" \
	store="$T_TMP/runner.db" max_jobs=2 max_queued=4 log_format=json read_token="$READ_TOKEN"

# ------------------------------------------------------------------ helpers
# deliver TAG HOOK NAME KEY REQUESTER : a delivery signed by openssl (HMAC)
# with a PyJWT token whose slack_user claim is REQUESTER (none when ""); sets CODE
deliver() {
	local tag=$1 hook=$2 name=$3 key=$4 who=$5 body=$P/$3.json tok
	printf '{"name":"%s"}' "$name" >"$body"
	local over="{\"slack_user\": \"$who\"}"
	[ -n "$who" ] || over='{}' # no requester claim at all
	tok=$("$PY" "$TOP/tests/tools/jwt_mint.py" HS256 "$JWT_KEY" "$over")
	{
		echo "x-hookdeck-signature: $(openssl dgst -sha256 -hmac "$(cat "$SECRET")" -binary "$body" |
			openssl base64 -A)"
		echo "Idempotency-Key: $key"
		echo "Authorization: Bearer $tok"
		echo "Content-Type: application/json"
	} >"$R/$tag.hdrs"
	send_signed "$tag" "$hook" "$body"
}
# cli TAG ARGS... : webhook-runner ARGS (bounded); $R/TAG.out, $R/TAG.err, RC
cli() {
	local tag=$1
	shift
	timeout 30 "$RUNNER_BIN" "$@" >"$R/$tag.out" 2>"$R/$tag.err"
	RC=$?
}
approve() { local tag=$1 id=$2 who=$3; cli "$tag" approvals approve "$id" --as "$who" --config "$CFG"; }
# job TAG ID : GET /jobs/ID into $R/TAG.body, with the read token
job() {
	fetch "$R/$1" --max-time 10 -H "Authorization: Bearer $(cat "$READ_TOKEN")" \
		"http://127.0.0.1:$RUNNER_PORT/jobs/$2" >"$R/$1.code"
}
jget() { json_get "$R/$1.body" "$2"; }
state_is() { job st "$1"; [ "$(jget st status)" = "$2" ]; }
healthz_pending() {
	curl -s --max-time 5 "http://127.0.0.1:$RUNNER_PORT/healthz" -o "$R/hz.json" || { echo x; return; }
	json_get "$R/hz.json" pending_approvals
}
# prom NAME LABELS : one sample of /metrics (labels sorted, "k=v,k=v"; "" none)
prom() {
	curl -s --max-time 5 "http://127.0.0.1:$RUNNER_PORT/metrics" -o "$R/m.prom" || { echo x; return; }
	"$PY" "$TOP/tests/tools/prom_flatten.py" "$R/m.prom" | awk -F'|' -v n="$1" -v l="$2" \
		'$1 == n && $2 == l { print $3; f = 1 } END { if (!f) print "absent" }'
}
prom_is() { [ "$(prom "$1" "$2")" = "$3" ]; }
votes() { db "select count(*) from approval_votes"; }
pending_rows() { db "select count(*) from approvals where state = 'pending'"; }

start_daemon "$CFG" "$T_TMP/runner.log"

# ------------------------------------------------------------------ pending, redelivery
deliver d1 gate d1 key-d1 U3CCC
answer pending_202 d1 code=202 status=pending_approval hook=gate 'job_id=[1-9]*' \
	'hdr:Location=/jobs/[1-9]*'
J1=$(jf d1 job_id)
expect_eq pending_location_is_job "$(header d1 Location)" "/jobs/$J1"
expect_eq pending_store_state "$(db "select state from jobs where id = $J1")" pending_approval
expect_eq pending_healthz "$(healthz_pending)" 1
expect_eq pending_metrics_gauge "$(prom webhook_runner_approvals_pending '')" 1
sleep 1.5 # the workers look at the queue every second: nothing for them
expect_eq pending_nothing_ran "$(runs d1)" 0
deliver d1r gate d1 key-d1 U3CCC
answer redelivery_same_202 d1r code=202 status=pending_approval "job_id=$J1" "hdr:Location=/jobs/$J1"
expect_eq redelivery_same_job "$(db "select count(*) from jobs where key = 'key-d1'")/$(pending_rows)" 1/1
job s1 "$J1"
expect_eq pending_jobs_route "$(jget s1 status)/$(jget s1 approval.state)/$(jget s1 approval.required)" \
	"pending_approval/pending/1"

cli list1 approvals list --config "$CFG"
expect_match cli_list_shows_pending "$(cat "$R/list1.out")" "gate +key-d1 +0/1 +U3CCC"
cli list2 approvals list --store "$T_TMP/runner.db" --json --hook gate
expect_eq cli_list_json "$("$PY" -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]
print(len(L), L[0]["job_id"], L[0]["state"], L[0]["requester"])' "$R/list2.out" 2>&1)" "1 $J1 pending U3CCC"

# a token that does not say who asks: refused, nothing recorded
N0=$(db "select count(*) from jobs")
deliver nowho gate nowho key-nowho ""
answer no_requester_claim_403 nowho code=403 'error=*slack_user*'
expect_eq no_requester_claim_nothing_stored "$(db "select count(*) from jobs")/$(runs nowho)" "$N0/0"

# ------------------------------------------------------------------ refusals that change nothing
V0=$(votes)
approve self "$J1" U3CCC
expect_eq self_approval_refused "$RC:$(grep -c 'self' "$R/self.err")" "1:1"
approve stranger "$J1" U9ZZZ
expect_eq non_approver_refused "$RC:$(grep -c 'not_approver' "$R/stranger.err")" "1:1"
cli noas approvals approve "$J1" --config "$CFG"
expect_eq cli_missing_as "$RC:$(grep -c -- '--as NAME is required' "$R/noas.err")" "2:1"
approve unknown1 999999 U1AAA
expect_eq cli_unknown_job_id "$RC:$(grep -c 'no approval 999999' "$R/unknown1.err")" "1:1"
approve unknown2 0123456789abcdef0123456789abcdef U1AAA
expect_eq cli_unknown_approval_id "$RC:$(grep -c 'no approval' "$R/unknown2.err")" "1:1"
approve badid x1 U1AAA
expect_eq cli_malformed_id "$RC:$(grep -c 'bad id' "$R/badid.err")" "2:1"
cli noconf approvals approve "$J1" --as U1AAA --store "$T_TMP/runner.db"
expect_eq cli_vote_needs_config "$RC" 2
expect_eq refusals_changed_nothing "$(votes)/$(pending_rows)/$(runs d1)/$(db "select state from jobs where id = $J1")" \
	"$V0/1/0/pending_approval"

# ------------------------------------------------------------------ approve: runs once
approve ok1 "$J1" U1AAA
expect_eq cli_approve_ok "$RC:$(grep -c 'approved by U1AAA (1 of 1 approvals); the job is queued' "$R/ok1.out")" "0:1"
T0=$(now_ms)
wait_until 15 state_is "$J1" succeeded && ok approved_job_ran ||
	fail approved_job_ran "status $(jget st status), runs $(runs d1)"
info "approved_job_ran after $(($(now_ms) - T0)) ms (CLI approve to succeeded)"
sleep 1
expect_eq approved_ran_exactly_once "$(runs d1)" 1
job s2 "$J1"
expect_eq approved_jobs_route "$(jget s2 approval.state)/$(jget s2 approval.decided_by)/$(jget s2 approval.approvals)" \
	"approved/U1AAA/1"
"$PY" -c 'import json,sys; v=json.load(open(sys.argv[1]))["approval"]["votes"]
sys.exit(0 if [(x["voter"], x["source"], x["decision"]) for x in v] == [("U1AAA", "cli", "approve")] else 1)' \
	"$R/s2.body" && ok approved_votes_listed || fail approved_votes_listed "$(head -c 300 "$R/s2.body")"
cli replay1 replay "$J1" --config "$CFG"
expect_eq replay_refuses_approval_hook "$RC:$(grep -c 'would bypass' "$R/replay1.err"):$(db "select count(*) from jobs where key = 'key-d1'")" \
	"1:1:1"
approve again1 "$J1" U2BBB
expect_eq approve_after_approved_refused "$RC:$(grep -c 'closed' "$R/again1.err")" "1:1"
wait_until 5 prom_is webhook_runner_approval_decisions_total 'decision=approved,hook=gate' 1 &&
	ok metrics_counts_cli_approval ||
	fail metrics_counts_cli_approval "$(prom webhook_runner_approval_decisions_total 'decision=approved,hook=gate')"
expect_eq healthz_back_to_0 "$(healthz_pending)" 0

# ------------------------------------------------------------------ deny with a reason
deliver d2 gate d2 key-d2 U3CCC
J2=$(jf d2 job_id)
cli deny1 approvals deny "$J2" --as U2BBB --reason "not during the freeze" --config "$CFG"
expect_eq cli_deny_ok "$RC:$(grep -c 'denied by U2BBB; the job will not run' "$R/deny1.out")" "0:1"
job s3 "$J2"
expect_eq denied_jobs_route "$(jget s3 status)/$(jget s3 approval.state)/$(jget s3 approval.decided_by)/$(jget s3 approval.reason)" \
	"denied/denied/U2BBB/not during the freeze"
cli show1 jobs show "$J2" --config "$CFG"
expect_match denied_jobs_show "$(cat "$R/show1.out")" "state +denied.*approval +[0-9a-f]{32}: denied.*decided .* by U2BBB.*reason +not during the freeze"
cli show2 jobs show "$J2" --store "$T_TMP/runner.db" --json
expect_eq denied_jobs_show_json "$("$PY" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read())
print(d["status"], d["approval"]["state"], d["approval"]["votes"][0]["reason"])' "$R/show2.out" 2>&1)" \
	"denied denied not during the freeze"
approve again2 "$J2" U1AAA
expect_eq approve_after_denied_refused "$RC:$(grep -c 'closed' "$R/again2.err")" "1:1"
deliver d2r gate d2 key-d2 U3CCC
answer denied_redelivery_replays d2r code=403 status=denied "job_id=$J2" hdr:Idempotent-Replayed=true
sleep 1.5
expect_eq denied_never_ran "$(runs d2)/$(db "select count(*) from jobs where key = 'key-d2'")" 0/1
wait_until 5 prom_is webhook_runner_approval_decisions_total 'decision=denied,hook=gate' 1 &&
	ok metrics_counts_denial || fail metrics_counts_denial "not counted"

# ------------------------------------------------------------------ 2 of 3, once per person
deliver d3 two d3 key-d3 U3CCC
J3=$(jf d3 job_id)
approve two1 "$J3" U1AAA
expect_eq two_first_recorded "$RC:$(grep -c 'approval by U1AAA recorded (1 of 2 approvals)' "$R/two1.out")" "0:1"
approve two1b "$J3" U1AAA
expect_eq two_same_person_refused "$RC:$(grep -c 'twice' "$R/two1b.err")" "1:1"
sleep 1.5
expect_eq two_not_run_after_one "$(runs d3)/$(db "select state from jobs where id = $J3")/$(db "select count(*) from approval_votes v join approvals a on a.id = v.approval_id where a.job_id = $J3")" \
	"0/pending_approval/1"
approve two2 "$J3" U2BBB
expect_eq two_second_approves "$RC:$(grep -c 'approved by U2BBB (2 of 2 approvals); the job is queued' "$R/two2.out")" "0:1"
wait_until 15 state_is "$J3" succeeded && ok two_of_three_ran || fail two_of_three_ran "status $(jget st status)"
sleep 1
expect_eq two_of_three_ran_once "$(runs d3)" 1

# ------------------------------------------------------------------ expiry
deliver d4 brief d4 key-d4 U3CCC
J4=$(jf d4 job_id)
T0=$(now_ms)
wait_until 10 state_is "$J4" expired && ok expired_state || fail expired_state "status $(jget st status)"
info "expired_state after $(($(now_ms) - T0)) ms (timeout_s 2)"
expect_eq expired_approval "$(jget st approval.state)" expired
approve late "$J4" U1AAA
expect_eq approve_after_expiry_refused "$RC:$(grep -c 'expired' "$R/late.err")" "1:1"
sleep 1.5
expect_eq expired_never_ran "$(runs d4)" 0
wait_until 5 prom_is webhook_runner_approval_decisions_total 'decision=expired,hook=brief' 1 &&
	ok metrics_counts_expiry || fail metrics_counts_expiry "not counted"
grep -q '"event":"approval_expired"' "$T_TMP/runner.log" && ok expiry_logged || fail expiry_logged "no approval_expired line"

# ------------------------------------------------------------------ restart while pending; expiry while down
deliver d5 gate d5 key-d5 U3CCC
J5=$(jf d5 job_id)
deliver d7 gate d7 key-d7 U3CCC
J7=$(jf d7 job_id)
deliver d6 down d6 key-d6 U3CCC # timeout_s 5: it expires while no daemon runs
J6=$(jf d6 job_id)
runner_stop
approve stopped "$J7" U1AAA # against a stopped daemon's store
expect_eq approve_while_stopped "$RC:$(db "select state from jobs where id = $J7")" "0:queued"
T_DOWN=$(now_ms)
expect_eq pending_while_down "$(db "select state from jobs where id = $J5")/$(db "select state from jobs where id = $J6")" \
	"pending_approval/pending_approval"
sleep "$(awk -v t=$(($(now_ms) - T_DOWN)) 'BEGIN { s = 6 - t / 1000; print (s > 0 ? s : 0) }')"
start_daemon "$CFG" "$T_TMP/runner2.log"
wait_until 10 state_is "$J6" expired && ok expired_while_down_marked_at_start ||
	fail expired_while_down_marked_at_start "status $(jget st status)"
wait_until 5 prom_is webhook_runner_approval_decisions_total 'decision=expired,hook=down' 1 &&
	ok expired_while_down_counted || fail expired_while_down_counted "not counted by the new daemon"
expect_eq restart_keeps_pending "$(db "select state from jobs where id = $J5")/$(healthz_pending)" "pending_approval/1"
approve after "$J5" U2BBB
expect_eq approve_after_restart "$RC" 0
wait_until 15 state_is "$J5" succeeded && ok approve_after_restart_runs || fail approve_after_restart_runs "status $(jget st status)"
sleep 1
expect_eq approve_after_restart_runs_once "$(runs d5)/$(runs d6)" 1/0
wait_until 15 state_is "$J7" succeeded && ok approved_while_stopped_runs_at_start ||
	fail approved_while_stopped_runs_at_start "status $(jget st status)"
expect_eq approved_while_stopped_runs_once "$(runs d7)" 1

# ------------------------------------------------------------------ totals
expect_eq total_runs "$(runs d1)/$(runs d2)/$(runs d3)/$(runs d4)/$(runs d5)/$(runs d6)/$(runs d7)" 1/0/1/0/1/0/1
expect_eq no_pending_left "$(pending_rows)/$(healthz_pending)" 0/0
# ------------------------------------------------------------------ the cap on pending approvals
for i in 1 2 3 4; do deliver "cap$i" gate "cap$i" "key-cap$i" U3CCC; done
expect_eq cap_four_pending "$(cat "$R/cap1.code")$(cat "$R/cap4.code")/$(pending_rows)" "202202/4"
N0=$(db "select count(*) from jobs")
deliver cap5 gate cap5 key-cap5 U3CCC
answer cap_full_429 cap5 code=429 'hdr:Retry-After=[1-9]*'
expect_eq cap_full_nothing_stored "$(db "select count(*) from jobs")/$(pending_rows)" "$N0/4"
cli capdeny approvals deny "$(jf cap1 job_id)" --as U1AAA --config "$CFG"
deliver cap5b gate cap5 key-cap5 U3CCC
answer cap_room_again_202 cap5b code=202 status=pending_approval
expect_eq cap_runs "$(runs cap1)/$(runs cap5)" 0/0

if grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:' "$T_TMP"/runner*.log "$R"/*.err 2>/dev/null; then
	fail no_sanitizer_reports "see the logs"
else
	ok no_sanitizer_reports
fi
