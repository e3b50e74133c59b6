#!/usr/bin/env bash
# tests/e2e/runner_pg_slack.sh — Slack approvals with two webhook-runner
# daemons (A and B) on one PostgreSQL store (tests/pg.sh, TLS verify-full),
# one real sshd and the fake Slack Web API (tests/tools/fake_slack.py). Both
# daemons run the Slack poster. Every request "from Slack" is signed with
# Python's hmac (tests/tools/slack_sign.py).
#   - a delivery via A: exactly one chat.postMessage, though both posters
#     look at the store;
#   - an Approve click on B: 200, the job runs once (counted on the SSH
#     target), the message is updated once for the decision and once for
#     the outcome, and the outcome is posted once in the thread;
#   - the same signed click replayed to A (which never saw it): refused by
#     the store ("already decided", 200 as Slack wants), and to B: 401 from
#     B's replay memory; nothing changes, still one run;
#   - a Deny click on B of a second delivery via A, the reason submitted on
#     B: never runs, one message update.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"
. "$TOP/tests/pg.sh"

EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX"
need_tools curl
pg_available || { fail setup "PostgreSQL server binaries missing (make deps installs postgresql)"; exit 1; }
at_exit pg_stop
pg_start || { fail pg_start "tests/pg.sh could not start PostgreSQL"; exit 1; }
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
R=$T_TMP/r P=$T_TMP/p S=$T_TMP/secrets
mkdir -p "$R" "$P" "$S"
chmod 700 "$S"
at_exit kill_leftovers
DEST=$SSH_USER@127.0.0.1:$SSHD_PORT
TOKEN=xoxb-e2e-$(rand_hex 8)

# ------------------------------------------------------------ fake Slack
FS_LOG=$T_TMP/slack.jsonl
: >"$FS_LOG"
"$PY" "$TOP/tests/tools/fake_slack.py" "$T_TMP/slack.port" "$FS_LOG" "$TOKEN" 2>"$T_TMP/slack.err" &
BG_PIDS+=("$!")
wait_until 10 test -s "$T_TMP/slack.port" || { fail fake_slack "did not start"; exit 1; }
FS=http://127.0.0.1:$(cat "$T_TMP/slack.port")
calls() { "$PY" "$TOP/tests/tools/slack_calls.py" "$FS_LOG" count "$@"; }
lastf() { "$PY" "$TOP/tests/tools/slack_calls.py" "$FS_LOG" last "$@"; }

# ------------------------------------------------------------ config: one store, two daemons
umask_was=$(umask)
umask 077
printf '%s' "$TOKEN" >"$S/bot"
SIGNING=$(rand_hex 16)
printf '%s' "$SIGNING" >"$S/signing"
rand_hex 32 >"$S/hd"
umask "$umask_was"
export WR_PG_PASSWORD=$PG_PASSWORD
CMD="n={{name}}; echo start >>$MARK_DIR/\$n.start; echo run >>$MARK_DIR/\$n; echo out-\$n"
PARAMS='{ "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" } }'
for x in a b; do
	cat >"$T_TMP/$x.json" <<JSON
{
  "server": { "listen": "127.0.0.1:8080", "threads": 8 },
  "store": { "url": "$PG_DSN_NOPW?sslmode=verify-full&sslrootcert=$PG_CA", "password": "env:WR_PG_PASSWORD",
             "lease_s": 3, "heartbeat_ms": 500, "connect_timeout_s": 2, "pool_size": 4 },
  "executor": { "path": "$EX", "max_jobs": 4, "max_per_destination": 4, "max_queued": 8 },
  "log": { "level": "info", "format": "json" },
  "slack": { "bot_token": "file:$S/bot", "signing_secret": "file:$S/signing",
             "api_url": "$FS/api", "timeout_ms": 2000 },
  "hooks": [
    { "id": "gate",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$S/hd"] },
      "job": { "destination": "$DEST", "identity": "$KEY_ED25519", "known_hosts": "$KNOWN_HOSTS",
               "command": "$CMD", "params": $PARAMS, "timeout_s": 20, "connect_timeout_s": 3,
               "mode": "async" },
      "approval": { "channel": "C0001", "approvers": ["U0AAA", "U0BBB"], "required": 1,
                    "timeout_s": 600 } }
  ]
}
JSON
	"$RUNNER_BIN" check-config "$T_TMP/$x.json" >"$T_TMP/check.out" 2>&1 || {
		fail config "check-config $x: $(head -c 400 "$T_TMP/check.out")"
		exit 1
	}
done
CFG=$T_TMP/a.json

