#!/usr/bin/env bash
# tests/e2e/runner_adversarial.sh — bad input and faults the other scripts do
# not cover, against a real daemon, executor and sshd:
#   utf8     parameter values that are not well-formed UTF-8 (raw Latin-1,
#            overlong, surrogates, past U+10FFFF) → 422; well-formed → 200
#   headers  one huge header, too many headers, a huge request line
#   slow     slowloris (headers a byte at a time), a stalled body, and more
#            slow clients than threads: each is cut off by
#            server.request_timeout_ms, and a good request still gets in
#   store    disk full (a tmpfs filled to the brim) and a read-only store
#            (the tmpfs remounted ro): 503 + Retry-After, nothing runs, the
#            daemon stays up, and it recovers by itself when the fault goes
#   storm    100 concurrent identical deliveries → exactly one execution
# Every refusal is checked three ways: the status code, no execution (the
# job appends to $MARK_DIR/<name>), and nothing recorded (the store's row
# counts did not move). Every wait and every client is bounded in time.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX"
need_tools sqlite3
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
T_START=$(now_ms)
R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"

alive() { kill -0 "$RUNNER_PID" 2>/dev/null; }

# ------------------------------------------------------------------ fixtures
SECRET=$T_TMP/hookdeck.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET"
# The job appends the value's length in bytes to $MARK_DIR/<name>: an
# execution is a line.
CMD="printf %s {{v}} | wc -c >>$MARK_DIR/{{name}}"
adv_cfg() { # FILE STORE_PATH
	mkcfg "$1" "$(cat <<JSON
    { "id": "adv",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$SECRET"] },
      "job": { "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT", "identity": "$KEY_ED25519",
               "known_hosts": "$KNOWN_HOSTS", "command": "$CMD",
               "params": { "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" },
                           "v": { "from": "payload", "path": "v", "pattern": ".*" } },
               "timeout_s": 20, "connect_timeout_s": 3, "handshake_timeout_s": 5 } }
JSON
)" store="$2" threads=8 request_timeout_ms=1500 min_request_rate=0 max_body_bytes=65536
}
CFG=$T_TMP/adv.json
DB=$T_TMP/adv.db
adv_cfg "$CFG" "$DB"
runner_start "$CFG" || { fail runner_start "webhook-runner did not start"; exit 1; }

N=0
# deliver TAG PAYLOAD_FILE [curl args...] : sign (fresh key), post; sets CODE
deliver() {
	local tag=$1 pl=$2
	shift 2
	N=$((N + 1))
	send "$tag" adv "$pl" "adv-$N-$tag" "$@"
}
# refused NAME WANT_CODE TAG : the last delivery got WANT_CODE, ran nothing
# and recorded nothing (BEFORE holds the counts taken before it)
refused() {
	local got_counts
	got_counts=$(counts)
	if [ "$CODE" = "$2" ] && [ "$(runs "$3")" = 0 ] && [ "$got_counts" = "$BEFORE" ]; then ok "$1"; else
		fail "$1" "code $CODE (want $2), runs $(runs "$3"), store $BEFORE -> $got_counts, body: $(head -c 200 "$R/$3.body" 2>/dev/null)"
	fi
}
# raw_pl NAME PYTHON-BYTES-EXPR : a payload file with exactly those bytes
raw_pl() {
	$PY -c 'import sys; open(sys.argv[1], "wb").write(eval(sys.argv[2]))' "$P/$1.json" "$2"
	echo "$P/$1.json"
}

