#!/usr/bin/env bash
# tests/e2e/runner_templates.sh — what a signed request carries besides its
# body's signature, end to end: the idempotency key (its shape, and that it is
# checked only after the signature) and template parameters taken from the
# payload, a header or a JWT claim (injection refused or passed literally,
# never run). A real daemon (tests/runner.sh) in front of a real OpenSSH sshd
# (tests/sshd.sh), real HTTP with curl; the world (secrets, config, payloads,
# helpers) is tests/runner.sh's verify_setup, shared with runner_verify.sh.
#
# A negative case asserts the HTTP status AND that its hook's mark file did not
# grow AND that the store's jobs and deliveries tables did not grow; a positive
# case asserts 200, exactly one new mark line with the expected content and
# exactly one new job and delivery. $MARK_DIR/pwned must never exist. At the
# end this daemon's log gets the same token, secret and sanitizer scans as
# runner_verify.sh's.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

verify_setup

RUNNER_LOG=$T_TMP/runner.log
runner_start "$CFG" || { fail runner_start "webhook-runner did not start (see stderr)"; exit 1; }
NJOBS=$(dbn jobs) NDEL=$(dbn deliveries)
SIG=$(hd_sig "$HD1" "$P/small.json")

# ==== idempotency key ============================================================
req idem_missing -H "x-hookdeck-signature: $SIG" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none idem_missing 400 hd
req idem_space -H "x-hookdeck-signature: $SIG" -H 'Idempotency-Key: a b' \
	--data-binary @"$P/small.json" "$(runner_url hd)"
expect_none idem_space 400 hd
req idem_empty -H "x-hookdeck-signature: $SIG" -H 'Idempotency-Key;' \
	--data-binary @"$P/small.json" "$(runner_url hd)"
expect_none idem_empty 400 hd
req idem_too_long -H "x-hookdeck-signature: $SIG" -H "Idempotency-Key: $(printf 'k%.0s' $(seq 1 201))" \
	--data-binary @"$P/small.json" "$(runner_url hd)"
expect_none idem_too_long 400 hd
req idem_non_ascii -H "x-hookdeck-signature: $SIG" -H $'Idempotency-Key: caf\xc3\xa9' \
	--data-binary @"$P/small.json" "$(runner_url hd)"
expect_none idem_non_ascii 400 hd
req idem_repeated -H "x-hookdeck-signature: $SIG" -H 'Idempotency-Key: dup-a' -H 'Idempotency-Key: dup-b' \
	--data-binary @"$P/small.json" "$(runner_url hd)"
expect_none idem_repeated 400 hd
# the key is checked only after the signature: an unsigned request with no key is 401
req idem_missing_unsigned --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none idem_missing_unsigned 401 hd
req idem_hookdeck_eventid -H "x-hookdeck-signature: $SIG" -H "x-hookdeck-eventid: evt_$(rand_hex 8)" \
	--data-binary @"$P/small.json" "$(runner_url hd)"
expect_run idem_hookdeck_eventid hd x


# ==== template parameters ========================================================
tmpl_post() { # NAME HOOK JSON-TEXT [CURL-ARGS...]
	local n=$1 hook=$2
	printf '%s' "$3" >"$P/$n.json"
	shift 3
	hd_post "$n" "$hook" "$P/$n.json" "$@"
}
tmpl_post tmpl_valid tmpl '{"ref":"refs/heads/main"}'
expect_run tmpl_valid tmpl refs/heads/main
INJ_DOLLAR="\$(touch $MARK_DIR/pwned)"
INJ_BACKTICK="\`touch $MARK_DIR/pwned\`"
INJ_QUOTE="'; touch $MARK_DIR/pwned #"
INJ_DQUOTE='"'
INJ_SEMI="main; touch $MARK_DIR/pwned"
INJ_BACKSLASH='a\b\\c\n'
for c in DOLLAR BACKTICK QUOTE DQUOTE SEMI BACKSLASH; do
	v=INJ_$c
	tmpl_post "tmpl_refuses_${c,,}" tmpl "$(jbody ref "${!v}")"
	expect_none "tmpl_refuses_${c,,}" 422 tmpl
