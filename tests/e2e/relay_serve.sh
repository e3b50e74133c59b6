#!/usr/bin/env bash
# relay_serve.sh — webhook-relay serve end to end with real processes:
# publish and subscribe over real HTTP (curl, and tests/tools/sse_read.py,
# which parses the stream with python's standard library), the in-memory
# store, then two relays sharing one throwaway redis-server (tests/redis.sh).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/redis.sh"
. "$TOP/tests/relay.sh"
need_bins "$RELAY_BIN"
need_tools curl redis-server redis-cli
SSE="$PY $TOP/tests/tools/sse_read.py"
Q="$PY $TOP/tests/tools/relay_check.py"
export RELAY_T_TOKEN=sub-$(rand_hex 16)
export RELAY_T_PUB=pub-$(rand_hex 16)
AUTH=(--header "Authorization: Bearer $RELAY_T_TOKEN")
# read_bg NAME URL-PATH ARGS... : an SSE reader on relay m in the background
# into $T_TMP/NAME.sse; its pid in SSE_PID[NAME]
declare -A SSE_PID
read_bg() {
	local n=$1 inst=$2 path=$3
	shift 3
	rm -f "$T_TMP/$n.sse"
	$SSE "$(rurl "$inst" "$path")" "$T_TMP/$n.sse" "$@" &
	SSE_PID[$n]=$!
	at_exit "kill ${SSE_PID[$n]}"
}
# streaming NAME : the reader got its answer's head
streaming() { [ -n "$($Q status "$T_TMP/$1.sse")" ]; }
got() { [ "$($Q count "$T_TMP/$1.sse" "${2:-webhook}")" -ge "$3" ]; }
ended() { [ -n "$($Q end "$T_TMP/$1.sse")" ]; }
idof() { sed -n 's/.*"id":"\([0-9]*-[0-9]*\)".*/\1/p' <<<"$1"; }

# ------------------------------------------------ refuses to start without a token
out=$("$RELAY_BIN" serve --host 127.0.0.1 --port "$(closed_port)" --ops-port 0 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"--open"* ]] && [[ "$out" == *"RELAY_TOKEN"* ]]; then
	ok relay_refuses_without_token
else
	fail relay_refuses_without_token "rc=$rc out=$out"
fi
out=$(RELAY_TOKEN=sub-literal "$RELAY_BIN" serve --host 127.0.0.1 --port "$(closed_port)" \
	--ops-port 0 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"--token"* ]]; then ok relay_refuses_literal_token
else fail relay_refuses_literal_token "rc=$rc out=$out"; fi

# ------------------------------------------------ in memory
relay_start m --token env:RELAY_T_TOKEN --heartbeat-ms 1000 --max-body 200000 --history 5 \
	|| { fail relay_start "in-memory relay did not start"; exit 1; }

r=$(pub m demo/x -d '{}')
expect_match relay_publish_202 "$r" '^202 \{"id":"[0-9]+-[0-9]+"\}$'

# A subscriber sees the head, the retry hint, then what is published.
read_bg s1 m /subscribe/demo/ "${AUTH[@]}" --events 1 --seconds 15
wait_until 5 streaming s1
head -c 3000 /dev/urandom >"$T_TMP/body.bin"
printf '\x00\xff\xfe\r\n\x80 end' >>"$T_TMP/body.bin"
want_sha=$(sha256sum "$T_TMP/body.bin" | cut -d' ' -f1)
r=$(pub m 'demo/a/b%20c?x=1&y=%C3%A9' --data-binary @"$T_TMP/body.bin" \
	-H 'X-Rep: one' -H 'X-Rep: two' -H 'Content-Type: application/octet-stream')