Q="webhook_runner"
jstate() { pg_query "SELECT state FROM $Q.jobs WHERE id = $1"; }
posted() { [ "$(calls chat.postMessage "name = $1")" -ge 1 ]; }
aid() { lastf chat.postMessage body.text "name = $1" | sed -n 's/.*(approval \([0-9a-f]*\)).*/\1/p'; }
mts() { lastf chat.postMessage answer.ts "name = $1"; }
ran() { [ "$(runs "$1")" -ge 1 ]; }
called() { [ "$(calls "$@")" -ge 1 ]; }
# slack TAG D PATH KIND ARGS... : sign with Python's hmac, POST to PATH on daemon D; sets CODE
slack() {
	local tag=$1 d=$2 path=$3
	shift 3
	"$PY" "$TOP/tests/tools/slack_sign.py" "$S/signing" "$R/$tag.req" "$@" || { CODE=sign-failed; return; }
	resend "$tag" "$d" "$path"
}
# resend TAG D PATH : the same signed request ($R/TAG.req.*) again, to daemon
# D; the answer goes to $R/TAG.body, never over the request
resend() {
	rm -f "$R/$1.kv"
	CODE=$(fetch "$R/$1" --max-time 10 -H @"$R/$1.req.hdrs" --data-binary @"$R/$1.req.body" \
		"http://127.0.0.1:$(eval echo "\$$2_PORT")$3")
	echo "$CODE" >"$R/$1.code"
}
# posted_by NAME-APPROVAL-ID : which daemon logged posting the message (A, B, AB or none)
posted_by() {
	local w=""
	grep -q "\"slack_message_posted\".*$1" "$T_TMP/A.log" && w+=A
	grep -q "\"slack_message_posted\".*$1" "$T_TMP/B.log" && w+=B
	echo "${w:-none}"
}

start_as A
start_as B

# ------------------------------------------------------------ (1) posted once though two posters run
on A
send d1 gate "$(pl alpha ok 0)" key-alpha
answer pg_slack_pending_via_a d1 code=202 status=pending_approval 'job_id=[1-9]*'
J1=$(jf d1 job_id)
if wait_until 15 posted alpha; then ok pg_slack_message_posted; else fail pg_slack_message_posted "no chat.postMessage for alpha"; fi
sleep 4 # both posters poll the store (and B is woken by NOTIFY): give B's the chance to post again
A1=$(aid alpha) TS1=$(mts alpha)
expect_eq pg_slack_posted_exactly_once "$(calls all-chat.postMessage "name = alpha")" 1
expect_match pg_slack_message_ts_stored "$(pg_query "SELECT message_ts FROM $Q.approvals WHERE job_id = $J1"):$TS1" \
	"^[0-9]+\.[0-9]+:[0-9]+\.[0-9]+$"
expect_eq pg_slack_store_has_the_posted_ts "$(pg_query "SELECT message_ts FROM $Q.approvals WHERE job_id = $J1")" "$TS1"
info "the approval message of alpha was posted by $(posted_by "$A1")"
expect_eq pg_slack_pending_nothing_ran "$(runs alpha):$(jstate "$J1")" "0:pending_approval"

# ------------------------------------------------------------ (2) Approve click on B
T0=$(now_ms)
slack c1 B /slack/interactions click U0AAA approve "$A1" "$FS/response/c1"
answer pg_slack_approve_on_b_200 c1 code=200
if wait_until 20 ran alpha; then
	ok pg_slack_approved_job_ran
	info "alpha ran $(($(now_ms) - T0)) ms after the click on B"
else
	fail pg_slack_approved_job_ran "state $(jstate "$J1"), runs $(runs alpha)"
fi
wait_until 15 called chat.postMessage "\"thread_ts\": \"$TS1\""
wait_until 10 called chat.update "\"ts\": \"$TS1\"" "Job succeeded, exit code 0"
sleep 3 # room for a second run, post or update from the other daemon
expect_eq pg_slack_approved_ran_exactly_once "$(runs alpha):$(starts alpha):$(jstate "$J1")" "1:1:succeeded"
BYA=$(grep -c '"event":"job_finished".*"hook":"gate"' "$T_TMP/A.log") BYB=$(grep -c '"event":"job_finished".*"hook":"gate"' "$T_TMP/B.log")
expect_eq pg_slack_one_daemon_ran_it "$((BYA + BYB))" 1
info "alpha ran on $([ "$BYA" = 1 ] && echo A || echo B)"
# The message is updated twice by design: once for the decision (by whichever
# poster claims the change), once with the outcome (by the daemon that ran it).
expect_eq pg_slack_decision_update_once \
	"$(calls all-chat.update "\"ts\": \"$TS1\"" "*Approved* by <@U0AAA>" "!Job ")" 1