# ------------------------------------------------------------------ utf8
declare -A UTF8_BAD=(
	[utf8_latin1]='b"{\"name\":\"utf8-latin1\",\"v\":\"caf\xe9\"}"'
	[utf8_lone_continuation]='b"{\"name\":\"utf8-lone-continuation\",\"v\":\"a\x80b\"}"'
	[utf8_truncated]='b"{\"name\":\"utf8-truncated\",\"v\":\"\xe2\x82\"}"'
	[utf8_overlong_slash]='b"{\"name\":\"utf8-overlong-slash\",\"v\":\"..\xc0\xaf..\xc0\xafetc\"}"'
	[utf8_surrogate_raw]='b"{\"name\":\"utf8-surrogate-raw\",\"v\":\"\xed\xa0\x80\"}"'
	[utf8_surrogate_escape]='b"{\"name\":\"utf8-surrogate-escape\",\"v\":\"\\ud800\"}"'
	[utf8_past_max]='b"{\"name\":\"utf8-past-max\",\"v\":\"\xf4\x90\x80\x80\"}"'
	[utf8_ff]='b"{\"name\":\"utf8-ff\",\"v\":\"\xff\xfe\"}"'
	[utf8_bad_in_other_field]='b"{\"name\":\"utf8-bad-in-other-field\",\"v\":\"ok\",\"x\":\"\xff\"}"'
)
for t in $(printf '%s\n' "${!UTF8_BAD[@]}" | sort); do
	BEFORE=$(counts)
	f=$(raw_pl "$t" "${UTF8_BAD[$t]}")
	deliver "$t" "$f"
	name=${t//_/-}
	if [ "$t" = utf8_bad_in_other_field ]; then
		# a field no parameter reads: the body is JSON, the job runs
		if [ "$CODE" = 200 ] && [ "$(runs "$name")" = 1 ]; then ok "$t"; else
			fail "$t" "code $CODE, runs $(runs "$name")"; fi
	else
		refused "$t" 422 "$name"
	fi
done
expect_match utf8_error_names_the_parameter "$(cat "$R/utf8_latin1.body")" 'parameter \\?"v\\?": is not valid UTF-8'
BEFORE=$(counts)
f=$(raw_pl utf8_ok 'b"{\"name\":\"utf8-ok\",\"v\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}"')
deliver utf8_ok "$f"
expect_eq utf8_well_formed_runs "$CODE $(runs utf8-ok) $(tr -d ' ' <"$MARK_DIR/utf8-ok" 2>/dev/null)" "200 1 14"

# ------------------------------------------------------------------ headers
OKPL=$(raw_pl hdr 'b"{\"name\":\"hdr\",\"v\":\"x\"}"')
BEFORE=$(counts)
head -c 100000 /dev/zero | tr '\0' a >"$T_TMP/pad"
deliver hdr_huge "$OKPL" -H "X-Pad: $(cat "$T_TMP/pad")"
[[ "$CODE" =~ ^4[0-9][0-9]$ ]] && CODE=4xx
refused hdr_huge_100k 4xx hdr
BEFORE=$(counts)
MANY=()
for i in $(seq 1 200); do MANY+=(-H "X-Many-$i: $i"); done
deliver hdr_many "$OKPL" "${MANY[@]}"
[[ "$CODE" =~ ^4[0-9][0-9]$ ]] && CODE=4xx
refused hdr_many_200 4xx hdr
BEFORE=$(counts)
CODE=$(curl -s -o "$R/hdr.body" -w '%{http_code}' --max-time 10 -H @"$R/hdr_huge.hdrs" \
	--data-binary @"$OKPL" "$(runner_url adv)?q=$(head -c 70000 "$T_TMP/pad")")
[[ "$CODE" =~ ^4[0-9][0-9]$ ]] && CODE=4xx
refused request_line_huge 4xx hdr
deliver hdr_control "$OKPL"
expect_eq headers_then_good_request_runs "$CODE $(runs hdr)" "200 1"
alive && ok headers_daemon_alive || fail headers_daemon_alive "daemon gone"

# ------------------------------------------------------------------ slow clients
# tests/tools/slow_drip.py MODE PORT SECS : one client, prints "closed MS"
# when the server hangs up, or "open" when it was still connected after SECS
# Headers, and a stalled body: request_timeout_ms bounds the whole request
# (our CivetWeb patches, third_party/patches/), so both are cut off at it,
# give or take the slack (config/README.md). The minimum rate is off here,
# so the deadline alone is what cuts (runner_slow.sh tests the rate). The
# body carries a signature header: without one it is refused unread.
BEFORE=$(counts)
for m in headers:3500 body:3500; do
	r=$($PY "$TOP/tests/tools/slow_drip.py" "${m%:*}" "$RUNNER_PORT" 10)
	ms=${r#closed }
	if [[ "$r" == closed* ]] && [ "$ms" -ge 1000 ] && [ "$ms" -lt "${m#*:}" ]; then info "slow_${m%:*}_cut_off: $ms ms (request_timeout_ms 1500)"; ok "slow_${m%:*}_cut_off"; else
		fail "slow_${m%:*}_cut_off" "$r (request_timeout_ms 1500, bound ${m#*:} ms)"; fi
done
# 12 slowloris clients against 8 threads: every thread is held, until the
# request timeout frees them; a good request waiting behind them gets in.
SLOW_PIDS=()
for i in $(seq 1 12); do
	$PY "$TOP/tests/tools/slow_drip.py" headers "$RUNNER_PORT" 8 >"$R/slow.$i" 2>&1 &
	SLOW_PIDS+=($!)
done
sleep 0.5
T0=$(now_ms)
OKPL2=$(raw_pl slowok 'b"{\"name\":\"slowok\",\"v\":\"x\"}"')
deliver slow_good "$OKPL2"
ELAPSED=$(($(now_ms) - T0))
wait "${SLOW_PIDS[@]}"
info "slow_flood_good_request_served: $ELAPSED ms"
expect_eq slow_flood_good_request_served "$CODE $(runs slowok)" "200 1"
[ "$ELAPSED" -lt 10000 ] && ok slow_flood_good_request_bounded || fail slow_flood_good_request_bounded "$ELAPSED ms"
CUT=$(cat "$R"/slow.* | grep -c '^closed')
expect_eq slow_flood_all_cut_off "$CUT" 12
# nothing the slow clients sent was recorded (the good request added 1/1)
expect_eq slow_nothing_recorded "$(counts)" "$(( ${BEFORE%/*} + 1 ))/$(( ${BEFORE#*/} + 1 ))"
alive && ok slow_daemon_alive || fail slow_daemon_alive "daemon gone"

# ------------------------------------------------------------------ storm of 100
STORMPL=$(raw_pl storm 'b"{\"name\":\"storm\",\"v\":\"x\"}"')
rsign "$CFG" adv "$STORMPL" --idempotency-key adv-storm >"$R/storm.hdrs"
seq 1 100 | xargs -P 100 -I{} curl -s --max-time 40 -o /dev/null -w '%{http_code}\n' \
	-H @"$R/storm.hdrs" --data-binary @"$STORMPL" "$(runner_url adv)" >"$R/storm.codes" 2>/dev/null
BADC=$(grep -cvE '^(200|409|429)$' "$R/storm.codes")
info "storm_100_answers: $(sort "$R/storm.codes" | uniq -c | tr -s ' \n' ' ')"
expect_eq storm_100_answers "$BADC" 0
expect_eq storm_100_exactly_one_execution "$(runs storm)" 1
expect_eq storm_100_one_attempt "$(db "select count(*) from jobs where key='adv-storm'")" 1
runner_stop

# ------------------------------------------------------------------ store faults
# The store on a small tmpfs of its own: filled up (ENOSPC), then remounted
# read-only (EROFS). Needs mount(2), i.e. root with CAP_SYS_ADMIN.
MNT=$T_TMP/mnt
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=4m,mode=0755 tmpfs "$MNT" 2>"$R/mount.err"; then
	skip store_faults "cannot mount a tmpfs here: $(head -c 200 "$R/mount.err")"
else
	at_exit "umount -l '$MNT'"
	DB=$MNT/store.db
	CFG=$T_TMP/adv-fault.json
	adv_cfg "$CFG" "$DB"
	RUNNER_LOG=$T_TMP/fault.log
	runner_start "$CFG" || { fail runner_start "webhook-runner did not start on the tmpfs"; exit 1; }
	FPL=$(raw_pl fault 'b"{\"name\":\"fault\",\"v\":\"x\"}"')
	deliver fault_before "$FPL"
	expect_eq store_fault_baseline "$CODE $(runs fault)" "200 1"
	# disk full: fill every free block
	dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
	BEFORE=$(counts)
	FULLPL=$(raw_pl full "b'{\"name\":\"full\",\"v\":\"x\",\"pad\":\"' + b'y' * 60000 + b'\"}'")
	deliver full "$FULLPL"
	refused store_full_503 503 full
	expect_match store_full_retry_after "$(tr -d '\r' <"$R/full.hdr")" $'\n[Rr]etry-[Aa]fter: [0-9]+'
	alive && ok store_full_daemon_alive || fail store_full_daemon_alive "daemon gone"
	# /healthz probes the store with a read and by taking the write lock
	# (BEGIN IMMEDIATE, then a rollback): neither needs a free block, so a
	# full disk still answers 200 with the store "ok"; only a write fails.
	curl -s -o "$R/hz.body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$RUNNER_PORT/healthz" >"$R/hz.code"
	answer store_full_healthz_answers hz code=200 status=ok store=ok
	# space comes back: the same delivery (same key) is a first attempt
	rm -f "$MNT/filler"
	CODE=$(post adv "$R/full.hdrs" "$FULLPL" "$R/full2" --max-time 30)
	expect_eq store_full_recovers "$CODE $(runs full) $(db "select attempt||':'||state from jobs where key like '%-full'")" \
		"200 1 1:succeeded"
	runner_stop
	# A read-only store (remounting under a running daemon is refused while
	# it holds the file open for writing): the daemon does not start, and
	# says why; a later start on the writable store recovers everything.
	mount -o remount,ro "$MNT" 2>"$R/mount.err" || fail store_readonly "remount ro: $(cat "$R/mount.err")"
	"$RUNNER_BIN" --config "$CFG" --host 127.0.0.1 --port 1 >"$R/ro.out" 2>&1 </dev/null
	RO_RC=$?
	expect_eq store_readonly_refuses_to_start "$RO_RC" 1
	expect_match store_readonly_says_why "$(cat "$R/ro.out")" "store $DB: .*(read-only|Read-only|readonly)"
	mount -o remount,rw "$MNT"
	runner_start "$CFG" || { fail runner_start "no restart on the tmpfs"; exit 1; }
	expect_eq store_readonly_then_history_intact "$(db "select group_concat(substr(key, instr(substr(key, 5), '-') + 5)||':'||state, ' ') from (select * from jobs order by id)")" \
		"fault_before:succeeded full:succeeded"
	grep -q 'status=503' "$T_TMP/fault.log" && ok store_fault_logged || fail store_fault_logged "no 503 request line in the log"
	runner_stop
fi

SAN=$(grep -hE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T_TMP"/*.log 2>/dev/null | head -n 3)
expect_eq sanitizer_clean "${SAN:-clean}" clean
info "total_time $(($(now_ms) - T_START)) ms"