id1=$(idof "$r")
wait_until 10 got s1 webhook 1
wait "${SSE_PID[s1]}"
S=$T_TMP/s1.sse
expect_eq relay_subscribe_content_type "$($Q header "$S" Content-Type)" text/event-stream
expect_eq relay_subscribe_cache_control "$($Q header "$S" Cache-Control)" no-cache
expect_eq relay_subscribe_accel_buffering "$($Q header "$S" X-Accel-Buffering)" no
expect_eq relay_subscribe_retry_hint "$($Q retries "$S")" 1
expect_ids relay_event_id_line "$($Q ids "$S")" "$id1"
expect_ids relay_event_id_in_data "$($Q data_ids "$S")" "$id1"
expect_eq relay_event_type webhook "$($Q first_type "$S")"
expect_eq relay_body_roundtrip_sha256 "$($Q body_sha "$S" 0)" "$want_sha"
expect_eq relay_repeated_headers_in_order "$($Q headers_of "$S" 0 X-Rep)" '["one", "two"]'
expect_eq relay_event_path_raw "$($Q field "$S" 0 path)" '"/a/b%20c"'
expect_eq relay_event_query_raw "$($Q field "$S" 0 query)" '"x=1&y=%C3%A9"'
expect_eq relay_event_method "$($Q field "$S" 0 method)" '"POST"'
expect_eq relay_event_channel "$($Q field "$S" 0 channel)" '"demo"'

# Two subscribers each get every event, in the same order.
read_bg a m /subscribe/demo/ "${AUTH[@]}" --events 3 --seconds 15
read_bg b m "/subscribe/demo?token=$RELAY_T_TOKEN" --events 3 --seconds 15
wait_until 5 streaming a
wait_until 5 streaming b
ids=""
for i in 1 2 3; do r=$(pub m demo -d "n=$i"); ids+="$(idof "$r") "; done
ids=${ids% }
wait_until 10 got a webhook 3
wait_until 10 got b webhook 3
expect_ids relay_two_subscribers_first "$($Q ids "$T_TMP/a.sse")" "$ids"
expect_ids relay_two_subscribers_second "$($Q ids "$T_TMP/b.sse")" "$ids"
read -r i1 i2 i3 <<<"$ids"

# Resume: everything after the Last-Event-ID (header, or ?last_event_id=).
read_bg r1 m /subscribe/demo/ "${AUTH[@]}" --header "Last-Event-ID: $i1" --events 2 --seconds 10
wait_until 10 ended r1
expect_ids relay_resume_last_event_id "$($Q ids "$T_TMP/r1.sse")" "$i2 $i3"
expect_eq relay_resume_no_gap "$($Q count "$T_TMP/r1.sse" gap)" 0
read_bg r2 m "/subscribe/demo/?last_event_id=$i2" "${AUTH[@]}" --events 1 --seconds 10
wait_until 10 ended r2
expect_ids relay_resume_query_param "$($Q ids "$T_TMP/r2.sse")" "$i3"

# Gap: history holds 5; after 6 more, i1..i3 are gone.
more=""
for i in 1 2 3 4 5 6; do r=$(pub m demo -d "m=$i"); more+="$(idof "$r") "; done
kept=$(echo $more | cut -d' ' -f2-)
read_bg g m /subscribe/demo/ "${AUTH[@]}" --header "Last-Event-ID: $i2" --events 6 --seconds 10
wait_until 10 ended g
expect_eq relay_gap_first "$($Q first_type "$T_TMP/g.sse")" gap
expect_ids relay_gap_after "$($Q gap "$T_TMP/g.sse" after)" "$i2"
expect_ids relay_gap_oldest "$($Q gap "$T_TMP/g.sse" oldest)" "${kept%% *}"
expect_ids relay_gap_then_kept "$($Q ids "$T_TMP/g.sse")" "$kept"

