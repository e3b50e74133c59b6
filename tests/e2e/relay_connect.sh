#!/usr/bin/env bash
# tests/e2e/relay_connect.sh — webhook-relay connect end to end, with real
# processes on loopback: a real `webhook-relay serve`, the client, a
# recording target (tests/tools/relay_recorder.py, which stores the exact
# bytes of every request) and, for one case, a real webhook-runner with
# remote-executor and sshd, whose executions are counted on the SSH target.
#   - 1,000 webhooks (random binary, non-UTF-8, form, JSON and empty bodies,
#     repeated headers, hop-by-hop headers to drop) arrive byte-identical
#     and in order (sha256, headers, path, query compared per webhook);
#   - SIGTERM exits 0 and the state file holds the last id;
#   - kill -9 mid-stream and a restart: nothing lost, at most one webhook
#     forwarded twice (the one whose state write the kill beat);
#   - a target answering 503, then 429 with Retry-After, then down: retried
#     with the wait honoured, delivered in order;
#   - a 404 is a permanent failure: logged with its status, counted, not
#     retried, and the next webhook goes on;
#   - a silent stream (the server stopped with SIGSTOP) is detected and the
#     client reconnects and goes on;
#   - a hookdeck-signed webhook through the relay runs its job once in a
#     real webhook-runner (signature verified over the relayed bytes), and
#     the same webhook relayed again does not run it again;
#   - bad input: missing or bad flags, a literal token, a corrupt state
#     file, a wrong token: a clear error, nothing forwarded, nothing changed.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

RELAY_BIN=$BUILD/webhook-relay
need_bins "$RELAY_BIN"
need_tools curl openssl

TOK=$T_TMP/sub.token
(umask 077 && rand_hex 24 >"$TOK")

