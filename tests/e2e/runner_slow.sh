#!/usr/bin/env bash
# tests/e2e/runner_slow.sh — clients that are slow on purpose cannot take the
# daemon down. A real daemon (8 threads, request_timeout_ms 3000,
# min_request_rate 1024 B/s, keepalive_timeout_ms 1000, /healthz and /metrics
# also on server.ops_listen) against tests/tools/slow_client.py:
#   - each kind of slow client (headers, body, nothing at all, an idle
#     kept-alive connection) is cut off within its bound;
#   - an early refusal (unknown path, body over the cap, no signature)
#     answers at once and closes, without reading a body sent slowly;
#   - three times more slow clients than threads, reconnecting for 12 s: the
#     ops listener answers every probe at once, signed deliveries keep being
#     served (counted on the target), and every attacker is cut off.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

need_bins "$RUNNER_BIN" "$BUILD/remote-executor"
need_tools openssl curl
SLOW=$TOP/tests/tools/slow_client.py
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }

R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
at_exit kill_leftovers # background curls (BG_PIDS) and remote shells
(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T_TMP/hd")
HD=$(cat "$T_TMP/hd")
CFG=$T_TMP/config.json
export T_TMP MARK_DIR SSH_USER SSHD_PORT KEY_ED25519 KNOWN_HOSTS BUILD
# write_cfg OPS_PORT
write_cfg() {
	"$PY" "$TOP/tests/tools/slow_config.py" "$CFG" "$1"
}
RUNNER_LOG=$T_TMP/runner.log
started=0
for try in 1 2 3 4 5; do
	OPS_PORT=$((20000 + (RANDOM * 3 + try * 733) % 40000))
	write_cfg "$OPS_PORT" || { fail setup "cannot write config"; exit 1; }
	if runner_start "$CFG"; then started=1; break; fi
done
[ "$started" = 1 ] || { fail runner_start "webhook-runner did not start (see stderr)"; exit 1; }
OPS=http://127.0.0.1:$OPS_PORT

# slow MODE CLIENTS SECONDS INTERVAL_MS [more slow_client args] > JSON
slow() {
	local mode=$1 n=$2 secs=$3 iv=$4
	shift 4
	"$PY" "$SLOW" "$mode" 127.0.0.1 "$RUNNER_PORT" --clients "$n" --seconds "$secs" --interval "$iv" "$@"
}
# field JSON KEY
field() { "$PY" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
# lifetimes_between NAME JSON LO HI : every connection was cut, each lived LO..HI ms
lifetimes_between() {
	local n=$1 j=$2 lo=$3 hi=$4
	if "$PY" "$TOP/tests/tools/lifetimes_between.py" "$j" "$lo" "$hi"; then
		ok "$n"
	else
		fail "$n" "want every connection cut within $lo..$hi ms: $(head -c 300 <<<"$j")"
	fi
}

# ==== each kind of slow client, alone =========================================
# Below the minimum rate: cut about 1 s (the grace) after the worker took it.
J=$(slow headers 2 4 200)
lifetimes_between headers_below_rate_cut_at_grace "$J" 900 1800
J=$(slow idle 2 4 200)
lifetimes_between silent_connection_cut_at_grace "$J" 900 1800
J=$(slow body 2 4 200 --path /hooks/hd --length 60000)
lifetimes_between body_below_rate_cut_at_grace "$J" 900 1800
# Fast enough for the rate (64 bytes every 50 ms), never done: the request
# deadline (3000 ms) ends it.
J=$(slow headers 2 5 50 --chunk 64)
lifetimes_between headers_above_rate_cut_at_deadline "$J" 2900 3800
J=$(slow body 2 5 50 --chunk 64 --path /hooks/hd --length 60000)
lifetimes_between body_above_rate_cut_at_deadline "$J" 2900 3800
# An idle kept-alive connection: keepalive_timeout_ms after its answer.
J=$(slow keepalive 2 4 200)
lifetimes_between idle_keepalive_cut "$J" 900 1800

# ==== early refusals answer at once and close ==================================
# refused TAG PATH HEADER... : send headers promising 100000 bytes, send 10,
# then wait: the answer must come at once and the server must close (without
# reading the rest) within the 1 s lingering close
refused() {
	local tag=$1 path=$2
	shift 2
	"$PY" "$TOP/tests/tools/post_oversized.py" "$RUNNER_PORT" "$path" "$@" >"$R/$tag.out"
}
check_refused() { # NAME TAG STATUS
	local out
	out=$(cat "$R/$2.out")
	if [[ "$out" == "HTTP/1.1 $3 "* ]] && "$PY" "$TOP/tests/tools/refused_quickly.py" "$out"
	then ok "$1"; else fail "$1" "$out"; fi
}
refused r404 /nope
check_refused unknown_path_answered_and_closed r404 404
refused r404h /hooks/none
check_refused unknown_hook_answered_and_closed r404h 404
refused r401 /hooks/hd
check_refused no_signature_answered_and_closed r401 401
refused r413 /hooks/hd "x-hookdeck-signature: AAAA" # 100000 > max_body_bytes
check_refused over_cap_answered_and_closed r413 413
# the same with GET on a hook: 405
"$PY" "$TOP/tests/tools/get_with_body.py" "$RUNNER_PORT" >"$R/r405.out"
expect_match wrong_method_answered_and_closed "$(cat "$R/r405.out")" '^HTTP/1.1 405 .*\|closed_ms=(1?[0-9]{1,3})$'

# ==== more slow clients than threads ===========================================
# 24 dribblers (3 per thread) for 12 s. Meanwhile the ops listener is probed
# every 0.5 s and a signed delivery is sent every second, each with its own
# body and key, signed by openssl.
slow headers 24 12 200 >"$R/flood.json" &
FLOOD=$!
BG_PIDS+=($FLOOD)
sleep 1
probes=0 probe_bad=0 sent=0 answered=0 slowest=0
t_end=$(($(now_ms) + 10000))
while [ "$(now_ms)" -lt "$t_end" ]; do
	for k in 1 2; do
		t0=$(now_ms)
		c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$OPS/healthz")
		probes=$((probes + 1))
		{ [ "$c" = 200 ] && [ $(($(now_ms) - t0)) -lt 1000 ]; } || probe_bad=$((probe_bad + 1))
		sleep 0.5
	done
	sent=$((sent + 1))
	printf '{"n":%d,"r":"%s"}' "$sent" "$RANDOM" >"$P/d$sent.json"
	sig=$(openssl dgst -sha256 -hmac "$HD" -binary "$P/d$sent.json" | openssl base64 -A)
	t0=$(now_ms)
	c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 15 -H "x-hookdeck-signature: $sig" \
		-H "Idempotency-Key: flood-$sent" --data-binary @"$P/d$sent.json" "$(runner_url hd)")
	dt=$(($(now_ms) - t0))
	[ "$c" = 200 ] && answered=$((answered + 1))
	[ "$dt" -gt "$slowest" ] && slowest=$dt
done
wait "$FLOOD"
expect_eq flood_ops_listener_answers_every_probe "$probe_bad of $probes slow or failed" "0 of $probes slow or failed"
expect_eq flood_deliveries_served "$answered of $sent" "$sent of $sent"
# a delivery waits for at most (24 dribblers / 8 threads + 1) cut-offs of ~1 s
check flood_delivery_latency_bounded test "$slowest" -lt 6000
expect_eq flood_each_delivery_ran_once "$(lines "$MARK_DIR/hd")" "$sent"
lifetimes_between flood_every_attacker_cut "$(cat "$R/flood.json")" 900 6500
check flood_many_attackers_cut test "$(field "$(cat "$R/flood.json")" connections)" -ge 48
check no_sanitizer_report bash -c "! grep -q 'ERROR: AddressSanitizer\|runtime error:' '$RUNNER_LOG'"
