#!/usr/bin/env bash
# tests/e2e/runner_slack.sh — approvals in Slack end to end: a real daemon,
# the real remote-executor, a real OpenSSH sshd and SQLite store, and the
# fake Slack Web API (tests/tools/fake_slack.py) on loopback. Every request
# "from Slack" is signed with Python's hmac (tests/tools/slack_sign.py), not
# our code. Executions are counted on the SSH target: each job appends a
# line to $MARK_DIR/<name>.
#
# Covers: the message posted (command, parameters, requester, key, buttons);
# approve → runs once, message updated, outcome in the thread; deny with a
# reason (modal) and without one (views.open fails) → never runs; a double
# click, two approvers at once → one decision; a non-approver, the
# requester approving their own request, a second vote by one person →
# nothing changes and an ephemeral reply says why; 2 of 3 through a user
# group → runs only after the second distinct approver; expiry → never
# runs, message updated; forged, stale, replayed, unsigned and malformed
# interactions → 401/400 and nothing changes; a restart while pending;
# Slack answering 429 then ok → posted once; Slack down (ok:false, a hang)
# → still pending, the CLI approves and it runs; url_verification; an event
# retried by Slack handled once; the Slack calls in /metrics.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX"
need_tools sqlite3 curl
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
R=$T_TMP/r P=$T_TMP/p S=$T_TMP/secrets
mkdir -p "$R" "$P" "$S"
chmod 700 "$S"
at_exit kill_leftovers
DEST="$SSH_USER@127.0.0.1:$SSHD_PORT"
TOKEN=xoxb-e2e-$(rand_hex 8)

# ------------------------------------------------------------ fake Slack
FS_LOG=$T_TMP/slack.jsonl
: >"$FS_LOG"
"$PY" "$TOP/tests/tools/fake_slack.py" "$T_TMP/slack.port" "$FS_LOG" "$TOKEN" 2>"$T_TMP/slack.err" &
BG_PIDS+=("$!")
wait_until 10 test -s "$T_TMP/slack.port" || { fail fake_slack "did not start"; exit 1; }
FS=http://127.0.0.1:$(cat "$T_TMP/slack.port")
ctl() { curl -s --max-time 5 -o /dev/null -d "$1" "$FS/control"; }
# calls METHOD [TEXT] : ok calls of METHOD (all-METHOD: every call) whose body has TEXT
calls() { "$PY" "$TOP/tests/tools/slack_calls.py" "$FS_LOG" count "$@"; }
lastf() { "$PY" "$TOP/tests/tools/slack_calls.py" "$FS_LOG" last "$@"; }
ctl '{"groups": {"S0OPS": ["U0BBB", "U0CCC"]}}'

# ------------------------------------------------------------ config
umask_was=$(umask)
umask 077
printf '%s' "$TOKEN" >"$S/bot"
SIGNING=$(rand_hex 16)
printf '%s' "$SIGNING" >"$S/signing"
rand_hex 32 >"$S/hd"
rand_hex 32 >"$S/jwt"
umask "$umask_was"
DB=$T_TMP/runner.db
CFG=$T_TMP/config.json
CMD="echo run >>$MARK_DIR/{{name}}; echo out-{{name}}"
PARAMS='{ "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" } }'
# hook ID APPROVAL_JSON [JWT=yes] : an async hook held for approval
hook() {
	local jwt=""
	[ "${3:-}" = yes ] && jwt='"jwt": { "algorithms": ["HS256"], "key": "file:'"$S"'/jwt" },'
	cat <<JSON
    { "id": "$1",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$S/hd"] }, $jwt
      "job": { "destination": "$DEST", "identity": "$KEY_ED25519", "known_hosts": "$KNOWN_HOSTS",
               "command": "$CMD", "params": $PARAMS, "timeout_s": 20, "connect_timeout_s": 3,
               "mode": "async" },
      "approval": $2 }
JSON
}
write_cfg() { # API_URL TIMEOUT_MS
	cat >"$CFG" <<JSON
{
  "server": { "listen": "127.0.0.1:8080", "threads": 8 },
  "store": { "path": "$DB" },
  "executor": { "path": "$EX", "max_jobs": 4, "max_per_destination": 4 },
  "slack": { "bot_token": "file:$S/bot", "signing_secret": "file:$S/signing",
             "api_url": "$1", "timeout_ms": $2 },
  "hooks": [
$(hook appr '{ "channel": "C0001", "approvers": ["U0AAA", "U0BBB", "U0REQ"], "required": 1,
               "timeout_s": 600, "requester_claim": "slack_user",
               "fields": { "Risk": "low" } }' yes),
$(hook two '{ "channel": "C0001", "approvers": ["U0AAA"], "groups": ["S0OPS"], "required": 2,
              "timeout_s": 600, "allow_self_approval": true }'),
$(hook quick '{ "channel": "C0001", "approvers": ["U0AAA"], "timeout_s": 2, "allow_self_approval": true }')
  ]
}
JSON
	"$RUNNER_BIN" check-config "$CFG" >"$T_TMP/check.out" 2>&1 || {
		fail config "check-config: $(head -c 400 "$T_TMP/check.out")"
		exit 1
	}
}
write_cfg "$FS/api" 1000
start_daemon "$CFG" "$T_TMP/runner.log"
BASE=http://127.0.0.1:$RUNNER_PORT

