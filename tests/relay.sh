# tests/relay.sh — webhook-relay serve for e2e scripts. Sourced after
# tests/lib.sh.
#   relay_start NAME ARGS...  start an instance on free loopback ports (main
#                             and ops) with ARGS; sets RPORT[NAME], ROPS[NAME],
#                             RPID[NAME], RLOG[NAME]; waits for /live
#   relay_stop NAME           SIGTERM, then wait for it
#   pub NAME CHANNEL [CURL ARGS...]  POST to /webhooks/CHANNEL...; prints
#                             "STATUS BODY"
RELAY_BIN=$BUILD/webhook-relay
declare -A RPORT ROPS RPID RLOG
relay_start() {
	local name=$1 try port ops i
	shift
	RLOG[$name]=$T_TMP/relay-$name.log
	for try in 1 2 3 4 5 6; do
		port=$((20000 + (RANDOM * 5 + try * 977) % 40000))
		ops=$((port + 1))
		# A fresh log for each try: a try that found its port taken leaves
		# nothing behind in the log the test reads.
		"$RELAY_BIN" serve --host 127.0.0.1 --port "$port" --ops-port "$ops" "$@" \
			>"${RLOG[$name]}" 2>&1 &
		RPID[$name]=$!
		for i in $(seq 1 100); do
			kill -0 "${RPID[$name]}" 2>/dev/null || break
			if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$ops/live"; then
				RPORT[$name]=$port
				ROPS[$name]=$ops
				at_exit "relay_stop $name"
				return 0
			fi
			sleep 0.05
		done
		kill "${RPID[$name]}" 2>/dev/null
		wait "${RPID[$name]}" 2>/dev/null
	done
	echo "relay_start: webhook-relay did not start; log:" >&2
	tail -n 20 "${RLOG[$name]}" >&2
	return 1
}
relay_stop() {
	local name=$1
	[ -n "${RPID[$name]:-}" ] || return 0
	kill -TERM "${RPID[$name]}" 2>/dev/null
	wait "${RPID[$name]}" 2>/dev/null
	RPID[$name]=
}
# url NAME PATH
rurl() { echo "http://127.0.0.1:${RPORT[$1]}$2"; }
pub() {
	local name=$1 ch=$2
	shift 2
	curl -s -o "$T_TMP/pub.body" -w '%{http_code}' --max-time 10 -X POST "$@" \
		"$(rurl "$name" "/webhooks/$ch")" >"$T_TMP/pub.code"
	echo "$(cat "$T_TMP/pub.code") $(cat "$T_TMP/pub.body")"
}
# expect_ids NAME GOT WANT : expect_eq for a list of event ids; fails when
# WANT is not one or more ids (an id an earlier step failed to get must not
# make a later check pass on two empty strings)
expect_ids() {
	if ! [[ "$3" =~ ^[0-9]+-[0-9]+(\ [0-9]+-[0-9]+)*$ ]]; then
		fail "$1" "nothing to compare: want '$3' is not a list of ids"
	else expect_eq "$1" "$2" "$3"; fi
}
# relay_end_checks PREFIX : stop every instance still running (SIGTERM) and
# check each exited 0 and no log holds a sanitizer report
relay_end_checks() {
	local n bad="" san=""
	for n in "${!RPID[@]}"; do
		[ -n "${RPID[$n]}" ] || continue
		kill -TERM "${RPID[$n]}" 2>/dev/null
		wait "${RPID[$n]}"
		local rc=$?
		[ "$rc" -eq 0 ] || bad+="$n:$rc "
		RPID[$n]=
	done
	for n in "${!RLOG[@]}"; do
		grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "${RLOG[$n]}" && san+="$n "
	done
	if [ -z "$bad" ]; then ok "${1}_instances_exit_0"; else fail "${1}_instances_exit_0" "$bad"; fi
	if [ -z "$san" ]; then ok "${1}_no_sanitizer_report"; else fail "${1}_no_sanitizer_report" "in the log of $san"; fi
}
