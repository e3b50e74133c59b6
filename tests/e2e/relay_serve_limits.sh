#!/usr/bin/env bash
# relay_serve_limits.sh — webhook-relay serve's refusals and bounds with real
# processes: publish restrictions (token, CIDR allow-list), the per-channel
# config file, a slow subscriber that is dropped without holding up the
# others, and the request deadline that cuts a dribbling publisher but not
# a subscriber's stream. Companion of relay_serve.sh (same helpers).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/relay.sh"
need_bins "$RELAY_BIN"
need_tools curl
SSE="$PY $TOP/tests/tools/sse_read.py"
Q="$PY $TOP/tests/tools/relay_check.py"
export RELAY_T_TOKEN=sub-$(rand_hex 16)
export RELAY_T_PUB=pub-$(rand_hex 16)
export RELAY_T_CH=chan-$(rand_hex 16)
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

# ------------------------------------------------ publish token and allow-list
relay_start p --token env:RELAY_T_TOKEN --publish-token env:RELAY_T_PUB \
	--publish-allow 127.0.0.0/8,::1 || { fail relay_start "relay p did not start"; exit 1; }
read_bg pt p /subscribe/pt/ "${AUTH[@]}" --events 1 --seconds 15
wait_until 5 streaming pt
r=$(pub p pt -d x)
expect_match relay_publish_no_token_401 "$r" '^401 \{"error":"missing token'
r=$(pub p pt -d x -H "Authorization: Bearer wrong-$RELAY_T_PUB")
expect_match relay_publish_wrong_token_403 "$r" '^403 \{"error":"wrong token"\}$'
r=$(pub p pt -d x -H "Authorization: Bearer $RELAY_T_PUB" -H 'X-Keep: yes')
expect_match relay_publish_right_token_202 "$r" '^202 '
wait_until 10 got pt webhook 1
expect_eq relay_publish_refused_stored_nothing "$($Q count "$T_TMP/pt.sse")" 1
expect_eq relay_publish_token_not_relayed "$($Q headers_of "$T_TMP/pt.sse" 0 Authorization)" '[]'
expect_eq relay_publish_other_headers_kept "$($Q headers_of "$T_TMP/pt.sse" 0 X-Keep)" '["yes"]'

relay_start q --token env:RELAY_T_TOKEN --publish-allow 192.0.2.0/24 \
	|| { fail relay_start "relay q did not start"; exit 1; }
r=$(pub q demo -d x)
expect_match relay_publish_address_403 "$r" '^403 \{"error":"this address may not publish'
out=$("$RELAY_BIN" serve --host 127.0.0.1 --port "$(closed_port)" --ops-port 0 \
	--token env:RELAY_T_TOKEN --publish-allow 10.0.0.1/8 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"--publish-allow"* ]]; then ok relay_refuses_bad_cidr
else fail relay_refuses_bad_cidr "rc=$rc out=$out"; fi

# ------------------------------------------------ the channel file
cat >"$T_TMP/relay.json" <<JSON
{ "channels": { "alpha": { "token": "env:RELAY_T_CH" },
                "beta": { "token": "env:RELAY_T_CH", "publish_allow": ["192.0.2.0/24"] } } }
JSON
relay_start c --config "$T_TMP/relay.json" || { fail relay_start "relay c did not start"; exit 1; }
r=$(pub c alpha -d x)
expect_match relay_config_publish_known_202 "$r" '^202 '
r=$(pub c gamma -d x)
expect_match relay_config_publish_unknown_404 "$r" '^404 \{"error":"unknown channel"\}$'
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $RELAY_T_CH" "$(rurl c /subscribe/gamma/)")
expect_match relay_config_subscribe_unknown_404 "$r" '^\{"error":"unknown channel"\} 404$'
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $RELAY_T_TOKEN" "$(rurl c /subscribe/alpha/)")
expect_match relay_config_channel_token_403 "$r" '^\{"error":"wrong token"\} 403$'
r=$(pub c beta -d x)
expect_match relay_config_channel_allow_403 "$r" '^403 '
read_bg ca c /subscribe/alpha/ --header "Authorization: Bearer $RELAY_T_CH" --events 1 --seconds 10
wait_until 5 streaming ca
pub c alpha -d y >/dev/null
wait_until 10 got ca webhook 1
expect_eq relay_config_channel_token_200 "$($Q status "$T_TMP/ca.sse")" 200
echo '{"channels": {"alpha": {"tokn": "env:RELAY_T_CH"}}}' >"$T_TMP/bad.json"
out=$("$RELAY_BIN" serve --host 127.0.0.1 --port "$(closed_port)" --ops-port 0 \
	--config "$T_TMP/bad.json" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"channels.alpha.tokn: unknown field"* ]]; then
	ok relay_config_unknown_field