# ------------------------------------------------------------ helpers
# deliver TAG HOOK NAME [REQUESTER] : a signed delivery (our signer; JWT
# claim slack_user=REQUESTER for the appr hook); sets CODE
deliver() {
	local tag=$1 hook=$2 name=$3 req=${4:-}
	printf '{"name":"%s"}' "$name" >"$P/$name.json"
	local extra=()
	[ -n "$req" ] && extra=(--claims "{\"slack_user\":\"$req\"}")
	rsign "$CFG" "$hook" "$P/$name.json" --idempotency-key "key-$name" ${extra[@]+"${extra[@]}"} \
		>"$R/$tag.hdrs" 2>"$R/$tag.signerr" || { CODE=sign-failed; return; }
	send_signed "$tag" "$hook" "$P/$name.json"
}
# posted NAME : the approval message of NAME was posted (ok)
posted() { [ "$(calls chat.postMessage "name = $1")" -ge 1 ]; }
# aid NAME / mts NAME : the approval id and message ts of NAME's message
aid() { lastf chat.postMessage body.text "name = $1" | sed -n 's/.*(approval \([0-9a-f]*\)).*/\1/p'; }
mts() { lastf chat.postMessage answer.ts "name = $1"; }
# slack TAG PATH KIND ARGS... : sign with Python's hmac and POST to PATH; sets CODE
slack() {
	local tag=$1 path=$2
	shift 2
	"$PY" "$TOP/tests/tools/slack_sign.py" "$S/signing" "$R/$tag.req" "$@" || { CODE=sign-failed; return; }
	resend "$tag" "$path"
}
resend() { # TAG PATH : the same signed request ($R/TAG.req.*) again; the answer goes to $R/TAG.body
	rm -f "$R/$1.kv"
	CODE=$(fetch "$R/$1" --max-time 10 -H @"$R/$1.req.hdrs" --data-binary @"$R/$1.req.body" "$BASE$2")
	echo "$CODE" >"$R/$1.code"
}
click() { # TAG USER ACTION APPROVAL_ID
	slack "$1" /slack/interactions click "$2" "$3" "$4" "$FS/response/$1"
}
# replied TAG TEXT : an ephemeral reply went to TAG's response_url, saying TEXT
replied() { [ "$(calls response_url "/response/$1" '"ephemeral"' "$2")" -ge 1 ]; }
# told NAME TAG TEXT : ok when that reply comes within 10 s
told() {
	if wait_until 10 replied "$2" "$3"; then ok "$1"; else
		fail "$1" "no ephemeral reply to $2 saying '$3'; it said: $(lastf response_url body.text "/response/$2")"
	fi
}
ran() { [ "$(runs "$1")" -ge 1 ]; }
test_reply_k() { [ $(($(calls response_url /response/k1) + $(calls response_url /response/k2))) -ge 1 ]; }      # NAME: ran at least once
called() { [ "$(calls "$@")" -ge 1 ]; }    # METHOD TEXT...: at least one such call
updated() { [ "$(calls chat.update "$@")" -ge 1 ]; } # TEXT...: a chat.update whose body has them
# ------------------------------------------------------------ events
slack ev1 /slack/events event '{"token":"x","challenge":"c-'"$(rand_hex 8)"'","type":"url_verification"}'
want=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["challenge"])' "$R/ev1.req.body")
answer slack_url_verification ev1 code=200 "challenge=$want"
EVID=Ev$(rand_hex 5 | tr a-f A-F)
EVB='{"token":"x","team_id":"T0001","api_app_id":"A0001","event":{"type":"app_mention","user":"U0AAA","text":"hi"},"type":"event_callback","event_id":"'$EVID'","event_time":1700000000}'
slack ev2 /slack/events event "$EVB"
c2=$CODE
RETRY_NUM=1 slack ev3 /slack/events event "$EVB"
c3=$CODE
n=$(grep -cE " slack_event .*event_id=$EVID" "$RUNNER_LOG")
r=$(grep -cE " slack_event_repeat .*event_id=$EVID" "$RUNNER_LOG")
expect_eq slack_event_retry_handled_once "$c2 $c3 $n $r" "200 200 1 1"

