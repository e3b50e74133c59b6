#!/usr/bin/env bash
# relay_healthcheck.sh — `webhook-relay healthcheck` (relay/probe.c over
# common/httpprobe.c) against a real `webhook-relay serve`: 0 with the
# body's first line while /live answers, 1 with a one-line reason when the
# relay is gone, when the port answers something else, when a peer never
# answers (bounded by 3 s), and for every bad argument.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/relay.sh"
need_bins "$RELAY_BIN"
need_tools curl
export RELAY_T_TOKEN=sub-$(rand_hex 16)
relay_start h --token env:RELAY_T_TOKEN || { fail relay_start "relay did not start"; exit 1; }
OPS=${ROPS[h]}

out=$("$RELAY_BIN" healthcheck --port "$OPS" 2>&1)
rc=$?
expect_eq relay_healthcheck_live_exit "$rc" 0
expect_eq relay_healthcheck_live_says "$out" 'healthy: {"status":"live"}'
"$RELAY_BIN" healthcheck --url "http://127.0.0.1:$OPS/live" >/dev/null 2>&1
expect_eq relay_healthcheck_live_url "$?" 0
# No path: /live is the default; localhost is 127.0.0.1 (no name lookup).
"$RELAY_BIN" healthcheck --url "http://localhost:$OPS" >/dev/null 2>&1
expect_eq relay_healthcheck_default_path "$?" 0
# The public listener has no /live: an answer, but not 200.
out=$("$RELAY_BIN" healthcheck --url "http://127.0.0.1:${RPORT[h]}/live" 2>&1)
rc=$?
expect_eq relay_healthcheck_not_200_exit "$rc" 1
expect_match relay_healthcheck_not_200_says "$out" "^webhook-relay healthcheck: http://127\.0\.0\.1:${RPORT[h]}/live: answered [0-9]{3}"

relay_stop h
out=$("$RELAY_BIN" healthcheck --port "$OPS" 2>&1)
rc=$?
expect_eq relay_healthcheck_stopped_exit "$rc" 1
expect_match relay_healthcheck_stopped_says "$out" "^webhook-relay healthcheck: http://127\.0\.0\.1:$OPS/live: connect: Connection refused$"

# A peer that accepts and never answers: the 3 s bound.
"$PY" "$TOP/tests/tools/silent_listener.py" "$T_TMP/silent.port" &
SILENT_PID=$!
at_exit "kill $SILENT_PID"
if wait_until 10 test -s "$T_TMP/silent.port"; then
	t0=$(now_ms)
	out=$("$RELAY_BIN" healthcheck --port "$(cat "$T_TMP/silent.port")" 2>&1)
	rc=$?
	dt=$(($(now_ms) - t0))
	info "relay_healthcheck_silent took $dt ms"
	expect_eq relay_healthcheck_silent_exit "$rc" 1
	expect_match relay_healthcheck_silent_says "$out" ": answer: no answer within 3000 ms$"
	if [ "$dt" -ge 2900 ] && [ "$dt" -lt 6000 ]; then ok relay_healthcheck_silent_bounded; else
		fail relay_healthcheck_silent_bounded "took $dt ms"; fi
else
	fail relay_healthcheck_silent "the silent peer did not start"
fi

# Bad arguments: exit 1 (never Docker's reserved 2) and a reason.
bad_arg() { # NAME WANT-REGEX ARGS...
	local n=$1 want=$2 o r
	shift 2
	o=$("$RELAY_BIN" healthcheck "$@" 2>&1)
	r=$?
	if [ "$r" -eq 1 ] && [[ "$o" =~ $want ]]; then ok "$n"; else fail "$n" "rc=$r out=${o:0:200}"; fi
}
bad_arg relay_healthcheck_bad_port 'bad --port "0"' --port 0
bad_arg relay_healthcheck_port_not_number 'bad --port "x9"' --port x9
bad_arg relay_healthcheck_url_and_port '^usage:' --port 9 --url http://127.0.0.1:9/live
bad_arg relay_healthcheck_extra_arg '^usage:' extra
bad_arg relay_healthcheck_unknown_option '^usage:|unrecognized' --nope
bad_arg relay_healthcheck_not_http 'only http:// and https://' --url ftp://127.0.0.1/live
bad_arg relay_healthcheck_no_name_lookup 'host must be an IP address' --url http://example.com/live
"$RELAY_BIN" healthcheck --help | grep -q '^usage: webhook-relay healthcheck' &&
	ok relay_healthcheck_help || fail relay_healthcheck_help "no usage on --help"