else fail relay_config_unknown_field "rc=$rc out=$out"; fi
echo '{"channels": {"alpha": {}}}' >"$T_TMP/open.json"
out=$("$RELAY_BIN" serve --host 127.0.0.1 --port "$(closed_port)" --ops-port 0 \
	--config "$T_TMP/open.json" 2>&1)
rc=$?
if [ "$rc" -eq 2 ] && [[ "$out" == *"--open"* ]]; then ok relay_config_channel_without_token
else fail relay_config_channel_without_token "rc=$rc out=$out"; fi

# ------------------------------------------------ a slow subscriber is dropped
# The stopped reader's socket buffers fill (a few MB on loopback), then its
# queue (64 events or 6 MiB); the other subscriber gets everything and
# publishes never wait.
relay_start s --token env:RELAY_T_TOKEN --max-body 200000 --queue-events 64 \
	--queue-bytes 6291456 --request-timeout-ms 60000 --history 10 \
	|| { fail relay_start "relay s did not start"; exit 1; }
curl -s -N -o "$T_TMP/slow.out" -H "Authorization: Bearer $RELAY_T_TOKEN" \
	"$(rurl s /subscribe/load/)" &
SLOW=$!
at_exit "kill -CONT $SLOW; kill $SLOW"
N=300
read_bg fast s /subscribe/load/ "${AUTH[@]}" --events $N --seconds 120
wait_until 5 streaming fast
wait_until 5 test -s "$T_TMP/slow.out"
kill -STOP "$SLOW"
head -c 100000 /dev/urandom | base64 -w0 | head -c 100000 >"$T_TMP/100k"
t0=$(now_ms) bad=0
for i in $(seq 1 $N); do
	r=$(pub s load --data-binary @"$T_TMP/100k")
	[[ "$r" == 202* ]] || bad=$((bad + 1))
done
t1=$(now_ms)
info "relay slow subscriber: $N publishes of 100 kB in $((t1 - t0)) ms"
expect_eq relay_slow_publishes_all_202 "$bad" 0
wait_until 60 got fast webhook $N
expect_eq relay_slow_other_subscriber_gets_all "$($Q count "$T_TMP/fast.sse")" $N
wait_until 10 grep -q 'subscriber_dropped.*reason="\{0,1\}queue full' "${RLOG[s]}"
if grep -q 'subscriber_dropped.*queue full' "${RLOG[s]}"; then ok relay_slow_subscriber_dropped_logged
else fail relay_slow_subscriber_dropped_logged "no drop line: $(grep -c . "${RLOG[s]}") log lines"; fi
m=$(curl -s "http://127.0.0.1:${ROPS[s]}/metrics")
expect_match relay_slow_drop_counted "$m" 'relay_subscribers_dropped_total\{channel="load"\} 1'
kill -CONT "$SLOW"

# ------------------------------------------------ the request deadline
# 1 s for a whole request: a publisher that dribbles its body is cut, a
# stream lives on well past it.
relay_start t --token env:RELAY_T_TOKEN --request-timeout-ms 1000 --min-rate 0 --heartbeat-ms 500 \
	|| { fail relay_start "relay t did not start"; exit 1; }
read_bg long t /subscribe/long/ "${AUTH[@]}" --events 1 --seconds 15
wait_until 5 streaming long
r=$("$PY" "$TOP/tests/tools/relay_drip.py" "${RPORT[t]}" /webhooks/long 8)
info "relay dribbling publisher: $r"
if [[ "$r" =~ ^closed\ ([0-9]+)\ (408|-)$ ]] && [ "${BASH_REMATCH[1]}" -lt 6000 ]; then
	ok relay_deadline_cuts_dribbling_publisher