# ------------------------------------------------------------ approve
deliver d1 appr alpha U0REQ
answer slack_delivery_held d1 code=202 "hdr:Location=/jobs/*"
wait_until 15 posted alpha
A1=$(aid alpha) TS1=$(mts alpha)
msg=$(lastf chat.postMessage body "name = alpha")
WHY=()
[[ "$msg" == *"echo run >>$MARK_DIR/'alpha'"* ]] || WHY+=("no rendered command")
[[ "$msg" == *"Requester: U0REQ"* ]] || WHY+=("no requester")
[[ "$msg" == *"Idempotency key: key-alpha"* ]] || WHY+=("no key")
[[ "$msg" == *"Risk: low"* ]] || WHY+=("no field")
[[ "$msg" == *"'action_id': 'approve'"*"'value': '$A1'"* ]] || WHY+=("no approve button for $A1")
[[ "$msg" == *"'action_id': 'deny'"* ]] || WHY+=("no deny button")
[ -n "$A1" ] && [ "$TS1" != null ] || WHY+=("no approval id or ts")
[ "$(runs alpha)" = 0 ] || WHY+=("ran before approval")
report slack_message_posted
t0=$(now_ms)
click c1 U0AAA approve "$A1"
ms=$(($(now_ms) - t0))
info "approve click answered in ${ms} ms"
answer slack_approve_answered c1 code=200
wait_until 20 ran alpha
sleep 1
expect_eq slack_approve_runs_once "$(runs alpha)" 1
wait_until 10 updated "name = alpha" "*Approved* by <@U0AAA>"
expect_eq slack_approve_message_updated "$(calls chat.update "name = alpha" "*Approved* by <@U0AAA>" "!Job succeeded")" 1
wait_until 15 called chat.postMessage "\"thread_ts\": \"$TS1\""
expect_eq slack_outcome_in_thread "$(calls chat.postMessage "\"thread_ts\": \"$TS1\"")" 1
th=$(lastf chat.postMessage body.text "\"thread_ts\": \"$TS1\"")
expect_match slack_outcome_says_status "$th $(lastf chat.postMessage body "\"thread_ts\": \"$TS1\"")" \
	"Job succeeded, exit code 0.*out-alpha"
wait_until 10 updated "name = alpha" "Job succeeded, exit code 0"
expect_eq slack_outcome_updates_message "$(calls chat.update "name = alpha" "Job succeeded, exit code 0")" 1
# a double click after the decision: nothing changes, the clicker is told
click c1b U0BBB approve "$A1"
told slack_click_after_decision_told c1b "already decided"
answer slack_click_after_decision c1b code=200
sleep 1
expect_eq slack_click_after_decision_runs_once "$(runs alpha)" 1

