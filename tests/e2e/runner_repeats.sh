#!/usr/bin/env bash
# tests/e2e/runner_repeats.sh — a captured delivery cannot be made to run
# again, end to end: a real daemon, real remote-executor, real sshd.
#   - body-only schemes (hookdeck, github): the same body under a new key is
#     the delivery it repeats (busy, replay, or its next attempt), unless the
#     hook turns dedupe_body off;
#   - standard-webhooks: the signed webhook-id is the key, nothing unsigned
#     overrides it, and it cannot be changed without the secret;
#   - single-use JWTs: a jti used by one delivery is refused for another;
#   - signature headers are never stored;
#   - copies of one delivery in a burst never cost a concurrency slot, and a
#     copy of a queued delivery is 409 while the queue is full;
#   - /metrics does not tell an unauthenticated caller whether a job exists,
#     and it takes a bearer token when one is configured;
#   - a payload naming a member twice is refused.
# Signatures are made by the openssl CLI and tokens by PyJWT, independently
# of our code. Executions are counted on the target: every job appends a
# line to $MARK_DIR/<hook>.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

need_bins "$RUNNER_BIN" "$BUILD/remote-executor"
need_tools openssl sqlite3 curl
"$PY" -c 'import jwt' 2>/dev/null || { fail setup "python3-jwt missing (make deps)"; exit 1; }
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }

R=$T_TMP/r P=$T_TMP/p S=$T_TMP/secrets
mkdir -p "$R" "$P" "$S"
chmod 700 "$S"
at_exit kill_leftovers # background curls (BG_PIDS) and remote shells

(
	umask 077
	rand_hex 32 >"$S/hd"
	rand_hex 32 >"$S/gh"
	rand_hex 32 >"$S/jwt"
	head -c 24 /dev/urandom >"$S/std.raw"
	printf 'whsec_%s' "$(openssl base64 -A <"$S/std.raw")" >"$S/std"
	rand_hex 24 >"$S/metrics"
)
HD=$(cat "$S/hd") GH=$(cat "$S/gh") STD_HEX=$(od -An -tx1 "$S/std.raw" | tr -d ' \n')
MTOK=$(cat "$S/metrics")
DB=$T_TMP/runner.db CFG=$T_TMP/config.json

export S MARK_DIR SSH_USER SSHD_PORT KEY_ED25519 KNOWN_HOSTS DB BUILD
"$PY" "$TOP/tests/tools/repeats_config.py" "$CFG" || { fail setup "cannot write config"; exit 1; }