done
tmpl_post tmpl_refuses_newline tmpl "$(jbody ref $'main\ntouch '"$MARK_DIR/pwned")"
expect_none tmpl_refuses_newline 422 tmpl
tmpl_post tmpl_invalid_json tmpl '{"ref":"main"'
expect_none tmpl_invalid_json 422 tmpl
tmpl_post tmpl_not_json tmpl 'ref=main'
expect_none tmpl_not_json 422 tmpl
tmpl_post tmpl_missing_value tmpl '{"other":"main"}'
expect_none tmpl_missing_value 422 tmpl
tmpl_post tmpl_object_value tmpl '{"ref":{"a":"main"}}'
expect_none tmpl_object_value 422 tmpl
tmpl_post tmpl_null_value tmpl '{"ref":null}'
expect_none tmpl_null_value 422 tmpl
tmpl_post tmpl_too_long tmpl "$(jbody ref "$(printf 'a%.0s' $(seq 1 300))")"
expect_none tmpl_too_long 422 tmpl
# template errors come after the signature: unsigned injection is 401, not 422
req tmpl_unsigned -H 'Idempotency-Key: t-unsigned' --data-binary "$(jbody ref "$INJ_DOLLAR")" "$(runner_url tmpl)"
expect_none tmpl_unsigned 401 tmpl
# A permissive pattern: values without control bytes run, and arrive literally.
for c in DOLLAR BACKTICK QUOTE DQUOTE SEMI BACKSLASH; do
	v=INJ_$c
	tmpl_post "loose_literal_${c,,}" loose "$(jbody v "${!v}")"
	expect_run "loose_literal_${c,,}" loose "${!v}"
done
tmpl_post loose_literal_unicode loose '{"v":"caf\u00e9 \u2603 $HOME"}'
expect_run loose_literal_unicode loose 'café ☃ $HOME'
tmpl_post loose_literal_number loose '{"v":12.5}'
expect_run loose_literal_number loose 12.5
tmpl_post loose_refuses_newline loose "$(jbody v $'x\ntouch '"$MARK_DIR/pwned")"
expect_none loose_refuses_newline 422 loose
tmpl_post loose_refuses_cr loose "$(jbody v $'x\rtouch '"$MARK_DIR/pwned")"
expect_none loose_refuses_cr 422 loose
tmpl_post loose_refuses_tab loose "$(jbody v $'x\ty')"
expect_none loose_refuses_tab 422 loose
tmpl_post loose_refuses_nul loose '{"v":"x\u0000; touch '"$MARK_DIR"'/pwned"}'
expect_none loose_refuses_nul 422 loose
tmpl_post loose_refuses_del loose '{"v":"x\u007f"}'
expect_none loose_refuses_del 422 loose
# cJSON ends a string at a NUL (raw or \u0000): the value must be refused, not cut
printf '{"v":"x\0; touch %s/pwned"}' "$MARK_DIR" >"$P/rawnul.json"
hd_post loose_refuses_raw_nul loose "$P/rawnul.json"
expect_none loose_refuses_raw_nul 422 loose
# ... but an escaped backslash followed by "u0000" is just text
tmpl_post loose_literal_escaped_u0000 loose '{"v":"a\\u0000"}'
expect_run loose_literal_escaped_u0000 loose 'a\u0000'
# the body must be one JSON document, nothing after it
tmpl_post loose_trailing_garbage loose '{"v":"a"} x'
expect_none loose_trailing_garbage 422 loose
tmpl_post loose_two_documents loose '{"v":"a"}{"v":"b"}'
expect_none loose_two_documents 422 loose
# Header and JWT-claim parameters.
hd_post param_header_valid hdrp "$P/small.json" -H 'X-Ref: abc-123'
expect_run param_header_valid hdrp abc-123
hd_post param_header_missing hdrp "$P/small.json"
expect_none param_header_missing 422 hdrp
hd_post param_header_bad hdrp "$P/small.json" -H 'X-Ref: abc;id'
expect_none param_header_bad 422 hdrp
hd_post param_header_injection hdrp "$P/small.json" -H "X-Ref: \$(touch $MARK_DIR/pwned)"
expect_none param_header_injection 422 hdrp
if [ "$HAVE_PYJWT" = 1 ]; then
	mint HS256 "$S/jwt_hs" '{"env":"staging"}' && jwt_post param_claim_valid claimp "$TOK"
	expect_run param_claim_valid claimp staging
	mint HS256 "$S/jwt_hs" "{\"env\":\"a; touch $MARK_DIR/pwned\"}" && jwt_post param_claim_bad claimp "$TOK"
	expect_none param_claim_bad 422 claimp
	mint HS256 "$S/jwt_hs" && jwt_post param_claim_missing claimp "$TOK"
	expect_none param_claim_missing 422 claimp
else
	skip param_claim "PyJWT missing"
fi
if sign_hdrs sign_claimp claimp "$P/small.json" --claims '{"env":"prod"}'; then
	req sign_claimp -H @"$H" --data-binary @"$P/small.json" "$(runner_url claimp)"
	expect_run sign_claimp claimp prod
else fail sign_claimp "sign failed: $(head -c 300 "$T_TMP/sign_claimp.sign.err")"; fi
check never_pwned test ! -e "$MARK_DIR/pwned"

# ==== the log ====================================================================
# The same scans as at the end of runner_verify.sh, over this daemon's log and
# CLI output, under names of their own.
runner_stop
verify_log_scans templates_ 4
exit 0