expect_eq pg_slack_outcome_update_once \
	"$(calls all-chat.update "\"ts\": \"$TS1\"" "*Approved* by <@U0AAA>" "Job succeeded, exit code 0")" 1
expect_eq pg_slack_updates_in_all "$(calls all-chat.update "\"ts\": \"$TS1\"")" 2
info "chat.update order for alpha: $("$PY" -c 'import json,sys
print(" then ".join(("outcome" if "Job succeeded" in json.dumps(c["body"]) else "decision")
    for c in map(json.loads, open(sys.argv[1])) if c["method"] == "chat.update" and c["body"].get("ts") == sys.argv[2]))' "$FS_LOG" "$TS1")"
expect_eq pg_slack_outcome_in_thread_once "$(calls all-chat.postMessage "\"thread_ts\": \"$TS1\"")" 1
expect_match pg_slack_outcome_says_status "$(lastf chat.postMessage body "\"thread_ts\": \"$TS1\"")" \
	"Job succeeded, exit code 0.*out-alpha"
expect_eq pg_slack_decided_in_store \
	"$(pg_query "SELECT state || '/' || decided_by FROM $Q.approvals WHERE job_id = $J1")" "approved/U0AAA"

# ------------------------------------------------------------ (3) the same click replayed to A
NU=$(calls all-chat.update "\"ts\": \"$TS1\"") NP=$(calls all-chat.postMessage)
resend c1 A /slack/interactions
answer pg_slack_replay_on_a_answered c1 code=200
if wait_until 10 called response_url /response/c1 '"ephemeral"' "already decided"; then
	ok pg_slack_replay_on_a_told
else
	fail pg_slack_replay_on_a_told "no 'already decided' reply; replies: $(lastf response_url body.text /response/c1)"
fi
# B took that very request: its replay memory refuses it before the store
resend c1 B /slack/interactions
answer pg_slack_replay_on_b_401 c1 code=401 'error=*already taken*'
sleep 2
expect_eq pg_slack_replay_changes_nothing \
	"$(runs alpha):$(calls all-chat.update "\"ts\": \"$TS1\""):$(calls all-chat.postMessage):$(pg_query "SELECT count(*) FROM $Q.approval_votes v JOIN $Q.approvals a ON a.id = v.approval_id WHERE a.job_id = $J1")" \
	"1:$NU:$NP:1"

# ------------------------------------------------------------ (4) Deny on B of a delivery via A
on A
send d2 gate "$(pl beta ok 0)" key-beta
answer pg_slack_second_pending_via_a d2 code=202 status=pending_approval 'job_id=[1-9]*'
J2=$(jf d2 job_id)
wait_until 15 posted beta
sleep 2
A2=$(aid beta) TS2=$(mts beta)
expect_eq pg_slack_second_posted_once "$(calls all-chat.postMessage "name = beta")" 1
slack c2 B /slack/interactions click U0BBB deny "$A2" "$FS/response/c2"
answer pg_slack_deny_click_on_b c2 code=200
expect_eq pg_slack_deny_opens_modal "$(calls views.open "\"private_metadata\": \"$A2\"")" 1
slack c3 B /slack/interactions submit U0BBB "$A2" "not today"
answer pg_slack_deny_submitted_on_b c3 code=200
wait_until 10 called chat.update "\"ts\": \"$TS2\"" "*Denied* by <@U0BBB>"
sleep 3
expect_eq pg_slack_denied_never_ran "$(runs beta):$(starts beta):$(jstate "$J2")" "0:0:denied"
expect_eq pg_slack_deny_one_update \
	"$(calls all-chat.update "\"ts\": \"$TS2\""):$(calls chat.update "\"ts\": \"$TS2\"" "*Denied* by <@U0BBB>" "Reason: not today")" "1:1"
expect_eq pg_slack_deny_no_thread_reply "$(calls all-chat.postMessage "\"thread_ts\": \"$TS2\"")" 0
expect_eq pg_slack_nothing_left_pending "$(pg_query "SELECT count(*) FROM $Q.approvals WHERE state = 'pending'")" 0

# ------------------------------------------------------------ the logs
san='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'
if grep -Eq "$san" "$T_TMP"/A.log "$T_TMP"/B.log; then fail pg_slack_no_sanitizer_report "$(grep -Em3 "$san" "$T_TMP"/A.log "$T_TMP"/B.log)"
else ok pg_slack_no_sanitizer_report; fi
if grep -qF -e "$TOKEN" -e "$SIGNING" -e "$PG_PASSWORD" "$T_TMP"/A.log "$T_TMP"/B.log; then
	fail pg_slack_log_has_no_secret "a token, signing secret or password logged"
else ok pg_slack_log_has_no_secret; fi