# Limits and refusals, each with its JSON error.
head -c 200001 /dev/zero >"$T_TMP/big.bin"
r=$(pub m demo --data-binary @"$T_TMP/big.bin")
expect_match relay_body_limit_413 "$r" '^413 \{"error":"body too large"\}$'
r=$(pub m demo --data-binary @"$T_TMP/big.bin" -H 'Transfer-Encoding: chunked')
expect_match relay_body_limit_chunked_413 "$r" '^413 \{"error":"body too large"\}$'
head -c 200000 /dev/zero >"$T_TMP/max.bin"
r=$(pub m demo --data-binary @"$T_TMP/max.bin")
expect_match relay_body_at_limit_202 "$r" '^202 '
r=$(curl -s -w ' %{http_code}' "$(rurl m /subscribe/demo/)")
expect_match relay_subscribe_no_token_401 "$r" '"error":"missing token.* 401$'
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer wrong" "$(rurl m /subscribe/demo/)")
expect_match relay_subscribe_wrong_token_403 "$r" '^\{"error":"wrong token"\} 403$'
r=$(curl -s -w ' %{http_code}' "$(rurl m "/subscribe/demo/?token=nope")")
expect_match relay_subscribe_wrong_query_token_403 "$r" '^\{"error":"wrong token"\} 403$'
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $RELAY_T_TOKEN" "$(rurl m '/subscribe/bad%2Fname/')")
expect_match relay_subscribe_bad_channel_400 "$r" '"error":"invalid channel name.* 400$'
r=$(pub m "$(printf 'a%.0s' $(seq 1 65))" -d x)
expect_match relay_publish_long_channel_400 "$r" '^400 \{"error":"invalid channel name'
r=$(curl -s -w ' %{http_code}' "$(rurl m /webhooks/demo)")
expect_match relay_publish_get_405 "$r" '"error":"method not allowed.* 405$'
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $RELAY_T_TOKEN" \
	-H 'Last-Event-ID: 12x' "$(rurl m /subscribe/demo/)")
expect_match relay_subscribe_bad_last_event_id_400 "$r" '"error":"Last-Event-ID.* 400$'

# Heartbeats on an idle stream (every 1 s here).
read_bg hb m /subscribe/idle/ "${AUTH[@]}" --seconds 4
wait_until 10 ended hb
n=$($Q comments "$T_TMP/hb.sse" ping)
info "relay heartbeats in 4 s: $n"
if [ "$n" -ge 2 ]; then ok relay_heartbeat_idle; else fail relay_heartbeat_idle "$n pings in 4 s"; fi

# Readers that went away are noticed (at the latest by the next heartbeat's
# write) and leave: the gauge is back to 0, no thread or queue kept.
gauge0() { curl -s "http://127.0.0.1:${ROPS[m]}/metrics" | grep -qx 'relay_subscribers 0'; }
if wait_until 10 gauge0; then ok relay_subscribers_gone_when_readers_left
else fail relay_subscribers_gone_when_readers_left "$(curl -s "http://127.0.0.1:${ROPS[m]}/metrics" | grep '^relay_subscribers ')"; fi

# Metrics on the ops port.
m=$(curl -s "http://127.0.0.1:${ROPS[m]}/metrics")
expect_match relay_metrics_events_in "$m" 'relay_events_in_total\{channel="demo"\} 12'
expect_match relay_metrics_subscribers "$m" 'relay_subscribers [0-9]+'
r=$(curl -s -w ' %{http_code}' "http://127.0.0.1:${ROPS[m]}/ready")
expect_eq relay_ready_memory "$r" '{"status":"ready"} 200'

# SIGTERM drains: a subscriber gets a final retry hint and the stream closes; exit 0.
read_bg d m /subscribe/demo/ "${AUTH[@]}" --seconds 15
wait_until 5 streaming d
t0=$(now_ms)
kill -TERM "${RPID[m]}"
wait "${RPID[m]}"
rc=$?
t1=$(now_ms)
RPID[m]=
info "relay SIGTERM to exit with one stream open: $((t1 - t0)) ms"
if [ $((t1 - t0)) -lt 15000 ]; then ok relay_sigterm_prompt; else fail relay_sigterm_prompt "$((t1 - t0)) ms"; fi
wait_until 10 ended d
expect_eq relay_sigterm_exit_0 "$rc" 0
expect_eq relay_sigterm_final_retry "$($Q retries "$T_TMP/d.sse")" 2
expect_eq relay_sigterm_stream_closed "$($Q end "$T_TMP/d.sse")" closed
if grep -q 'route=subscribe.*end=drained' "${RLOG[m]}"; then ok relay_sigterm_logged
else fail relay_sigterm_logged "no drained subscribe line in the log"; fi
relay_end_checks relay_serve
