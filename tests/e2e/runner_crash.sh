#!/usr/bin/env bash
# tests/e2e/runner_crash.sh — the SQLite store's group commit under a crash:
# a real daemon (one async hook, 8 workers), the real remote-executor and a
# real OpenSSH sshd on loopback. 8 curl loops send deliveries with distinct
# idempotency keys at once, so their claims share commits, while the workers
# run the queue. In the middle of it the daemon is stopped (SIGSTOP, so that
# every loop has a request in flight at that instant) and killed with
# SIGKILL, then started again on the same store to drain its queue.
#   - every key answered 202 is in the store, read right after the kill and
#     again after the drain (a 202 is a promise);
#   - each of them ran exactly once on the target, or was running at the kill
#     and is recorded "interrupted" (start-up marks those: as many as the
#     store had running, and it ran at most once);
#   - a request the kill cut may be stored or not; one not stored never ran;
#     no key ran twice, nothing ran that the store does not record;
#   - every key delivered again: a finished one is replayed (200,
#     Idempotent-Replayed) and runs nothing, an interrupted one or one the
#     kill lost runs exactly once more.
# Executions are counted on the SSH target: the job appends its key to
# $MARK_DIR/crash.start when it begins and to $MARK_DIR/crash when it ends.
# The store is read through the CLI (jobs list --json), never the file.
# Signatures are made by Python's hmac (tests/tools/crash_facts.py sign).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

EX=$BUILD/remote-executor
FACTS=$TOP/tests/tools/crash_facts.py
LOOPS=8 PER_LOOP=40 KILL_AT=120 # the kill comes after KILL_AT 202s (or 8 s)
need_bins "$RUNNER_BIN" "$EX"
need_tools curl
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
T_START=$(now_ms)
R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$R/re" "$P"
at_exit kill_leftovers

SECRET=$T_TMP/hookdeck.secret
rand_hex 32 >"$SECRET"
chmod 600 "$SECRET"
CMD="echo \$\$ >>$MARK_DIR/crash.pids; echo {{k}} >>$MARK_DIR/crash.start; echo {{k}} >>$MARK_DIR/crash"
HOOK=$(
	cat <<JSON
    { "id": "crash",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$SECRET"] },
      "job": { "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT", "identity": "$KEY_ED25519",
               "known_hosts": "$KNOWN_HOSTS", "command": "$CMD", "mode": "async",
               "params": { "k": { "from": "payload", "path": "k", "pattern": "c[a-z0-9-]{1,40}" } },
               "timeout_s": 20, "connect_timeout_s": 3, "handshake_timeout_s": 5 } }
JSON
)
mkcfg "$T_TMP/crash.json" "$HOOK" store="$T_TMP/crash.db" max_jobs=8 threads=16 \
	log_level=info log_format=json
"$PY" "$FACTS" sign "$SECRET" "$P" "$LOOPS" "$PER_LOOP" || { fail setup "cannot sign deliveries"; exit 1; }

