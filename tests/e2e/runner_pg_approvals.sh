#!/usr/bin/env bash
# tests/e2e/runner_pg_approvals.sh — approvals shared by two webhook-runner
# daemons on one PostgreSQL store (a throwaway server from tests/pg.sh,
# TLS verify-full) and one sshd, decided with the CLI against that store:
#   - a delivery posted via A is pending; its redelivery via B answers the
#     same 202 on the same job; nothing runs;
#   - approved with the CLI using B's config: the job runs exactly once
#     (woken by NOTIFY on whichever daemon takes it), a second vote is
#     refused, and both daemons count the decision in /metrics;
#   - two processes approving one approval at the same moment: one
#     decision, one vote stored, one run;
#   - a deny via the CLI with A's config of a delivery posted via B: never
#     runs, and its redelivery via A replays the refusal (403);
#   - bad CLI input (unknown id) refused, nothing changed.
# Executions are counted on the SSH target (runs/starts); the store is read
# with psql.
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
R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
at_exit kill_leftovers

SECRET=$T_TMP/hookdeck.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET"
DEST=$SSH_USER@127.0.0.1:$SSHD_PORT
CMD="n={{name}}; echo start >>$MARK_DIR/\$n.start; echo run >>$MARK_DIR/\$n"
PARAMS='{ "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" } }'
HOOK='{ "id": "gate",
      "signature": { "scheme": "hookdeck", "secrets": ["file:'$SECRET'"] },
      "job": { "destination": "'$DEST'", "identity": "'$KEY_ED25519'", "known_hosts": "'$KNOWN_HOSTS'",
               "command": "'$CMD'", "params": '$PARAMS', "timeout_s": 20, "connect_timeout_s": 3,
               "mode": "async" },
      "approval": { "approvers": ["U1AAA", "U2BBB", "U3CCC"] } }'
export WR_PG_PASSWORD=$PG_PASSWORD
STORE="\"url\": \"$PG_DSN_NOPW?sslmode=verify-full&sslrootcert=$PG_CA\", \"password\": \"env:WR_PG_PASSWORD\","
STORE+=" \"lease_s\": 3, \"heartbeat_ms\": 500, \"connect_timeout_s\": 2, \"pool_size\": 4"
for x in a b; do
	mkcfg "$T_TMP/$x.json" "$HOOK" store_json="$STORE" max_jobs=4 max_queued=8 threads=8 \
		log_level=info log_format=json
done
CFG=$T_TMP/a.json

# cli TAG ARGS... : webhook-runner ARGS (bounded); $R/TAG.out, $R/TAG.err, RC
cli() {
	local tag=$1
	shift
	timeout 30 "$RUNNER_BIN" "$@" >"$R/$tag.out" 2>"$R/$tag.err"
	RC=$?
}
Q="webhook_runner"
jstate() { pg_query "SELECT state FROM $Q.jobs WHERE id = $1"; }
jstate_is() { [ "$(jstate "$1")" = "$2" ]; }
runs_at_least() { [ "$(runs "$1")" -ge "$2" ]; }
nvotes() { pg_query "SELECT count(*) FROM $Q.approval_votes v JOIN $Q.approvals a ON a.id = v.approval_id WHERE a.job_id = $1"; }
# prom A|B NAME LABELS : one sample of that daemon's /metrics ("absent" when none)
prom() {
	curl -s --max-time 5 "http://127.0.0.1:$(eval echo "\$$1_PORT")/metrics" -o "$R/m$1.prom" || { echo x; return; }
	"$PY" "$TOP/tests/tools/prom_flatten.py" "$R/m$1.prom" | awk -F'|' -v n="$2" -v l="$3" \
		'$1 == n && $2 == l { print $3; f = 1 } END { if (!f) print "absent" }'
}
prom_is() { [ "$(prom "$1" "$2" "$3")" = "$4" ]; }

start_as A
start_as B

# ------------------------------------------------------------------ pending via A, approved via B's config
on A
send g1 gate "$(pl g1 ok 0)" key-g1
answer pending_via_a g1 code=202 status=pending_approval 'job_id=[1-9]*'
J1=$(jf g1 job_id)
expect_eq pending_in_store "$(jstate "$J1"):$(pg_query "SELECT state || '/' || required FROM $Q.approvals WHERE job_id = $J1")" \
	"pending_approval:pending/1"
on B
send g1b gate "$(pl g1 ok 0)" key-g1
answer redelivery_via_b_same_job g1b code=202 status=pending_approval "job_id=$J1"
sleep 1.5 # both daemons' workers look at the queue: nothing for them
expect_eq pending_nothing_ran "$(runs g1)" 0
cli unknown approvals approve 999999 --as U1AAA --config "$T_TMP/b.json"
expect_eq cli_unknown_id_refused "$RC:$(grep -c 'no approval 999999' "$R/unknown.err"):$(nvotes "$J1"):$(jstate "$J1")" \
	"1:1:0:pending_approval"