declare -A RPID RPORT CPID
BG=()
bg_stop() {
	local p
	for p in "${BG[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${BG[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
at_exit bg_stop

# relay_start : webhook-relay serve on free ports (heartbeat 500 ms); sets
# SRV_PID SRV_PORT
relay_start() {
	local try i
	for try in 1 2 3 4 5; do
		SRV_PORT=$(closed_port) OPS_PORT=$(closed_port)
		"$RELAY_BIN" serve --host 127.0.0.1 --port "$SRV_PORT" --ops-port "$OPS_PORT" \
			--token "file:$TOK" --heartbeat-ms 500 --retry-ms 300 --history 5000 \
			>>"$T_TMP/serve.log" 2>&1 &
		SRV_PID=$!
		BG+=("$SRV_PID")
		for i in $(seq 1 100); do
			kill -0 "$SRV_PID" 2>/dev/null || break
			curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$OPS_PORT/live" && return 0
			sleep 0.05
		done
		kill "$SRV_PID" 2>/dev/null
	done
	return 1
}
# rec_start NAME [PORT] : a recorder writing $T_TMP/NAME.rec, controlled by
# $T_TMP/NAME.ctl
rec_start() {
	local n=$1 port=${2:-0}
	rm -f "$T_TMP/$n.port"
	"$PY" "$TOP/tests/tools/relay_recorder.py" "$T_TMP/$n.port" "$T_TMP/$n.rec" "$T_TMP/$n.ctl" \
		"$port" 2>>"$T_TMP/$n.rec.err" &
	RPID[$n]=$!
	BG+=("$!")
	wait_until 10 test -s "$T_TMP/$n.port" || return 1
	RPORT[$n]=$(cat "$T_TMP/$n.port")
	touch "$T_TMP/$n.rec"
}
rec_stop() { kill "${RPID[$1]}" 2>/dev/null; wait "${RPID[$1]}" 2>/dev/null || true; }
# client_start NAME CHANNEL RECORDER [flags...] : connect, log $T_TMP/NAME.log,
# state $T_TMP/NAME.state
client_start() {
	local n=$1 ch=$2 r=$3
	shift 3
	"$RELAY_BIN" connect --source "http://127.0.0.1:$SRV_PORT/subscribe/$ch/" \
		--target "http://127.0.0.1:${RPORT[$r]}/t" --token "file:$TOK" \
		--state "$T_TMP/$n.state" --heartbeat-timeout 3 --retry-min 200 --retry-max 2 \
		--reconnect-max 2 "$@" >>"$T_TMP/$n.log" 2>&1 &
	CPID[$n]=$!
	BG+=("$!")
	wait_until 10 grep -qs subscribing "$T_TMP/$n.log"
}
# client_stop NAME : SIGTERM, wait; sets CLIENT_RC
client_stop() { kill -TERM "${CPID[$1]}" 2>/dev/null; wait "${CPID[$1]}"; CLIENT_RC=$?; }
# delivered NAME : requests the recorder answered 2xx
delivered() { grep -c '"status": 2' "$T_TMP/$1.rec" 2>/dev/null || true; }
has_delivered() { [ "$(delivered "$1")" -ge "$2" ]; }
# publish CHANNEL FIRST COUNT EXPECTED : relay_publish.py (ok when all got 202)
publish() {
	"$PY" "$TOP/tests/tools/relay_publish.py" "127.0.0.1:$SRV_PORT" "$1" "$2" "$3" "$4" "$2" \
		2>>"$T_TMP/publish.err"
}
# compare EXPECTED RECORDER : relay_compare.py's figures, as shell variables
compare() {
	CMP=$("$PY" "$TOP/tests/tools/relay_compare.py" "$1" "$T_TMP/$2.rec" /t 2>"$T_TMP/compare.err")
	info "$2: $CMP"
	eval "$CMP"
}
state_id() { sed -n 's/^last_event_id //p' "$T_TMP/$1.state" 2>/dev/null; }
last_expected_id() { tail -n 1 "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

relay_start || { fail setup "webhook-relay serve did not start: $(tail -n 5 "$T_TMP/serve.log")"; exit 1; }

# ---------------------------------------------------------------- 1,000 byte-identical
rec_start bulk || { fail setup "recorder did not start"; exit 1; }
client_start bulk bulk bulk
T0=$(now_ms)
if publish bulk 1 1000 "$T_TMP/bulk.exp"; then ok bulk_published_1000; else
	fail bulk_published_1000 "$(tail -n 3 "$T_TMP/publish.err")"
fi
wait_until 120 has_delivered bulk 1000
info "1000 webhooks delivered in $(($(now_ms) - T0)) ms"
compare "$T_TMP/bulk.exp" bulk
expect_eq bulk_all_delivered_once "$unique/$duplicates/$missing" "1000/0/0"
if [ "$mismatched" = 0 ]; then ok bulk_byte_identical; else
	fail bulk_byte_identical "$mismatched differ: $(head -n 3 "$T_TMP/compare.err")"
fi
expect_eq bulk_in_order "$order_ok" 1
expect_eq bulk_forward_log_lines "$(grep -c ' info forwarded id=.* method=POST path=/hooks/h[0-9]/x[^ ]* status=200 attempts=1 ' "$T_TMP/bulk.log")" 1000
client_stop bulk
expect_eq bulk_sigterm_exit_0 "$CLIENT_RC" 0
expect_eq bulk_state_is_last_id "$(state_id bulk)" "$(last_expected_id "$T_TMP/bulk.exp")"
expect_match bulk_stop_summary "$(grep ' stopped ' "$T_TMP/bulk.log" | tail -n 1)" \
	'forwarded=1000 failed=0 retries=0 gaps=0'
# A restart from that state forwards nothing again.
client_start bulk bulk bulk
sleep 2
client_stop bulk
expect_eq bulk_restart_no_resend "$(delivered bulk)" 1000
expect_match bulk_restart_sent_last_event_id "$(grep subscribing "$T_TMP/bulk.log" | tail -n 1)" \
	"last_event_id=$(state_id bulk)"
rec_stop bulk

# ---------------------------------------------------------------- kill -9 mid-stream
rec_start crash
# 10 ms per answer: the kill lands mid-stream on any machine.
echo "200 -1 - 0.01" >"$T_TMP/crash.ctl"
client_start crash crash crash
publish crash 1 400 "$T_TMP/crash.exp" &
PUB=$!
wait_until 60 has_delivered crash 120
kill -9 "${CPID[crash]}"
wait "${CPID[crash]}" 2>/dev/null
AT_KILL=$(delivered crash)
STATE_AT_KILL=$(state_id crash)
info "killed after $AT_KILL deliveries, state $STATE_AT_KILL"
if [ "$AT_KILL" -ge 120 ] && [ "$AT_KILL" -lt 400 ]; then ok crash_killed_mid_stream; else
	fail crash_killed_mid_stream "killed after $AT_KILL of 400 deliveries"
fi
wait "$PUB"
client_start crash crash crash
wait_until 60 has_delivered crash 400
sleep 1
compare "$T_TMP/crash.exp" crash
expect_eq crash_nothing_lost "$missing/$unique" "0/400"
if [ "$duplicates" -le 1 ] && [ "$max_dup" -le 1 ]; then ok crash_at_most_one_duplicate; else
	fail crash_at_most_one_duplicate "duplicates=$duplicates max_dup=$max_dup"
fi
expect_eq crash_in_order_identical "$order_ok/$mismatched" "1/0"
expect_match crash_resumed_from_state "$(grep subscribing "$T_TMP/crash.log" | tail -n 1)" \
	"last_event_id=$STATE_AT_KILL"
client_stop crash
rec_stop crash

# ---------------------------------------------------------------- 503, 429 + Retry-After, down
rec_start flaky
client_start flaky flaky flaky
echo "503 3" >"$T_TMP/flaky.ctl"
publish flaky 1 5 "$T_TMP/flaky.exp"
wait_until 30 has_delivered flaky 5
expect_eq flaky_503_retried "$(grep -c '"status": 503' "$T_TMP/flaky.rec")/$(delivered flaky)" "3/5"
expect_eq flaky_503_logged "$(grep -c 'warn forward_retry id=.* status=503 ' "$T_TMP/flaky.log")" 3
echo "429 2 2" >"$T_TMP/flaky.ctl"
publish flaky 6 3 "$T_TMP/flaky.exp"
wait_until 30 has_delivered flaky 8
# The gap between the last 429 and the delivery is the Retry-After (2 s),
# not the 200 ms backoff.
GAP=$("$PY" -c 'import json,sys
r=[json.loads(l) for l in open(sys.argv[1])]
t=[x["ms"] for x in r if x["status"]==429]
d=[x["ms"] for x in r if x["status"]==200 and x["ms"]>t[-1]]
print(d[0]-t[-1])' "$T_TMP/flaky.rec")
info "429 Retry-After: 2 -> next attempt after $GAP ms"
if [ "$GAP" -ge 1800 ] && [ "$GAP" -lt 10000 ]; then ok flaky_retry_after_honoured; else
	fail flaky_retry_after_honoured "next attempt $GAP ms after the 429"
fi
expect_eq flaky_429_logged "$(grep -c 'warn forward_retry id=.* status=429 .*retry_after_ms=2000' "$T_TMP/flaky.log")" 2
# Down: nothing listens on the port for a while.
rec_stop flaky
publish flaky 9 10 "$T_TMP/flaky.exp"
sleep 3
expect_match flaky_down_retried "$(grep -c 'warn forward_retry id=.* error=' "$T_TMP/flaky.log")" '^[1-9][0-9]*$'
rec_start flaky "${RPORT[flaky]}" || fail flaky_restart "recorder did not come back on its port"
wait_until 30 has_delivered flaky 18
sleep 0.5
compare "$T_TMP/flaky.exp" flaky
expect_eq flaky_all_in_order "$unique/$missing/$duplicates/$order_ok/$mismatched" "18/0/0/1/0"

# ---------------------------------------------------------------- 404: permanent
echo "404 1" >"$T_TMP/flaky.ctl"
publish flaky 19 2 "$T_TMP/flaky.exp"
wait_until 20 has_delivered flaky 19
sleep 1
expect_eq perm_404_not_retried "$(grep -c '"status": 404' "$T_TMP/flaky.rec")" 1
expect_eq perm_404_logged "$(grep -c 'error forward_failed id=.* status=404 attempts=1' "$T_TMP/flaky.log")" 1
expect_eq perm_next_delivered "$(delivered flaky)" 19
client_stop flaky
expect_match perm_counted "$(grep ' stopped ' "$T_TMP/flaky.log" | tail -n 1)" 'forwarded=19 failed=1 '
expect_eq perm_state_past_it "$(state_id flaky)" "$(last_expected_id "$T_TMP/flaky.exp")"
rec_stop flaky

# ---------------------------------------------------------------- silent stream
rec_start quiet
client_start quiet quiet quiet --heartbeat-timeout 2
publish quiet 1 1 "$T_TMP/quiet.exp"
wait_until 10 has_delivered quiet 1
kill -STOP "$SRV_PID"
T0=$(now_ms)
wait_until 15 grep -q 'stream_silent' "$T_TMP/quiet.log"
SILENT_AFTER=$(($(now_ms) - T0))
kill -CONT "$SRV_PID"
info "silence noticed after $SILENT_AFTER ms (timeout 2 s)"
if grep -q 'warn stream_silent' "$T_TMP/quiet.log"; then ok quiet_silence_detected; else
	fail quiet_silence_detected "no stream_silent line: $(tail -n 3 "$T_TMP/quiet.log")"
fi
wait_for 15 'test "$(grep -c subscribing "$T_TMP/quiet.log")" -ge 2'
publish quiet 2 1 "$T_TMP/quiet.exp"
wait_until 20 has_delivered quiet 2
compare "$T_TMP/quiet.exp" quiet
expect_eq quiet_reconnected_delivered "$unique/$missing/$duplicates" "2/0/0"
client_stop quiet
rec_stop quiet

# ---------------------------------------------------------------- SIGTERM mid-forward
# The target takes 3 s to answer; SIGTERM arrives while it thinks. The
# client waits for the answer, saves that id and exits 0.
rec_start slow
client_start slow slow slow
echo "200 1 - 3" >"$T_TMP/slow.ctl"
publish slow 1 1 "$T_TMP/slow.exp"
wait_for 10 'test "$(lines "$T_TMP/slow.rec")" -ge 1'
T0=$(now_ms)
client_stop slow
STOP_MS=$(($(now_ms) - T0))
info "SIGTERM during a 3 s forward: exited after $STOP_MS ms"
expect_eq sigterm_inflight_exit_0 "$CLIENT_RC" 0
if [ "$STOP_MS" -ge 1500 ]; then ok sigterm_inflight_waited; else
	fail sigterm_inflight_waited "exited $STOP_MS ms after SIGTERM, before the target answered"
fi
expect_eq sigterm_inflight_forwarded "$(grep -c ' info forwarded id=.* status=200 attempts=1' "$T_TMP/slow.log")" 1
expect_eq sigterm_inflight_state_saved "$(state_id slow)" "$(last_expected_id "$T_TMP/slow.exp")"
rec_stop slow

# ---------------------------------------------------------------- state file cannot be written
# Its directory disappears under it: each write fails loudly and is
# counted, and forwarding goes on (a restart would resend, never lose).
rec_start sw
mkdir -p "$T_TMP/swdir"
client_start sw sw sw --state "$T_TMP/swdir/state"
publish sw 1 1 "$T_TMP/sw.exp"
wait_until 10 has_delivered sw 1
rm -rf "$T_TMP/swdir"
publish sw 2 2 "$T_TMP/sw.exp"
wait_until 10 has_delivered sw 3
sleep 0.5
client_stop sw
expect_eq state_write_failure_logged "$(grep -c 'error state_write_failed id=.* error=' "$T_TMP/sw.log")" 2
expect_match state_write_failure_counted "$(grep ' stopped ' "$T_TMP/sw.log")" 'forwarded=3 .*state_errors=2'
rec_stop sw

# ---------------------------------------------------------------- JSON log, oversize event
rec_start js
client_start js js js --log-format json
publish js 1 2 "$T_TMP/js.exp"
wait_until 20 has_delivered js 2
client_stop js
JL=$("$PY" -c 'import json,sys
n=bad=0
fw=[]
for l in open(sys.argv[1]):
    n+=1
    try: o=json.loads(l)
    except ValueError: bad+=1; continue
    if o.get("event")=="forwarded": fw.append(o)
ok=len(fw)==2 and all(set(("ts","level","id","method","path","status","attempts"))<=set(f) and f["status"]=="200" and f["method"]=="POST" for f in fw)
print("%d/%d/%s"%(n,bad,"fields" if ok else "nofields"))' "$T_TMP/js.log")
expect_match json_log_lines "$JL" '^[0-9]+/0/fields$'
# An event over --max-event-bytes: the stream is refused, nothing is
# forwarded, the state does not move, and the client says which bound.
rec_start big
client_start big big big --max-event-bytes 4096
publish big 0 1 "$T_TMP/big.exp"
wait_until 15 grep -qs 'stream_ended.*bound=' "$T_TMP/big.log"
sleep 0.5
client_stop big
expect_match big_event_refused "$(grep stream_ended "$T_TMP/big.log" | head -n 1)" \
	'error stream_ended why="the stream broke a bound" .*bound="line too long"'
expect_eq big_nothing_forwarded "$(lines "$T_TMP/big.rec")/$(test -e "$T_TMP/big.state" && echo state || echo none)" "0/none"
rec_stop big
rec_stop js

# ---------------------------------------------------------------- bad input
bad() { # NAME WANT_RC REGEX args... (env from BAD_ENV)
	local n=$1 want=$2 re=$3 out rc
	shift 3
	out=$(env ${BAD_ENV:-} "$RELAY_BIN" connect "$@" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" = "$want" ] && [[ "$out" =~ $re ]]; then ok "$n"; else
		fail "$n" "rc=$rc (want $want): ${out:0:300}"
	fi
}
SRC="http://127.0.0.1:$SRV_PORT/subscribe/bad/"
bad bad_help_exit_0 0 'usage: webhook-relay connect' --help
bad bad_unknown_option 2 'usage: webhook-relay connect' --sauce "$SRC"
bad bad_extra_argument 2 "unexpected argument 'extra'" --source "$SRC" --target http://127.0.0.1:9 --state "$T_TMP/b.state" extra
bad bad_min_above_max 2 'above its' --source "$SRC" --target http://127.0.0.1:9 --state "$T_TMP/b.state" --retry-min 5000 --retry-max 1
bad bad_no_source 2 'source.*required' --target http://127.0.0.1:9 --state "$T_TMP/b.state"
bad bad_no_target 2 'target.*required' --source "$SRC" --state "$T_TMP/b.state"
bad bad_no_state 2 'state.*required' --source "$SRC" --target http://127.0.0.1:9
bad bad_target_scheme 2 'http:// or https://' --source "$SRC" --target ftp://x --state "$T_TMP/b.state"
bad bad_target_query 2 'query' --source "$SRC" --target 'http://x/?a=1' --state "$T_TMP/b.state"
bad bad_number 2 'heartbeat-timeout' --source "$SRC" --target http://127.0.0.1:9 --state "$T_TMP/b.state" --heartbeat-timeout 0
bad bad_log_format 2 'log-format' --source "$SRC" --target http://127.0.0.1:9 --state "$T_TMP/b.state" --log-format xml
bad bad_literal_token 2 'token' --source "$SRC" --target http://127.0.0.1:9 --state "$T_TMP/b.state" --token sekrit
bad bad_missing_token_file 2 'token' --source "$SRC" --target http://127.0.0.1:9 --state "$T_TMP/b.state" --token "file:$T_TMP/nope"
BAD_ENV="SOURCE_URL=$SRC" bad bad_env_still_needs_target 2 'target.*required' --state "$T_TMP/b.state"
printf 'garbage\n' >"$T_TMP/corrupt.state"
cp "$T_TMP/corrupt.state" "$T_TMP/corrupt.before"
bad bad_corrupt_state 1 'not one line' --source "$SRC" --target http://127.0.0.1:9 --state "$T_TMP/corrupt.state"
check bad_corrupt_state_untouched cmp -s "$T_TMP/corrupt.state" "$T_TMP/corrupt.before"
test ! -e "$T_TMP/b.state" && ok bad_no_state_written || fail bad_no_state_written "$T_TMP/b.state exists"
# A wrong token: the server says 401, the client says so, forwards nothing.
rec_start wrong
(umask 077 && echo "not-the-token" >"$T_TMP/wrong.token")
"$RELAY_BIN" connect --source "http://127.0.0.1:$SRV_PORT/subscribe/bulk/" \
	--target "http://127.0.0.1:${RPORT[wrong]}/t" --token "file:$T_TMP/wrong.token" \
	--state "$T_TMP/wrong.state" --reconnect-max 1 >>"$T_TMP/wrong.log" 2>&1 &
CPID[wrong]=$!
BG+=("$!")
wait_until 10 grep -qs stream_ended "$T_TMP/wrong.log"
sleep 1
client_stop wrong
expect_match bad_wrong_token_403 "$(grep stream_ended "$T_TMP/wrong.log" | head -n 1)" 'error stream_ended why="refused by the server" .*status=403'
expect_eq bad_wrong_token_nothing_sent "$(lines "$T_TMP/wrong.rec")/$(test -e "$T_TMP/wrong.state" && echo state || echo none)" "0/none"
if grep -q "not-the-token" "$T_TMP/wrong.log"; then fail bad_token_not_logged "the token is in the log"; else
	ok bad_token_not_logged
fi
rec_stop wrong

# ---------------------------------------------------------------- the systemd unit
UNIT=$TOP/systemd/webhook-relay-connect.service
if command -v systemd-analyze >/dev/null; then
	score=$( (cd "$T_TMP" && timeout 60 systemd-analyze security --offline=true "$UNIT" 2>&1) |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p' | tail -n 1)
	info "systemd-analyze security: webhook-relay-connect.service ${score:-none}"
	if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 1.5) }'; then
		ok unit_security_at_most_1.5
	else
		fail unit_security_at_most_1.5 "exposure '${score}'"
	fi
	mkdir -p "$T_TMP/verify"
	sed "s|^ExecStart=/usr/local/bin/webhook-relay|ExecStart=$RELAY_BIN|" "$UNIT" \
		>"$T_TMP/verify/webhook-relay-connect.service"
	out=$(cd "$T_TMP" && timeout 60 systemd-analyze verify "$T_TMP/verify/webhook-relay-connect.service" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok unit_verify_clean; else
		fail unit_verify_clean "rc=$rc: $(echo "$out" | head -n 5 | tr '\n' ' ')"
	fi
else
	skip unit_security_at_most_1.5 "systemd-analyze not installed"
fi