# send_loop KEYS_FILE CODES_FILE [HDR_DIR] : one delivery after another, each
# bounded; "KEY HTTP_CODE CURL_EXIT" a line. Ends at the first refused
# connection (the daemon is gone) or when $R/stop exists.
send_loop() {
	local k code rc url
	url=$(runner_url crash)
	while read -r k; do
		[ -e "$R/stop" ] && break
		code=$(curl -s --max-time 10 -o /dev/null ${3:+-D "$3/$k.hdr"} -w '%{http_code}' \
			-H @"$P/$k.hdr" --data-binary @"$P/$k.json" "$url")
		rc=$?
		echo "$k $code $rc" >>"$2"
		[ "$rc" != 7 ] || break
	done <"$1"
}
acks() { cat "$R"/codes.* 2>/dev/null | awk '$2 == 202' | wc -l; }
acks_at_least() { [ "$(acks)" -ge "$1" ]; }
# store_rows FILE : every job row of the store, through the CLI (fails on error)
store_rows() {
	"$RUNNER_BIN" jobs list --config "$T_TMP/crash.json" --hook crash --limit 10000 --json >"$1" 2>"$1.err" ||
		grep -q '^no jobs' "$1.err"
}
# drained : the store holds no queued or running job and no worker runs one
drained() {
	store_rows "$R/poll.jsonl" && [ -s "$R/poll.jsonl" ] &&
		! grep -qE '"status": *"(queued|running)"' "$R/poll.jsonl" &&
		curl -s --max-time 5 -o "$R/healthz.json" "http://127.0.0.1:$RUNNER_PORT/healthz" &&
		[ "$(json_get "$R/healthz.json" running_jobs)" = 0 ]
}
# facts MODE ARGS... : crash_facts.py's NAME=VALUE lines into F[NAME]
declare -A F
facts() {
	local l
	F=()
	while IFS= read -r l; do F[${l%%=*}]=${l#*=}; done < <("$PY" "$FACTS" "$@")
	[ ${#F[@]} -gt 0 ] || { fail "facts_$1" "crash_facts.py $1 gave nothing"; exit 1; }
}

# ------------------------------------------------------------------ load, kill
start_daemon "$T_TMP/crash.json" "$T_TMP/crash.log"
LOAD_PIDS=()
for i in $(seq 0 $((LOOPS - 1))); do
	send_loop "$P/loop.$i" "$R/codes.$i" &
	LOAD_PIDS+=("$!")
	BG_PIDS+=("$!")
done
T_LOAD=$(now_ms)
wait_until 8 acks_at_least "$KILL_AT"
DAEMON=$RUNNER_PID
kill -STOP "$DAEMON"
sleep 0.3 # every loop is now waiting for an answer
T_KILL=$(($(now_ms) - T_LOAD))
runner_kill9
touch "$R/stop"
for p in "${LOAD_PIDS[@]}"; do wait "$p"; done
BG_PIDS=() # all ended: their pids are no longer ours to kill
cat "$R"/codes.* >"$R/codes"
cp "$MARK_DIR/crash.start" "$R/starts.kill" 2>/dev/null || : >"$R/starts.kill"

# ------------------------------------------------------------------ the store right after the kill
if store_rows "$R/store.kill.jsonl"; then ok store_readable_after_kill; else
	fail store_readable_after_kill "$(head -c 300 "$R/store.kill.jsonl.err")"
fi
facts stored "$R/codes" "$R/store.kill.jsonl"
info "load: ${F[acked]} x 202, ${F[cut]} cut by the kill (${F[cut_stored]} of them stored)," \
	"${F[refused]} refused after it; killed ${T_KILL} ms into the load;" \
	"store: ${F[queued]} queued, ${F[running]} running, ${F[succeeded]} succeeded"
ACKED=${F[acked]} CUT=${F[cut]} RUNNING=${F[running]} LOST=$((F[cut] - F[cut_stored]))
expect_match some_deliveries_acknowledged "$ACKED" '^[1-9][0-9]*$'
expect_match kill_cut_requests_in_flight "$CUT" '^[1-9][0-9]*$'
expect_eq only_202_answered "${F[other]}" none
expect_eq acked_all_stored_after_kill "${F[acked_missing]}" none
expect_eq nothing_stored_unsent "${F[stored_unsent]}" none
expect_eq one_attempt_each "${F[not_first_attempt]}" none
expect_eq states_after_kill "${F[other_states]}" none
# jobs mid-flight at the kill, and a queue left for the restart
expect_match jobs_running_at_kill "$RUNNING" '^[1-9][0-9]*$'
expect_match queue_left_at_kill "${F[queued]}" '^[1-9][0-9]*$'

# ------------------------------------------------------------------ restart, drain
T_RESTART=$(now_ms)
start_daemon "$T_TMP/crash.json" "$T_TMP/crash.log"
if wait_until 60 drained; then ok queue_drained_after_restart; else
	fail queue_drained_after_restart "$(grep -cE '"status": *"(queued|running)"' "$R/poll.jsonl") still queued or running"
fi
info "drain after the restart: $(($(now_ms) - T_RESTART)) ms"
N_INT=$(grep '"event":"jobs_interrupted"' "$T_TMP/crash.log" | tail -n 1 | sed -n 's/.*"count":"\([0-9]*\)".*/\1/p')
expect_eq restart_marked_running_interrupted "${N_INT:-0}" "$RUNNING"
store_rows "$R/store.drained.jsonl"
cp "$MARK_DIR/crash.start" "$R/starts.drained" 2>/dev/null || : >"$R/starts.drained"
cp "$MARK_DIR/crash" "$R/ends.drained" 2>/dev/null || : >"$R/ends.drained"
facts drained "$R/codes" "$R/store.drained.jsonl" "$R/starts.drained" "$R/ends.drained"
info "after the drain: ${F[executed]} keys executed, ${F[succeeded]} succeeded," \
	"${F[interrupted]} interrupted (${F[interrupted_ran]} of them had run to the end)"
expect_eq acked_all_stored_after_restart "${F[acked_missing]}" none
expect_eq only_succeeded_or_interrupted "${F[bad_states]}" none
expect_eq interrupted_as_many_as_running "${F[interrupted]}" "$RUNNING"
expect_eq succeeded_ran_exactly_once "${F[succeeded_not_once]}" none
expect_eq interrupted_ran_at_most_once "${F[interrupted_more_than_once]}" none
expect_eq no_key_ran_twice "${F[ran_twice]}" none
expect_eq nothing_ran_unrecorded "${F[ran_unrecorded]}" none
expect_eq cut_and_lost_never_ran "${F[cut_absent_ran]}" none
info "acknowledged $ACKED, executed ${F[executed]}, interrupted ${F[interrupted]}, in-flight-lost $LOST"


# ------------------------------------------------------------------ redelivery
# Every key that reached the daemon (202 or cut), once more, 4 at a time.
rm -f "$R/stop"
RE_PIDS=()
awk '$3 != 7 { print $1 }' "$R/codes" >"$R/again"
split -n r/4 "$R/again" "$R/again."
for f in "$R"/again.a?; do
	send_loop "$f" "$R/recodes.${f##*.}" "$R/re" &
	BG_PIDS+=("$!")
	RE_PIDS+=("$!")
done
for p in "${RE_PIDS[@]}"; do wait "$p"; done
BG_PIDS=()
cat "$R"/recodes.* >"$R/recodes"
if wait_until 30 drained; then ok redelivery_drained; else fail redelivery_drained "jobs still queued or running"; fi
store_rows "$R/store.re.jsonl"
facts redelivered "$R/codes" "$R/store.drained.jsonl" "$R/starts.drained" "$R/ends.drained" \
	"$R/recodes" "$R/re" "$R/store.re.jsonl" "$MARK_DIR/crash.start" "$MARK_DIR/crash"
info "redelivered ${F[redelivered]}: ${F[replayed]} replayed, ${F[retried]} interrupted ran again, ${F[new]} lost ran new"
expect_eq redelivered_all "${F[redelivered]}" "$(wc -l <"$R/again" | tr -d ' ')"
expect_eq redelivery_answers "${F[wrong_answer]}" none
expect_eq redelivery_runs "${F[wrong_runs]}" none
expect_eq redelivery_final_states "${F[wrong_final]}" none
expect_eq redelivery_nothing_unrecorded "${F[ran_unrecorded]}" none
runner_stop

SAN=$(grep -hE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T_TMP/crash.log" | head -n 3)
expect_eq sanitizer_clean "${SAN:-clean}" clean
info "total_time $(($(now_ms) - T_START)) ms"