# ------------------------------------------------------------ refusals
deliver d2 appr beta U0REQ
wait_until 15 posted beta
A2=$(aid beta)
click c2 U0ZZZ approve "$A2"
told slack_non_approver_reply c2 "not one of the approvers"
answer slack_non_approver_told c2 code=200
click c3 U0REQ approve "$A2"
told slack_self_approval_reply c3 "may not approve it yourself"
answer slack_self_approval_told c3 code=200
# forged, stale, replayed, unsigned, malformed: 401/400 and nothing changes
BAD_SIG=1 click f1 U0AAA approve "$A2"
answer slack_forged_signature_401 f1 code=401
TS_OFFSET=-301 click f2 U0AAA approve "$A2"
answer slack_stale_timestamp_401 f2 code=401
TS_OFFSET=400 click f3 U0AAA approve "$A2"
answer slack_future_timestamp_401 f3 code=401
CODE=$(fetch "$R/f4" --max-time 10 --data-binary @"$R/f1.req.body" -H 'Content-Type: application/x-www-form-urlencoded' "$BASE/slack/interactions")
expect_eq slack_unsigned_401 "$CODE" 401
slack f5 /slack/interactions raw "payload=%7Bnot-json"
answer slack_malformed_payload_400 f5 code=400
slack f6 /slack/interactions raw "token=abc&nothing=here"
answer slack_no_payload_400 f6 code=400
CODE=$(fetch "$R/f7" --max-time 10 "$BASE/slack/interactions")
expect_eq slack_get_405 "$CODE $(header f7 Allow)" "405 POST"
head -c 300000 /dev/zero | tr '\0' a >"$P/huge.body"
CODE=$(fetch "$R/f8" --max-time 10 -H @"$R/c2.req.hdrs" --data-binary @"$P/huge.body" "$BASE/slack/interactions")
expect_eq slack_oversized_413 "$CODE" 413
sleep 1
expect_eq slack_refusals_change_nothing "$(runs beta) $(calls chat.update "name = beta")" "0 0"
# now a real approval, then the very same request again (replay)
click c4 U0BBB approve "$A2"
answer slack_approve_after_refusals c4 code=200
resend c4 /slack/interactions
answer slack_replayed_interaction_401 c4 code=401 'error=*already taken*'
wait_until 20 ran beta
sleep 1
expect_eq slack_replay_runs_once "$(runs beta)" 1

# ------------------------------------------------------------ concurrent clicks
deliver d3 appr gamma U0REQ
wait_until 15 posted gamma
A3=$(aid gamma)
"$PY" "$TOP/tests/tools/slack_sign.py" "$S/signing" "$R/k1.req" click U0AAA approve "$A3" "$FS/response/k1"
"$PY" "$TOP/tests/tools/slack_sign.py" "$S/signing" "$R/k2.req" click U0BBB approve "$A3" "$FS/response/k2"
resend k1 /slack/interactions &
p1=$!
resend k2 /slack/interactions &
p2=$!
wait "$p1" "$p2"
wait_until 20 ran gamma
wait_until 10 test_reply_k
sleep 1
nrep=$(($(calls response_url /response/k1) + $(calls response_url /response/k2)))
expect_eq slack_concurrent_clicks_one_decision "$(runs gamma) $(cat "$R/k1.code") $(cat "$R/k2.code") $nrep" "1 200 200 1"
expect_eq slack_concurrent_clicks_one_update "$(calls chat.update "name = gamma" "*Approved*" "!Job ")" 1