else fail relay_deadline_cuts_dribbling_publisher "$r"; fi
sleep 2
r=$(pub t long -d late)
wait_until 10 got long webhook 1
expect_eq relay_deadline_stream_outlives_it "$($Q count "$T_TMP/long.sse")" 1
n=$($Q comments "$T_TMP/long.sse" ping)
if [ "$n" -ge 4 ]; then ok relay_deadline_stream_heartbeats; else fail relay_deadline_stream_heartbeats "$n pings"; fi
m=$(curl -s "http://127.0.0.1:${ROPS[t]}/metrics")
expect_match relay_deadline_nothing_stored "$m" 'relay_events_in_total\{channel="long"\} 1'
# ------------------------------------------------ --open, said explicitly
relay_start o --open || { fail relay_start "relay o did not start with --open"; exit 1; }
read_bg op o /subscribe/anyone/ --events 1 --seconds 10
wait_until 5 streaming op
pub o anyone -d hi >/dev/null
wait_until 10 got op webhook 1
expect_eq relay_open_subscribe_without_token "$($Q status "$T_TMP/op.sse") $($Q count "$T_TMP/op.sse")" "200 1"
if grep -q 'start .*open=yes' "${RLOG[o]}"; then ok relay_open_logged_at_start
else fail relay_open_logged_at_start "$(head -n 2 "${RLOG[o]}")"; fi

# ------------------------------------------------ settings from the environment
EP=$(closed_port) EO=$(closed_port)
SERVER_PORT=$EP OPS_PORT=$EO RELAY_TOKEN=env:RELAY_T_TOKEN RELAY_MAX_BODY=10 RELAY_HOST=127.0.0.1 \
	"$RELAY_BIN" serve >"$T_TMP/env.log" 2>&1 &
EPID=$!
at_exit "kill $EPID"
if wait_until 10 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$EO/live"; then
	ok relay_env_ops_port
	r=$(curl -s -w ' %{http_code}' -X POST -d 0123456789 "http://127.0.0.1:$EP/webhooks/e")
	expect_match relay_env_server_port_and_max_body "$r" '^\{"id":"[0-9]+-[0-9]+"\} 202$'
	r=$(curl -s -w ' %{http_code}' -X POST -d 0123456789A "http://127.0.0.1:$EP/webhooks/e")
	expect_match relay_env_max_body_413 "$r" ' 413$'
	r=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$EP/subscribe/e/")
	expect_match relay_env_token_401 "$r" ' 401$'
else
	fail relay_env_ops_port "no /live on OPS_PORT $EO: $(tail -n 3 "$T_TMP/env.log")"
fi
kill -TERM "$EPID"
wait "$EPID"
expect_eq relay_env_exit_0 "$?" 0

# ------------------------------------------------ the subscriber cap, JSON logs
relay_start j --token env:RELAY_T_TOKEN --max-subscribers 1 --log-format json \
	|| { fail relay_start "relay j did not start"; exit 1; }
read_bg one j /subscribe/cap/ "${AUTH[@]}" --seconds 20
wait_until 5 streaming one
code=$(curl -s -o "$T_TMP/cap.body" -D "$T_TMP/cap.head" -w '%{http_code}' --max-time 5 \
	-H "Authorization: Bearer $RELAY_T_TOKEN" "$(rurl j /subscribe/cap/)")
expect_eq relay_max_subscribers_503 "$code $(cat "$T_TMP/cap.body")" '503 {"error":"too many subscribers"}'
r=$(pub j cap -d x)
expect_match relay_max_subscribers_publish_still_202 "$r" '^202 '
bad=$("$PY" "$TOP/tests/tools/non_json_lines.py" "${RLOG[j]}" 2>&1)
expect_eq relay_log_json_every_line "$bad" ""
if grep -q '"event":"request".*"route":"publish".*"status":"202"' "${RLOG[j]}"; then
	ok relay_log_json_request_line
else fail relay_log_json_request_line "$(tail -n 3 "${RLOG[j]}")"; fi
relay_end_checks relay_limits
