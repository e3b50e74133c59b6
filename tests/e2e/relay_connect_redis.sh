#!/usr/bin/env bash
# tests/e2e/relay_connect_redis.sh — webhook-relay connect against a
# webhook-relay serve on a throwaway redis-server (tests/redis.sh), with
# Redis trouble on the server side:
#   - `CLIENT KILL TYPE normal` (every Redis connection of the relay cut):
#     the client goes on, every webhook arrives once, in order;
#   - Redis killed and started again empty: publishes get 503 while it is
#     away (the publisher retries them), and afterwards every webhook
#     published arrives once, in order, byte-identical.
# The target is tests/tools/relay_recorder.py; what it got is compared per
# webhook with what tests/tools/relay_publish.py sent.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/redis.sh"
. "$TOP/tests/relay.sh"
need_bins "$RELAY_BIN"
need_tools curl redis-server redis-cli

TOK=$T_TMP/sub.token
(umask 077 && rand_hex 24 >"$TOK")
BG=()
bg_stop() {
	local p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${BG[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
at_exit bg_stop

redis_start
relay_start a --token "file:$TOK" --redis-url "$REDIS_URL" --redis-prefix "c$(rand_hex 4):" \
	--heartbeat-ms 500 --retry-ms 300 --history 5000 ||
	{ fail relay_start "webhook-relay serve did not start"; exit 1; }

"$PY" "$TOP/tests/tools/relay_recorder.py" "$T_TMP/rec.port" "$T_TMP/rec" "$T_TMP/rec.ctl" \
	2>>"$T_TMP/rec.err" &
BG+=("$!")
wait_until 10 test -s "$T_TMP/rec.port" || { fail setup "recorder did not start"; exit 1; }
touch "$T_TMP/rec"
client_start() {
	"$RELAY_BIN" connect --source "$(rurl a /subscribe/r/)" --target "http://127.0.0.1:$(cat "$T_TMP/rec.port")/t" \
		--token "file:$TOK" --state "$T_TMP/c.state" --heartbeat-timeout 3 --retry-min 200 \
		--retry-max 2 --reconnect-min 100 --reconnect-max 5 >>"$T_TMP/c.log" 2>&1 &
	CPID=$!
	BG+=("$CPID")
	wait_until 10 grep -qs subscribing "$T_TMP/c.log"
}
client_start

delivered() { grep -c '"status": 2' "$T_TMP/rec" 2>/dev/null || true; }
has_delivered() { [ "$(delivered)" -ge "$1" ]; }
publish() {
	"$PY" "$TOP/tests/tools/relay_publish.py" "127.0.0.1:${RPORT[a]}" r "$1" "$2" "$T_TMP/exp" "$1" \
		2>>"$T_TMP/publish.err"
}
compare() {
	CMP=$("$PY" "$TOP/tests/tools/relay_compare.py" "$T_TMP/exp" "$T_TMP/rec" /t 2>"$T_TMP/compare.err")
	info "$1: $CMP"
	eval "$CMP"
}

check redis_published_first publish 1 50
wait_until 30 has_delivered 50
compare first
expect_eq redis_first_delivered "$unique/$missing/$duplicates/$order_ok/$mismatched" "50/0/0/1/0"

# Every Redis connection of the relay cut at once.
KILLED=$(redis_cli CLIENT KILL TYPE normal)
info "CLIENT KILL TYPE normal: $KILLED connections"
check redis_published_after_client_kill publish 51 50
wait_until 60 has_delivered 100
sleep 1
compare client_kill
expect_eq redis_client_kill_all_once_in_order "$unique/$missing/$duplicates/$order_ok/$mismatched" \
	"100/0/0/1/0"

# Redis away, then back (empty: no persistence).
redis_stop
sleep 1
PUB_CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -d x "$(rurl a /webhooks/r/while-down)")
expect_eq redis_down_publish_503 "$PUB_CODE" 503
# A client (re)starting while Redis is away: its resume is refused with 503
# and Retry-After: 1, which it waits out (its own minimum is 100 ms).
kill -TERM "$CPID"
wait "$CPID"
: >"$T_TMP/c.log"
client_start
wait_until 10 grep -qs 'stream_ended.*status=503' "$T_TMP/c.log"
wait_until 5 grep -qs 'reconnect_wait' "$T_TMP/c.log"
expect_match redis_down_resume_503 "$(grep stream_ended "$T_TMP/c.log" | head -n 1)" 'why="refused by the server" .*status=503'
WAIT_MS=$(sed -n 's/.*reconnect_wait delay_ms=\([0-9]*\).*/\1/p' "$T_TMP/c.log" | head -n 1)
info "reconnect after the 503: ${WAIT_MS:-none} ms"
if [ -n "$WAIT_MS" ] && [ "$WAIT_MS" -ge 1000 ]; then ok redis_down_retry_after_honoured; else
	fail redis_down_retry_after_honoured "reconnect_wait delay_ms=${WAIT_MS:-none}, want >= 1000"
fi
redis_start
check redis_published_after_restart publish 101 50
wait_until 60 has_delivered 150
sleep 1
compare restart
expect_eq redis_restart_all_once_in_order "$unique/$missing/$duplicates/$order_ok/$mismatched" \
	"150/0/0/1/0"
expect_eq redis_restart_state_is_last "$(sed -n 's/^last_event_id //p' "$T_TMP/c.state")" \
	"$(tail -n 1 "$T_TMP/exp" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
info "client: $(grep -c stream_ended "$T_TMP/c.log") stream ends, $(grep -c ' gap ' "$T_TMP/c.log") gaps"
kill -TERM "$CPID"
wait "$CPID"
expect_eq redis_client_exit_0 "$?" 0