# ------------------------------------------------------------ deny
deliver d4 appr delta U0REQ
wait_until 15 posted delta
A4=$(aid delta)
click c5 U0AAA deny "$A4"
answer slack_deny_click_answered c5 code=200
expect_eq slack_deny_opens_modal "$(calls views.open "\"private_metadata\": \"$A4\"")" 1
slack c6 /slack/interactions submit U0AAA "$A4" "not during the freeze"
answer slack_deny_submitted c6 code=200
wait_until 10 updated "name = delta" "Reason: not during the freeze"
sleep 2
expect_eq slack_deny_with_reason_never_runs "$(runs delta) $(calls chat.update "name = delta" "*Denied* by <@U0AAA>" "Reason: not during the freeze")" "0 1"
# views.open fails: the click denies without a reason
ctl '{"fault": {"method": "views.open", "kind": "error", "error": "expired_trigger_id"}}'
deliver d5 appr epsilon U0REQ
wait_until 15 posted epsilon
A5=$(aid epsilon)
click c7 U0BBB deny "$A5"
answer slack_deny_without_modal c7 code=200
wait_until 10 updated "name = epsilon" "*Denied* by <@U0BBB>"
sleep 2
expect_eq slack_deny_without_reason_never_runs "$(runs epsilon) $(calls chat.update "name = epsilon" "*Denied*") $(calls chat.update "name = epsilon" "Reason:")" "0 1 0"

# ------------------------------------------------------------ 2 of 3 through a group
deliver d6 two zeta
wait_until 15 posted zeta
A6=$(aid zeta)
click g1 U0BBB approve "$A6"
answer slack_group_member_votes g1 code=200
wait_until 10 updated "1 of 2 approvals: <@U0BBB>"
expect_eq slack_first_of_two_shown "$(calls chat.update "1 of 2 approvals: <@U0BBB>")" 1
click g2 U0BBB approve "$A6"
told slack_second_vote_reply g2 "already voted"
answer slack_second_vote_same_person g2 code=200
sleep 2
expect_eq slack_one_of_two_does_not_run "$(runs zeta)" 0
click g3 U0CCC approve "$A6"
answer slack_second_distinct_approver g3 code=200
wait_until 20 ran zeta
sleep 1
expect_eq slack_two_of_three_runs_once "$(runs zeta)" 1
info "usergroups.users.list calls: $(calls usergroups.users.list)"

# ------------------------------------------------------------ expiry
deliver d7 quick eta
wait_until 15 posted eta
A7=$(aid eta)
wait_until 15 updated "name = eta" "*Expired*"
click x1 U0AAA approve "$A7"
told slack_click_after_expiry_reply x1 "expired before it was approved"
sleep 1
expect_eq slack_expiry_never_runs "$(runs eta) $(calls chat.update "name = eta" "*Expired*")" "0 1"

# ------------------------------------------------------------ restart while pending
deliver d8 appr theta U0REQ
wait_until 15 posted theta
A8=$(aid theta)
runner_stop
start_daemon "$CFG" "$T_TMP/runner2.log"
BASE=http://127.0.0.1:$RUNNER_PORT
click r1 U0AAA approve "$A8"
answer slack_click_after_restart r1 code=200
wait_until 20 ran theta
sleep 1
expect_eq slack_restart_runs_once "$(runs theta) $(calls chat.postMessage "name = theta")" "1 1"

# ------------------------------------------------------------ Slack 429, then ok
ctl '{"fault": {"method": "chat.postMessage", "kind": "429", "retry_after": 1, "count": 1}}'
deliver d9 appr iota U0REQ
wait_until 20 posted iota
sleep 1
expect_eq slack_429_then_posted_once "$(calls chat.postMessage "name = iota") $(calls all-chat.postMessage "name = iota")" "1 2"

# a decision on the CLI updates the message once
"$RUNNER_BIN" approvals approve "$(aid iota)" --as U0BBB --config "$CFG" >"$R/cli0.out" 2>&1
wait_until 20 ran iota
wait_until 10 updated "name = iota" "*Approved* from the command line" "Decided by U0BBB"
sleep 1
expect_eq slack_cli_decision_updates_once "$(runs iota) $(calls chat.update "name = iota" "*Approved* from the command line" "!Job ")" "1 1"

# ------------------------------------------------------------ Slack down: the CLI decides
ctl '{"fault": {"method": "chat.postMessage", "kind": "error", "error": "channel_not_found", "count": -1}}'
deliver d10 appr kappa U0REQ
wait_until 15 called all-chat.postMessage "name = kappa"
grep -qE ' slack_api_failed .*error=channel_not_found' "$RUNNER_LOG" &&
	ok slack_permanent_failure_logged || fail slack_permanent_failure_logged "no slack_api_failed line"