# ---- helpers ------------------------------------------------------------------
# hd_sig FILE / gh_sig FILE / std_sig ID TS FILE: openssl, not our code
hd_sig() { openssl dgst -sha256 -hmac "$HD" -binary "$1" | openssl base64 -A; }
gh_sig() { echo "sha256=$(openssl dgst -sha256 -hmac "$GH" -r "$1" | cut -d' ' -f1)"; }
std_sig() {
	{ printf '%s.%s.' "$1" "$2"; cat "$3"; } |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$STD_HEX" -binary | openssl base64 -A
}
# tok JSON-OVERRIDES : an HS256 token (PyJWT) for issuer "ci", exp now+300
tok() {
	local over=${1:-}
	[ -n "$over" ] || over='{}'
	"$PY" "$TOP/tests/tools/jwt_hs256.py" "$S/jwt" "$over"
}
# body NAME [JSON] : a payload file (by default a fresh unique one)
body() {
	if [ $# -ge 2 ]; then printf '%s' "$2"; else printf '{"event":"%s","n":"%s"}' "$1" "$(rand_hex 4)"; fi \
		>"$P/$1.json"
	echo "$P/$1.json"
}
# has_lines FILE N : FILE has at least N lines (for wait_until: evaluated at each try)
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
# hpost TAG HOOK FILE [curl args...] : hookdeck-signed over FILE (openssl), plus ARGS
hpost() {
	local tag=$1 hook=$2 f=$3
	shift 3
	rm -f "$R/$tag.kv"
	curl -s --max-time 30 -o "$R/$tag.body" -D "$R/$tag.hdr" -w '%{http_code}' \
		-H "x-hookdeck-signature: $(hd_sig "$f")" -H 'Content-Type: application/json' \
		--data-binary @"$f" "$@" "$(runner_url "$hook")" >"$R/$tag.code"
}
jobs_n() { db "SELECT count(*) FROM jobs WHERE hook = '$1'"; }
deliveries_n() { db "SELECT count(*) FROM deliveries WHERE hook = '$1'"; }
metric() { # metric REGEX : the value of the first /metrics line matching it, 0 when none
	curl -s --max-time 5 -H "Authorization: Bearer $MTOK" "http://127.0.0.1:$RUNNER_PORT/metrics" |
		grep -E "$1" | head -n 1 | awk '{print $2}' | grep . || echo 0
}

RUNNER_LOG=$T_TMP/runner.log
"$RUNNER_BIN" check-config "$CFG" >"$T_TMP/cc.out" 2>"$T_TMP/cc.err"
expect_eq cc_exit "$?" 0
check cc_warns_optout grep -qF 'warning: hooks[3]: idempotency.dedupe_body is off' "$T_TMP/cc.err"
check cc_audiences_tell_apart_silent bash -c "! grep -qF 'hooks[8]: accepts a signing secret of hooks[7]' '$T_TMP/cc.err'"
check cc_shared_secret_warned grep -qF 'warning: hooks[1]: accepts a signing secret of hooks[0] ("hd")' "$T_TMP/cc.err"
runner_start "$CFG" || { fail runner_start "webhook-runner did not start (see stderr)"; exit 1; }

# ==== hookdeck: the same body under a new key is the same delivery ===========
B=$(body push-1)
hpost hd_first hd "$B" -H 'Idempotency-Key: k-first'
answer hd_first hd_first code=200 status=succeeded
expect_eq hd_first_ran "$(runs hd)" 1
JOB1=$(jf hd_first job_id)
hpost hd_new_key hd "$B" -H 'Idempotency-Key: k-captured-1'
answer hd_new_key_replayed hd_new_key code=200 hdr:Idempotent-Replayed=true "job_id=$JOB1"
hpost hd_eventid_only hd "$B" -H 'x-hookdeck-eventid: evt_other'
answer hd_eventid_replayed hd_eventid_only code=200 hdr:Idempotent-Replayed=true "job_id=$JOB1"
expect_eq hd_ran_once "$(runs hd)/$(jobs_n hd)/$(deliveries_n hd)" "1/1/1"
check hd_log_names_the_repeat grep -q 'key=k-captured-1 same_body_as=k-first' "$RUNNER_LOG"
B2=$(body push-2)
hpost hd_other_body hd "$B2" -H 'Idempotency-Key: k-second'
answer hd_other_body_runs hd_other_body code=200 status=succeeded
expect_eq hd_other_body_ran "$(runs hd)" 2
# the known key with another body is still refused
hpost hd_key_other_body hd "$B2" -H 'Idempotency-Key: k-first'
answer hd_key_other_body_mismatch hd_key_other_body code=422
expect_eq hd_mismatch_ran_nothing "$(runs hd)/$(jobs_n hd)" "2/2"

# while the first delivery runs, a copy under a new key is busy
B=$(body slow-1)
hpost slow_first slow "$B" -H 'Idempotency-Key: s-1' &
BG_PIDS+=($!)
check slow_started wait_until 10 test -s "$MARK_DIR/slow.start"
hpost slow_copy slow "$B" -H 'Idempotency-Key: s-captured'
answer slow_copy_busy slow_copy code=409 hdr:Retry-After=10
wait "${BG_PIDS[-1]}"
answer slow_first slow_first code=200
expect_eq slow_ran_once "$(lines "$MARK_DIR/slow.start")/$(runs slow)/$(jobs_n slow)" "1/1/1"

# a failed delivery sent again under a new key is its own next attempt
B=$(body flaky-1)
hpost flaky_first flaky "$B" -H 'Idempotency-Key: f-1'
answer flaky_first_failed flaky_first code=500 attempt=1
hpost flaky_new_key flaky "$B" -H 'Idempotency-Key: f-captured'
answer flaky_new_key_is_attempt_2 flaky_new_key code=200 attempt=2 status=succeeded
expect_eq flaky_attempts "$(db "SELECT group_concat(key || ':' || attempt || ':' || state) FROM jobs WHERE hook = 'flaky'")" \
	"f-1:1:failed,f-1:2:succeeded"
hpost flaky_third flaky "$B" -H 'Idempotency-Key: f-third'
answer flaky_third_replayed flaky_third code=200 hdr:Idempotent-Replayed=true attempt=2
expect_eq flaky_started_twice "$(lines "$MARK_DIR/flaky.start")" 2

# the documented opt-out: a new key runs the same body again
B=$(body optout-1)
hpost optout_first optout "$B" -H 'Idempotency-Key: o-1'
hpost optout_new_key optout "$B" -H 'Idempotency-Key: o-2'
answer optout_new_key_runs optout_new_key code=200 status=succeeded has:output_tail=no
expect_eq optout_ran_twice "$(runs optout)" 2

# ==== github: the delivery id is unsigned, the body is what counts ===========
B=$(body gh-1)
gpost() { # gpost TAG FILE DELIVERY-ID
	rm -f "$R/$1.kv"
	curl -s --max-time 30 -o "$R/$1.body" -D "$R/$1.hdr" -w '%{http_code}' \
		-H "X-Hub-Signature-256: $(gh_sig "$2")" -H "X-GitHub-Delivery: $3" \
		-H 'X-GitHub-Event: push' --data-binary @"$2" "$(runner_url gh)" >"$R/$1.code"
}
gpost gh_first "$B" 72d3162e-cc78-11e3-81ab-4c9367dc0958
answer gh_first gh_first code=200
gpost gh_new_delivery_id "$B" 0b989ba4-242f-11e5-81e1-c7b6cd2a6b7d
answer gh_new_id_replayed gh_new_delivery_id code=200 hdr:Idempotent-Replayed=true
expect_eq gh_ran_once "$(runs gh)" 1

# ==== standard-webhooks: the signed webhook-id is the key =====================
B=$(body std-1)
NOW=$(date +%s)
spost() { # spost TAG ID TS SIG [curl args...]
	local tag=$1 id=$2 ts=$3 sig=$4
	shift 4
	rm -f "$R/$tag.kv"
	curl -s --max-time 30 -o "$R/$tag.body" -D "$R/$tag.hdr" -w '%{http_code}' \
		-H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \
		--data-binary @"$B" "$@" "$(runner_url std)" >"$R/$tag.code"
}
SIG=$(std_sig msg_1 "$NOW" "$B")
spost std_first msg_1 "$NOW" "$SIG" -H 'Idempotency-Key: unsigned-1'
answer std_first std_first code=200
spost std_other_idem_header msg_1 "$NOW" "$SIG" -H 'Idempotency-Key: unsigned-2'
answer std_unsigned_key_ignored std_other_idem_header code=200 hdr:Idempotent-Replayed=true
spost std_changed_id msg_2 "$NOW" "$SIG"
answer std_changed_id_refused std_changed_id code=401
spost std_resigned_new_id msg_2 "$NOW" "$(std_sig msg_2 "$NOW" "$B")"
answer std_new_signed_id_runs std_resigned_new_id code=200 hdr:Idempotent-Replayed=
expect_eq std_ran "$(runs std)/$(db "SELECT group_concat(key) FROM jobs WHERE hook = 'std'")" "2/msg_1,msg_2"

# ==== single-use tokens ========================================================
B=$(body once-1)
T1=$(tok '{"jti":"run-1"}')
hpost once_first once "$B" -H 'Idempotency-Key: j-1' -H "Authorization: Bearer $T1"
answer once_first once_first code=200
hpost once_retry once "$B" -H 'Idempotency-Key: j-1' -H "Authorization: Bearer $T1"
answer once_same_delivery_replayed once_retry code=200 hdr:Idempotent-Replayed=true
B2=$(body once-2)
hpost once_reused once "$B2" -H 'Idempotency-Key: j-2' -H "Authorization: Bearer $T1"
answer once_reused_refused once_reused code=403 'error=*jti was already used*'
expect_eq once_reused_ran_nothing "$(runs once)/$(jobs_n once)/$(deliveries_n once)" "1/1/1"
check once_reused_logged grep -q 'verify=jwt:replayed' "$RUNNER_LOG"
hpost once_no_jti once "$B2" -H 'Idempotency-Key: j-3' -H "Authorization: Bearer $(tok '{}')"
answer once_no_jti_refused once_no_jti code=403 'error=token rejected: no_jti'
hpost once_fresh_jti once "$B2" -H 'Idempotency-Key: j-4' -H "Authorization: Bearer $(tok '{"jti":"run-2"}')"
answer once_fresh_jti_runs once_fresh_jti code=200
expect_eq once_ran "$(runs once)" 2
expect_eq once_jtis "$(db "SELECT group_concat(jti || '=' || key) FROM (SELECT * FROM jwt_ids WHERE hook = 'once' ORDER BY jti)")" \
	"run-1=j-1,run-2=j-4"
# our own signer mints a fresh jti for a single_use hook, each time
rsign "$CFG" once "$B2" --idempotency-key j-5 >"$R/once_sign.hdrs" 2>/dev/null
rsign "$CFG" once "$B2" --idempotency-key j-6 >"$R/once_sign2.hdrs" 2>/dev/null
J1=$("$PY" -c 'import jwt,sys; print(jwt.decode(sys.argv[1], options={"verify_signature": False})["jti"])' \
	"$(sed -n 's/^Authorization: Bearer //p' "$R/once_sign.hdrs")" 2>&1)
J2=$("$PY" -c 'import jwt,sys; print(jwt.decode(sys.argv[1], options={"verify_signature": False})["jti"])' \
	"$(sed -n 's/^Authorization: Bearer //p' "$R/once_sign2.hdrs")" 2>&1)
expect_match sign_mints_jti "$J1" '^[0-9a-f]{32}$'
check sign_jti_differs test "$J1" != "$J2"

# ==== hooks sharing a secret ===================================================
# A delivery signed for aud-a posted to aud-b: its token's audience says no.
B=$(body aud-1)
TA=$(tok '{"aud":"deploy-a"}')
hpost aud_a aud-a "$B" -H 'Idempotency-Key: a-1' -H "Authorization: Bearer $TA"
answer aud_a_runs aud_a code=200
hpost aud_moved aud-b "$B" -H 'Idempotency-Key: a-1' -H "Authorization: Bearer $TA"
answer aud_moved_refused aud_moved code=403 'error=token rejected: aud'
expect_eq aud_b_ran_nothing "$(runs aud-b)/$(jobs_n aud-b)" "0/0"

# ==== duplicate member names ===================================================
B=$(body dup-1 '{"ref":"good","ref":"evil-$(touch pwned)"}')
hpost dup_names dup "$B" -H 'Idempotency-Key: d-1'
answer dup_names_refused dup_names code=422 'error=*names a member of one JSON object twice*'
B=$(body dup-2 '{"a":{"ref":1,"x":{"ref":2,"ref":3}},"ref":"ok"}')
hpost dup_nested dup "$B" -H 'Idempotency-Key: d-2'
answer dup_nested_refused dup_nested code=422
B=$(body dup-3 '{"a":{"ref":1},"b":{"ref":2},"ref":"fine"}')
hpost dup_same_name_other_objects dup "$B" -H 'Idempotency-Key: d-3'
answer dup_other_objects_fine dup_same_name_other_objects code=200
expect_eq dup_ran "$(runs dup)/$(cat "$MARK_DIR/dup" 2>/dev/null)/$(jobs_n dup)" "1/fine/1"

# ==== a burst of copies of one new delivery ====================================
# max_jobs 2: one copy runs, every other copy is 409 (none 429), and a slot
# stays free for an unrelated delivery meanwhile.
B=$(body storm-1)
for i in $(seq 1 12); do
	hpost "storm_$i" storm "$B" -H 'Idempotency-Key: storm-key' &
	BG_PIDS+=($!)
done
check storm_started wait_until 10 test -s "$MARK_DIR/storm.start"
B2=$(body unrelated-1)
hpost storm_unrelated hd "$B2" -H 'Idempotency-Key: unrelated-1'
answer storm_unrelated_runs storm_unrelated code=200
for i in $(seq 1 12); do wait "${BG_PIDS[-$i]}" 2>/dev/null; done
codes=$(for i in $(seq 1 12); do cat "$R/storm_$i.code"; echo; done | sort | uniq -c |
	awk '{printf "%s:%s ", $2, $1}')
expect_eq storm_codes "$codes" "200:1 409:11 "
expect_eq storm_ran_once "$(lines "$MARK_DIR/storm.start")/$(runs storm)/$(jobs_n storm)" "1/1/1"

# ==== async: a copy of a queued delivery is busy, not "queue full" ==============
B=$(body aq-done)
hpost aq_done aq "$B" -H 'Idempotency-Key: aq-done'
answer aq_done_accepted aq_done code=202
check aq_done_ran wait_until 20 has_lines "$MARK_DIR/aq" 1
B1=$(body aq-1) B2=$(body aq-2) B3=$(body aq-3) B4=$(body aq-4)
hpost aq_1 aq "$B1" -H 'Idempotency-Key: aq-1'
hpost aq_2 aq "$B2" -H 'Idempotency-Key: aq-2'
check aq_both_workers_busy wait_until 10 has_lines "$MARK_DIR/aq.start" 3
hpost aq_3 aq "$B3" -H 'Idempotency-Key: aq-3'
answer aq_3_queued aq_3 code=202
hpost aq_4 aq "$B4" -H 'Idempotency-Key: aq-4'
answer aq_4_queue_full aq_4 code=429
hpost aq_3_copy aq "$B3" -H 'Idempotency-Key: aq-3'
answer aq_3_copy_busy aq_3_copy code=409
hpost aq_3_new_key aq "$B3" -H 'Idempotency-Key: aq-3-captured'
answer aq_3_same_body_busy aq_3_new_key code=409
hpost aq_done_again aq "$(body aq-done-x "$(cat "$P/aq-done.json")")" -H 'Idempotency-Key: aq-done'
answer aq_replay_while_full aq_done_again code=200 hdr:Idempotent-Replayed=true
expect_eq aq_nothing_for_4 "$(db "SELECT count(*) FROM deliveries WHERE key = 'aq-4'")" 0
check aq_all_ran wait_until 30 has_lines "$MARK_DIR/aq" 4
expect_eq aq_each_ran_once "$(runs aq)/$(jobs_n aq)" "4/4"

# ==== what is stored, what /metrics tells ======================================
expect_eq no_signature_stored \
	"$(db "SELECT count(*) FROM deliveries WHERE lower(headers) LIKE '%signature%' OR lower(headers) LIKE '%authorization%'")" 0
expect_eq headers_still_stored "$(db "SELECT count(*) FROM deliveries WHERE hook = 'gh' AND headers LIKE '%X-GitHub-Event%'")" 1

before_dash=$(metric '^webhook_runner_requests_total\{hook="-",code="401"\}')
before_hd=$(metric '^webhook_runner_requests_total\{hook="hd",code="401"\}')
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$RUNNER_PORT/jobs/$JOB1"
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$RUNNER_PORT/jobs/999999"
after_dash=$(metric '^webhook_runner_requests_total\{hook="-",code="401"\}')
after_hd=$(metric '^webhook_runner_requests_total\{hook="hd",code="401"\}')
expect_eq jobs_unauth_counted_unlabelled "$((after_dash - before_dash))/$((after_hd - before_hd))" "2/0"
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$RUNNER_PORT/metrics")
expect_eq metrics_without_token "$CODE" 401
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Authorization: Bearer wrong-token-0123456789' \
	"http://127.0.0.1:$RUNNER_PORT/metrics")
expect_eq metrics_wrong_token "$CODE" 403
CODE=$(curl -s -o "$R/metrics.txt" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $MTOK" \
	"http://127.0.0.1:$RUNNER_PORT/metrics")
expect_eq metrics_with_token "$CODE" 200
check metrics_body grep -q '^webhook_runner_build_info' "$R/metrics.txt"

check nothing_injected test ! -e "$MARK_DIR/pwned"
check no_secret_in_log bash -c "! grep -qF -e '$HD' -e '$GH' -e '$MTOK' '$RUNNER_LOG'"
check no_sanitizer_report bash -c "! grep -q 'ERROR: AddressSanitizer\|runtime error:' '$RUNNER_LOG'"