T0=$(now_ms)
cli ok1 approvals approve "$J1" --as U1AAA --config "$T_TMP/b.json"
expect_eq cli_approve_via_b "$RC:$(grep -c 'approved by U1AAA' "$R/ok1.out")" "0:1"
if wait_until 15 jstate_is "$J1" succeeded; then
	ok approved_job_ran
	info "approved job succeeded $(($(now_ms) - T0)) ms after the CLI approve"
else
	fail approved_job_ran "state $(jstate "$J1"), runs $(runs g1)"
fi
sleep 1.5
expect_eq approved_ran_exactly_once "$(runs g1):$(starts g1)" "1:1"
BYA=$(grep -c '"event":"job_finished".*"hook":"gate"' "$T_TMP/A.log") BYB=$(grep -c '"event":"job_finished".*"hook":"gate"' "$T_TMP/B.log")
expect_eq approved_one_daemon_ran_it "$((BYA + BYB))" 1
info "the approved job ran on $([ "$BYA" = 1 ] && echo A || echo B)"
cli again approvals approve "$J1" --as U2BBB --config "$T_TMP/a.json"
expect_eq second_vote_refused "$RC:$(grep -c 'closed' "$R/again.err"):$(nvotes "$J1"):$(runs g1)" "1:1:1:1"
for d in A B; do
	if wait_until 10 prom_is "$d" webhook_runner_approval_decisions_total 'decision=approved,hook=gate' 1; then
		ok "metrics_${d}_counts_cli_approval"
	else
		fail "metrics_${d}_counts_cli_approval" "$(prom "$d" webhook_runner_approval_decisions_total 'decision=approved,hook=gate')"
	fi
done

# ------------------------------------------------------------------ two processes at once: one decision
on B
send g2 gate "$(pl g2 ok 0)" key-g2
answer race_pending g2 code=202 status=pending_approval 'job_id=[1-9]*'
J2=$(jf g2 job_id)
GO=$R/race.go
(while [ ! -e "$GO" ]; do sleep 0.01; done
	cli race1 approvals approve "$J2" --as U1AAA --config "$T_TMP/a.json"; echo "$RC" >"$R/race1.rc") &
P1=$!
(while [ ! -e "$GO" ]; do sleep 0.01; done
	cli race2 approvals approve "$J2" --as U2BBB --config "$T_TMP/b.json"; echo "$RC" >"$R/race2.rc") &
P2=$!
sleep 0.3
touch "$GO"
wait "$P1" "$P2"
RCS="$(cat "$R/race1.rc" "$R/race2.rc" | sort | tr '\n' ' ')"
info "race: exit codes $RCS; $(cat "$R/race1.out" "$R/race1.err" "$R/race2.out" "$R/race2.err" | tr '\n' ' ')"
expect_eq race_one_winner "$RCS" "0 1 "
expect_eq race_one_closed "$(cat "$R/race1.err" "$R/race2.err" | grep -c 'closed')" 1
expect_eq race_one_vote_stored "$(nvotes "$J2")" 1
WINNER=$(pg_query "SELECT voter FROM $Q.approval_votes v JOIN $Q.approvals a ON a.id = v.approval_id WHERE a.job_id = $J2")
expect_eq race_decided_by_the_voter "$(pg_query "SELECT state || '/' || decided_by || '/' || approvals FROM $Q.approvals WHERE job_id = $J2")" \
	"approved/$WINNER/1"
wait_until 15 runs_at_least g2 1
sleep 1.5
expect_eq race_ran_exactly_once "$(runs g2):$(starts g2):$(jstate "$J2")" "1:1:succeeded"

# ------------------------------------------------------------------ deny across instances
on B
send g3 gate "$(pl g3 ok 0)" key-g3
J3=$(jf g3 job_id)
cli deny1 approvals deny "$J3" --as U3CCC --reason "not now" --config "$T_TMP/a.json"
expect_eq cli_deny_via_a "$RC:$(grep -c 'denied by U3CCC' "$R/deny1.out")" "0:1"
expect_eq denied_in_store "$(jstate "$J3"):$(pg_query "SELECT state || '/' || reason FROM $Q.approvals WHERE job_id = $J3")" \
	"denied:denied/not now"
on A
send g3r gate "$(pl g3 ok 0)" key-g3
answer denied_redelivery_via_a_replays g3r code=403 status=denied "job_id=$J3" hdr:Idempotent-Replayed=true
sleep 1.5
expect_eq denied_never_ran "$(runs g3):$(pg_query "SELECT count(*) FROM $Q.jobs WHERE key = 'key-g3'")" "0:1"
expect_eq nothing_left_pending "$(pg_query "SELECT count(*) FROM $Q.approvals WHERE state = 'pending'")" 0
