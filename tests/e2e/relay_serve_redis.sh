#!/usr/bin/env bash
# relay_serve_redis.sh — two webhook-relay instances sharing one throwaway
# redis-server (tests/redis.sh): a publish on A reaches a subscriber on B
# with the id A answered, a resume moves between instances, the gap event
# from a trimmed stream, and Redis going away (publish 503 + Retry-After,
# /ready 503) and coming back (both recover, the open stream goes on).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/redis.sh"
. "$TOP/tests/relay.sh"
need_bins "$RELAY_BIN"
need_tools curl redis-server redis-cli
SSE="$PY $TOP/tests/tools/sse_read.py"
Q="$PY $TOP/tests/tools/relay_check.py"
export RELAY_T_TOKEN=sub-$(rand_hex 16)
AUTH=(--header "Authorization: Bearer $RELAY_T_TOKEN")
declare -A SSE_PID
read_bg() {
	local n=$1 inst=$2 path=$3
	shift 3
	rm -f "$T_TMP/$n.sse"
	$SSE "$(rurl "$inst" "$path")" "$T_TMP/$n.sse" "$@" &
	SSE_PID[$n]=$!
	at_exit "kill ${SSE_PID[$n]}"
}
streaming() { [ -n "$($Q status "$T_TMP/$1.sse")" ]; }
got() { [ "$($Q count "$T_TMP/$1.sse" "${2:-webhook}")" -ge "$3" ]; }
ended() { [ -n "$($Q end "$T_TMP/$1.sse")" ]; }
idof() { sed -n 's/.*"id":"\([0-9]*-[0-9]*\)".*/\1/p' <<<"$1"; }
ready() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:${ROPS[$1]}/ready"; }

redis_start
# Small stream nodes, so that MAXLEN ~ trims at a small history.
redis_cli CONFIG SET stream-node-max-entries 2 >/dev/null
COMMON=(--token env:RELAY_T_TOKEN --redis-url "$REDIS_URL" --redis-prefix "t$(rand_hex 4):"
	--history 4 --heartbeat-ms 1000)
relay_start a "${COMMON[@]}" || { fail relay_start "relay a did not start"; exit 1; }
relay_start b "${COMMON[@]}" || { fail relay_start "relay b did not start"; exit 1; }
expect_eq relay_redis_ready "$(ready a)" 200

# Publish on A, subscribe on B.
read_bg x b /subscribe/shared/ "${AUTH[@]}" --seconds 60
wait_until 5 streaming x
r=$(pub a shared -d one -H 'X-Rep: 1' -H 'X-Rep: 2')
expect_match relay_redis_publish_202 "$r" '^202 \{"id":"[0-9]+-[0-9]+"\}$'
id1=$(idof "$r")
wait_until 10 got x webhook 1
expect_ids relay_redis_cross_instance "$($Q ids "$T_TMP/x.sse")" "$id1"
expect_eq relay_redis_headers_kept "$($Q headers_of "$T_TMP/x.sse" 0 X-Rep)" '["1", "2"]'
r=$(pub b shared -d two)
id2=$(idof "$r")
r=$(pub a shared -d three)
id3=$(idof "$r")
wait_until 10 got x webhook 3
expect_ids relay_redis_order_across_publishers "$($Q ids "$T_TMP/x.sse")" "$id1 $id2 $id3"

# A client that was on A resumes on B.
read_bg rs b /subscribe/shared/ "${AUTH[@]}" --header "Last-Event-ID: $id1" --events 2 --seconds 10
wait_until 10 ended rs
expect_ids relay_redis_resume_other_instance "$($Q ids "$T_TMP/rs.sse")" "$id2 $id3"

# Trimmed history: a gap event, then what Redis keeps.
for i in $(seq 1 12); do pub a shared -d "t$i" >/dev/null; done
oldest=$(redis_cli XRANGE "${COMMON[5]}shared" - + COUNT 1 | head -1)
read_bg g b /subscribe/shared/ "${AUTH[@]}" --header "Last-Event-ID: $id1" --seconds 5
wait_until 10 ended g
expect_eq relay_redis_gap_first "$($Q first_type "$T_TMP/g.sse")" gap
expect_ids relay_redis_gap_after "$($Q gap "$T_TMP/g.sse" after)" "$id1"
expect_ids relay_redis_gap_oldest "$($Q gap "$T_TMP/g.sse" oldest)" "$oldest"
kept=$(redis_cli XLEN "${COMMON[5]}shared")
info "relay redis: $kept entries kept with --history 4"
if [ "$kept" -ge 1 ] 2>/dev/null; then
	expect_eq relay_redis_gap_then_kept "$($Q count "$T_TMP/g.sse")" "$kept"
else fail relay_redis_gap_then_kept "XLEN gave '$kept'"; fi

# Redis goes away: 503 with Retry-After, /ready fails; then it comes back.
before=$($Q count "$T_TMP/x.sse")
redis_stop
code=$(curl -s -o "$T_TMP/down.body" -D "$T_TMP/down.head" -w '%{http_code}' -X POST -d x \
	"$(rurl a /webhooks/shared)")
expect_eq relay_redis_down_publish_503 "$code" 503
if grep -qi '^Retry-After: [0-9]' "$T_TMP/down.head"; then ok relay_redis_down_retry_after
else fail relay_redis_down_retry_after "$(tr '\r\n' '  ' <"$T_TMP/down.head")"; fi
expect_eq relay_redis_down_error_json "$(cat "$T_TMP/down.body")" '{"error":"store unavailable"}'
expect_eq relay_redis_down_not_ready "$(ready b)" 503
r=$(curl -s -w ' %{http_code}' --max-time 10 -H "Authorization: Bearer $RELAY_T_TOKEN" \
	-H "Last-Event-ID: $id1" "$(rurl b /subscribe/shared/)")
expect_eq relay_redis_down_resume_503 "$r" '{"error":"store unavailable"} 503'
redis_start
wait_for 15 'test "$(ready a)" = 200'
expect_eq relay_redis_back_ready "$(ready a)" 200
r=$(pub a shared -d back)
expect_match relay_redis_back_publish_202 "$r" '^202 '
idb=$(idof "$r")
wait_until 15 got x webhook $((before + 1))
expect_ids relay_redis_back_stream_goes_on "$($Q ids "$T_TMP/x.sse" | awk '{print $NF}')" "$idb"
m=$(curl -s "http://127.0.0.1:${ROPS[a]}/metrics")
if [[ "$m" =~ relay_store_errors_total\ ([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 1 ]; then
	ok relay_redis_errors_counted
else fail relay_redis_errors_counted "$(grep store_errors <<<"$m")"; fi
relay_end_checks relay_redis