curl -s --max-time 5 "$BASE/metrics" >"$R/metrics.txt"
m1=$(grep -cE '^webhook_runner_slack_api_calls_total\{method="chat.postMessage",result="channel_not_found"\} [1-9]' "$R/metrics.txt")
m2=$(grep -cE '^webhook_runner_slack_api_calls_total\{method="chat.postMessage",result="ok"\} [1-9]' "$R/metrics.txt")
m3=$(grep -cE '^webhook_runner_slack_api_calls_total\{method="chat.postMessage",result="ratelimited"\} 1$' "$R/metrics.txt")
expect_eq slack_api_calls_in_metrics "$m1 $m2 $m3" "1 1 1"
"$RUNNER_BIN" approvals list --config "$CFG" --json >"$R/list.json" 2>"$R/list.err"
# listed ID KEY_OF : the pending approval of KEY in a `list --json` output (one object a line)
listed() { "$PY" -c 'import json,sys
print(" ".join(a["approval_id"] for a in map(json.loads, open(sys.argv[1])) if a.get("key")==sys.argv[2]))' "$1" "$2" 2>/dev/null; }
A10=$(listed "$R/list.json" key-kappa)
expect_eq slack_down_still_pending "$(runs kappa) $([ -n "$A10" ] && echo listed)" "0 listed"
"$RUNNER_BIN" approvals approve "$A10" --as U0AAA --config "$CFG" >"$R/cli.out" 2>&1
wait_until 20 ran kappa
sleep 1
expect_eq slack_down_cli_approves_runs_once "$(runs kappa)" 1
# a hang: each call times out (timeout_ms 1000), the approval stays decidable
ctl '{"clear": true}'
ctl '{"fault": {"method": "chat.postMessage", "kind": "hang", "seconds": 5, "count": -1}}'
deliver d11 appr lambda U0REQ
answer slack_hang_delivery_held d11 code=202
sleep 3
"$RUNNER_BIN" approvals list --config "$CFG" --json >"$R/list2.json" 2>/dev/null
A11=$(listed "$R/list2.json" key-lambda)
"$RUNNER_BIN" approvals approve "$A11" --as U0AAA --config "$CFG" >"$R/cli2.out" 2>&1
wait_until 20 ran lambda
sleep 1
expect_eq slack_hang_cli_approves_runs_once "$(runs lambda) $([ -n "$A11" ] && echo listed)" "1 listed"
ctl '{"clear": true}'

# ------------------------------------------------------------ a reload rotates the signing secret
deliver d12 appr mu U0REQ
"$RUNNER_BIN" approvals list --config "$CFG" --json >"$R/list3.json" 2>/dev/null
A12=$(listed "$R/list3.json" key-mu)
cp "$S/signing" "$S/signing.old"
SIGNING2=$(rand_hex 16)
printf '%s' "$SIGNING2" >"$S/signing"
kill -HUP "$RUNNER_PID"
wait_until 10 grep -qE ' reload .*result=ok' "$RUNNER_LOG"
"$PY" "$TOP/tests/tools/slack_sign.py" "$S/signing.old" "$R/o1.req" click U0AAA approve "$A12" "$FS/response/o1"
resend o1 /slack/interactions
answer slack_old_secret_after_reload_401 o1 code=401
click o2 U0AAA approve "$A12"
answer slack_new_secret_after_reload o2 code=200
wait_until 20 ran mu
sleep 1
expect_eq slack_rotated_secret_runs_once "$(runs mu)" 1

# ------------------------------------------------------------ the log
san='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'
if grep -Eq "$san" "$T_TMP"/runner*.log; then fail slack_no_sanitizer_report "$(grep -Em3 "$san" "$T_TMP"/runner*.log)"
else ok slack_no_sanitizer_report; fi
if grep -qF -e "$TOKEN" -e "$SIGNING" -e "$SIGNING2" "$T_TMP"/runner*.log; then fail slack_log_has_no_secret "token or signing secret logged"
else ok slack_log_has_no_secret; fi
