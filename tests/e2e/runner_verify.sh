#!/usr/bin/env bash
# tests/e2e/runner_verify.sh — the verification side of webhook-runner, end to
# end: a real daemon (tests/runner.sh) in front of a real OpenSSH sshd
# (tests/sshd.sh), real HTTP with curl. Everything up to the point a job would
# run: routing and size caps, the three signature schemes, JWT policy,
# check-config and `sign` (idempotency key and templates: runner_templates.sh).
#
# Test inputs come from independent implementations: openssl dgst for every
# HMAC, GitHub's published test vector, Debian's PyJWT for tokens (plus a few
# hand-built tokens for what PyJWT refuses to mint), and also our own `sign`.
#
# Every hook's command has a side effect ($MARK_DIR/<hook> gets a line). A
# negative case asserts the HTTP status AND that its hook's mark file did not
# grow AND that the store's jobs and deliveries tables did not grow; a positive
# case asserts 200, exactly one new mark line (with the expected content when
# given) and exactly one new job and delivery. $MARK_DIR/pwned must never
# exist. At the end the daemon's log must hold no token and no secret used
# here, and no sanitizer report.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

verify_setup

# ---- start ----------------------------------------------------------------------
RUNNER_LOG=$T_TMP/runner.log
runner_start "$CFG" || { fail runner_start "webhook-runner did not start (see stderr)"; exit 1; }
check store_created test -f "$DB"
NJOBS=$(dbn jobs) NDEL=$(dbn deliveries)
expect_eq store_empty_at_start "$NJOBS/$NDEL" "0/0"
BASE=http://127.0.0.1:$RUNNER_PORT

# ==== routing and caps ===========================================================
req route_unknown_hook -H "x-hookdeck-signature: $(hd_sig "$HD1" "$P/small.json")" \
	-H 'Idempotency-Key: r1' --data-binary @"$P/small.json" "$BASE/hooks/nope"
expect_none route_unknown_hook 404 -
req route_hook_subpath -H "x-hookdeck-signature: $(hd_sig "$HD1" "$P/small.json")" \
	-H 'Idempotency-Key: r2' --data-binary @"$P/small.json" "$BASE/hooks/hd/x"
expect_none route_hook_subpath 404 hd
req route_hooks_empty_id --data-binary @"$P/small.json" "$BASE/hooks/"
expect_none route_hooks_empty_id 404 -
req route_get_hook "$BASE/hooks/hd"
expect_none route_get_hook 405 hd '^Allow: POST'
req route_put_hook -X PUT -H "x-hookdeck-signature: $(hd_sig "$HD1" "$P/small.json")" \
	-H 'Idempotency-Key: r3' --data-binary @"$P/small.json" "$BASE/hooks/hd"
expect_none route_put_hook 405 hd '^Allow: POST'
req route_unknown_path "$BASE/nope"
expect_none route_unknown_path 404 -
req route_root "$BASE/"
expect_none route_root 404 -

req healthz "$BASE/healthz"
if [ "$CODE" = 200 ] && "$PY" "$TOP/tests/tools/healthz_ok.py" "$R.body" 2>"$T_TMP/hz.err" &&
	grep -qi '^Content-Type: application/json' "$R.hdr"; then ok healthz; else
	fail healthz "status $CODE body $(head -c 200 "$R.body") $(tail -n 1 "$T_TMP/hz.err")"
fi
req healthz_post -X POST --data-binary x "$BASE/healthz"
expect_none healthz_post 405 - '^Allow: GET'

# Bodies over server.max_body_bytes (4096), otherwise valid: signed, keyed.
hd_post cap_content_length_over hd "$P/over.json"
expect_none cap_content_length_over 413 hd
hd_post cap_chunked_over hd "$P/over.json" -H 'Transfer-Encoding: chunked'
expect_none cap_chunked_over 413 hd
hd_post cap_content_length_huge hd "$P/huge.json"
expect_none cap_content_length_huge 413 hd
hd_post cap_chunked_huge hd "$P/huge.json" -H 'Transfer-Encoding: chunked'
expect_none cap_chunked_huge 413 hd
hd_post cap_content_length_exact hd "$P/exact.json"
expect_run cap_content_length_exact hd x
hd_post cap_chunked_exact hd "$P/exact.json" -H 'Transfer-Encoding: chunked'
expect_run cap_chunked_exact hd x
# the daemon still serves after refusing bodies and closing
req healthz_after_caps "$BASE/healthz"
expect_eq healthz_after_caps "$CODE" 200

# ==== hookdeck scheme ============================================================
hd_post hd_valid hd "$P/small.json"
expect_run hd_valid hd x
newkey
req hd_missing -H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none hd_missing 401 hd
newkey
req hd_wrong_secret -H "x-hookdeck-signature: $(hd_sig "$(rand_hex 32)" "$P/small.json")" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none hd_wrong_secret 401 hd
newkey # signed over small.json, sent small2.json (one byte differs)
req hd_body_changed -H "x-hookdeck-signature: $(hd_sig "$HD1" "$P/small.json")" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small2.json" "$(runner_url hd)"
expect_none hd_body_changed 401 hd
newkey
req hd_not_base64 -H 'x-hookdeck-signature: !!not*base64!!' \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none hd_not_base64 401 hd
newkey
req hd_empty -H 'x-hookdeck-signature;' \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none hd_empty 401 hd
newkey
SIG=$(hd_sig "$HD1" "$P/small.json")
req hd_truncated -H "x-hookdeck-signature: ${SIG:0:40}" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none hd_truncated 401 hd
newkey
req hd_hex_not_base64 -H "x-hookdeck-signature: $(openssl dgst -sha256 -hmac "$HD1" -r "$P/small.json" | cut -d' ' -f1)" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none hd_hex_not_base64 401 hd
newkey
req hd_rotation_sig2_only -H "x-hookdeck-signature-2: $(hd_sig "$HD1" "$P/small.json")" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_run hd_rotation_sig2_only hd x
newkey
req hd_rotation_bad_first_good_second -H "x-hookdeck-signature: $(hd_sig "$(rand_hex 32)" "$P/small.json")" \
	-H "x-hookdeck-signature-2: $(hd_sig "$HD1" "$P/small.json")" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_run hd_rotation_bad_first_good_second hd x
newkey # the second configured secret (its file ends in a newline, which is not part of it)
req hd_second_secret -H "x-hookdeck-signature: $(hd_sig "$HD2" "$P/small.json")" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_run hd_second_secret hd x
newkey
req hd_secret_with_newline_refused -H "x-hookdeck-signature: $(hd_sig "$HD2"$'\n' "$P/small.json")" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none hd_secret_with_newline_refused 401 hd
newkey # both copies valid: the repetition alone is refused
req hd_duplicate_header -H "x-hookdeck-signature: $SIG" -H "x-hookdeck-signature: $SIG" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none hd_duplicate_header 401 hd
newkey
req hd_duplicate_header_2 -H "x-hookdeck-signature-2: $SIG" -H "x-hookdeck-signature-2: $SIG" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/small.json" "$(runner_url hd)"
expect_none hd_duplicate_header_2 401 hd
if sign_hdrs sign_hd hd "$P/small.json"; then
	req sign_hd -H @"$H" --data-binary @"$P/small.json" "$(runner_url hd)"
	expect_run sign_hd hd x
else fail sign_hd "sign failed: $(head -c 300 "$T_TMP/sign_hd.sign.err")"; fi

# ==== github scheme ==============================================================
GH_VEC=sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
expect_eq gh_vector_openssl "sha256=$(openssl dgst -sha256 -hmac "$GH_SECRET" -r "$P/hello" | cut -d' ' -f1)" "$GH_VEC"
newkey
req gh_vector -H "X-Hub-Signature-256: $GH_VEC" -H "Idempotency-Key: $KEY" \
	--data-binary @"$P/hello" "$(runner_url gh)"
expect_run gh_vector gh x
# verify_hmac.c reads the hex digits in either case
req gh_uppercase_hex -H "X-Hub-Signature-256: sha256=$(echo "${GH_VEC#sha256=}" | tr a-f A-F)" \
	-H "X-GitHub-Delivery: $(rand_hex 8)" --data-binary @"$P/hello" "$(runner_url gh)"
expect_run gh_uppercase_hex gh x
newkey
req gh_sha1_prefix -H "X-Hub-Signature-256: sha1=${GH_VEC#sha256=}" -H "Idempotency-Key: $KEY" \
	--data-binary @"$P/hello" "$(runner_url gh)"
expect_none gh_sha1_prefix 401 gh
newkey
req gh_no_prefix -H "X-Hub-Signature-256: ${GH_VEC#sha256=}" -H "Idempotency-Key: $KEY" \
	--data-binary @"$P/hello" "$(runner_url gh)"
expect_none gh_no_prefix 401 gh
newkey
req gh_missing -H "Idempotency-Key: $KEY" --data-binary @"$P/hello" "$(runner_url gh)"
expect_none gh_missing 401 gh
newkey # the vector over another body
req gh_other_body -H "X-Hub-Signature-256: $GH_VEC" -H "Idempotency-Key: $KEY" \
	--data-binary 'Hello, World?' "$(runner_url gh)"
expect_none gh_other_body 401 gh
newkey # the old header (HMAC-SHA1) alone is not accepted
req gh_sha1_header_only -H "X-Hub-Signature: sha1=$(openssl dgst -sha1 -hmac "$GH_SECRET" -r "$P/hello" | cut -d' ' -f1)" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/hello" "$(runner_url gh)"
expect_none gh_sha1_header_only 401 gh
newkey
req gh_duplicate_header -H "X-Hub-Signature-256: $GH_VEC" -H "X-Hub-Signature-256: $GH_VEC" \
	-H "Idempotency-Key: $KEY" --data-binary @"$P/hello" "$(runner_url gh)"
expect_none gh_duplicate_header 401 gh
if sign_hdrs sign_gh gh "$P/hello"; then
	grep -qx "X-Hub-Signature-256: $GH_VEC" "$H" && ok sign_gh_matches_vector ||
		fail sign_gh_matches_vector "sign printed $(grep -i hub-signature "$H")"
	req sign_gh -H @"$H" --data-binary @"$P/hello" "$(runner_url gh)"
	expect_run sign_gh gh x
else fail sign_gh "sign failed: $(head -c 300 "$T_TMP/sign_gh.sign.err")"; fi

# ==== standard webhooks ==========================================================
# std_post NAME TS SIGNATURE-HEADER-VALUE [ID]
std_post() {
	local n=$1 ts=$2 sig=$3 id=${4:-msg_$(rand_hex 8)}
	STD_ID=$id
	req "$n" -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: $sig" \
		-H 'Content-Type: application/json' --data-binary @"$P/small.json" "$(runner_url std)"
}
NOW=$(date +%s) ID=msg_$(rand_hex 8)
std_post std_valid "$NOW" "v1,$(std_sig "$STD_HEX" "$ID" "$NOW" "$P/small.json")" "$ID"
expect_run std_valid std x
NOW=$(date +%s) ID=msg_$(rand_hex 8) TS=$((NOW - 60))
std_post std_within_tolerance "$TS" "v1,$(std_sig "$STD_HEX" "$ID" "$TS" "$P/small.json")" "$ID"
expect_run std_within_tolerance std x
NOW=$(date +%s) ID=msg_$(rand_hex 8) TS=$((NOW - 3600))
std_post std_stale "$TS" "v1,$(std_sig "$STD_HEX" "$ID" "$TS" "$P/small.json")" "$ID"
expect_none std_stale 401 std
NOW=$(date +%s) ID=msg_$(rand_hex 8) TS=$((NOW + 3600))
std_post std_future "$TS" "v1,$(std_sig "$STD_HEX" "$ID" "$TS" "$P/small.json")" "$ID"
expect_none std_future 401 std
NOW=$(date +%s) ID=msg_$(rand_hex 8)
GOOD=$(std_sig "$STD_HEX" "$ID" "$NOW" "$P/small.json")
WRONG=$(std_sig "$(rand_hex 24)" "$ID" "$NOW" "$P/small.json")
std_post std_multiple_entries "$NOW" "v1a,$(rand_hex 16) v1,$WRONG v2,abc v1,$GOOD" "$ID"
expect_run std_multiple_entries std x
NOW=$(date +%s) ID=msg_$(rand_hex 8)
std_post std_wrong_key "$NOW" "v1,$(std_sig "$(rand_hex 24)" "$ID" "$NOW" "$P/small.json")" "$ID"
expect_none std_wrong_key 401 std
NOW=$(date +%s) ID=msg_$(rand_hex 8) # signed for another id: the id is part of the message
std_post std_other_id "$NOW" "v1,$(std_sig "$STD_HEX" "msg_other" "$NOW" "$P/small.json")" "$ID"
expect_none std_other_id 401 std
NOW=$(date +%s) ID=msg_$(rand_hex 8) # signed for another timestamp
std_post std_other_ts "$NOW" "v1,$(std_sig "$STD_HEX" "$ID" "$((NOW - 1))" "$P/small.json")" "$ID"
expect_none std_other_ts 401 std
NOW=$(date +%s) ID=msg_$(rand_hex 8) # the right MAC without the v1, prefix
std_post std_no_version "$NOW" "$(std_sig "$STD_HEX" "$ID" "$NOW" "$P/small.json")" "$ID"
expect_none std_no_version 401 std
NOW=$(date +%s) ID=msg_$(rand_hex 8)
std_post std_only_other_versions "$NOW" "v1a,$(std_sig "$STD_HEX" "$ID" "$NOW" "$P/small.json")" "$ID"
expect_none std_only_other_versions 401 std
NOW=$(date +%s) # no webhook-id: nothing to sign over, nothing to key on
req std_missing_id -H "webhook-timestamp: $NOW" \
	-H "webhook-signature: v1,$(std_sig "$STD_HEX" "" "$NOW" "$P/small.json")" \
	--data-binary @"$P/small.json" "$(runner_url std)"
expect_none std_missing_id 401 std
if sign_hdrs sign_std std "$P/small.json"; then
	req sign_std -H @"$H" --data-binary @"$P/small.json" "$(runner_url std)"
	expect_run sign_std std x
else fail sign_std "sign failed: $(head -c 300 "$T_TMP/sign_std.sign.err")"; fi

# ==== JWT ========================================================================
if [ "$HAVE_PYJWT" = 1 ]; then
	mint HS256 "$S/jwt_hs" && jwt_post jwt_hs256_pyjwt jwths "$TOK"
	expect_run jwt_hs256_pyjwt jwths x
	mint RS256 "$S/rsa.key" && jwt_post jwt_rs256_pyjwt jwtrs "$TOK"
	expect_run jwt_rs256_pyjwt jwtrs x
	mint ES256 "$S/ec.key" && jwt_post jwt_es256_pyjwt jwtes "$TOK"
	expect_run jwt_es256_pyjwt jwtes x
	mint HS256 "$S/jwt_hs" '{"aud":["someone-else","webhook-runner"]}' && jwt_post jwt_aud_list jwths "$TOK"
	expect_run jwt_aud_list jwths x
	mint HS256 "$S/jwt_hs" '{"iat":null}' && jwt_post jwt_no_iat_ok jwths "$TOK"
	expect_run jwt_no_iat_ok jwths x
	mint HS256 "$S/jwt_hs" '{"nbf":"@now-10"}' && jwt_post jwt_nbf_past_ok jwths "$TOK"
	expect_run jwt_nbf_past_ok jwths x
	GOODTOK=$TOK

	jwt_post jwt_missing jwths ""
	expect_none jwt_missing 401 jwths '^WWW-Authenticate: Bearer'
	jwt_post jwt_basic_scheme jwths "" -H "Authorization: Basic $(printf 'u:%s' "$GOODTOK" | base64 -w0)"
	expect_none jwt_basic_scheme 401 jwths '^WWW-Authenticate: Bearer'
	jwt_post jwt_empty_bearer jwths "" -H 'Authorization: Bearer '
	expect_none jwt_empty_bearer 401 jwths '^WWW-Authenticate: Bearer'
	jwt_post jwt_repeated_authorization jwths "$GOODTOK" -H "Authorization: Bearer $GOODTOK"
	expect_none jwt_repeated_authorization 401 jwths

	raw '{"alg":"none","typ":"JWT"}' "$(claims_json)" none - && jwt_post jwt_alg_none jwths "$TOK"
	expect_none jwt_alg_none 403 jwths
	raw '{"alg":"None","typ":"JWT"}' "$(claims_json)" none - && jwt_post jwt_alg_None_case jwths "$TOK"
	expect_none jwt_alg_None_case 403 jwths
	raw '{"typ":"JWT"}' "$(claims_json)" HS256 "$S/jwt_hs" && jwt_post jwt_alg_absent jwths "$TOK"
	expect_none jwt_alg_absent 403 jwths
	mint HS512 "$S/jwt_hs" && jwt_post jwt_hs512_not_allowed jwths "$TOK"
	expect_none jwt_hs512_not_allowed 403 jwths
	# Algorithm confusion: HS256 "signed" with the RSA public key PEM as the HMAC
	# secret, against the RS256 hook (PyJWT refuses to do this, so by hand).
	raw '{"alg":"HS256","typ":"JWT"}' "$(claims_json)" HS256 "$S/rsa.pub.stripped" &&
		jwt_post jwt_alg_confusion_hs_with_rsa_pem jwtrs "$TOK"
	expect_none jwt_alg_confusion_hs_with_rsa_pem 403 jwtrs
	raw '{"alg":"HS256","typ":"JWT"}' "$(claims_json)" HS256 "$S/rsa.pub" &&
		jwt_post jwt_alg_confusion_hs_with_rsa_pem_nl jwtrs "$TOK"
	expect_none jwt_alg_confusion_hs_with_rsa_pem_nl 403 jwtrs
	mint RS256 "$S/rsa.key" && jwt_post jwt_rs256_on_es_hook jwtes "$TOK"
	expect_none jwt_rs256_on_es_hook 403 jwtes
	mint ES256 "$S/ec.key" && jwt_post jwt_es256_on_rs_hook jwtrs "$TOK"
	expect_none jwt_es256_on_rs_hook 403 jwtrs
	mint RS256 "$S/rsa.key" && jwt_post jwt_rs256_on_hs_hook jwths "$TOK"
	expect_none jwt_rs256_on_hs_hook 403 jwths
	mint ES256 "$S/ec_other.key" && jwt_post jwt_es256_other_key jwtes "$TOK"
	expect_none jwt_es256_other_key 403 jwtes
	mint HS256 <(printf '%s' "$(rand_hex 32)") && jwt_post jwt_hs256_wrong_secret jwths "$TOK"
	expect_none jwt_hs256_wrong_secret 403 jwths

	mint HS256 "$S/jwt_hs" '{"exp":"@now-3600"}' && jwt_post jwt_expired jwths "$TOK"
	expect_none jwt_expired 403 jwths
	mint HS256 "$S/jwt_hs" '{"exp":null}' && jwt_post jwt_exp_missing jwths "$TOK"
	expect_none jwt_exp_missing 403 jwths
	mint HS256 "$S/jwt_hs" '{"exp":"soon"}' && jwt_post jwt_exp_string jwths "$TOK"
	expect_none jwt_exp_string 403 jwths
	mint HS256 "$S/jwt_hs" '{"nbf":"@now+3600"}' && jwt_post jwt_nbf_future jwths "$TOK"
	expect_none jwt_nbf_future 403 jwths
	mint HS256 "$S/jwt_hs" '{"iat":"@now+3600"}' && jwt_post jwt_iat_future jwths "$TOK"
	expect_none jwt_iat_future 403 jwths
	mint HS256 "$S/jwt_hs" '{"iss":"https://evil.example.test"}' && jwt_post jwt_wrong_iss jwths "$TOK"
	expect_none jwt_wrong_iss 403 jwths
	mint HS256 "$S/jwt_hs" '{"iss":null}' && jwt_post jwt_missing_iss jwths "$TOK"
	expect_none jwt_missing_iss 403 jwths
	mint HS256 "$S/jwt_hs" '{"aud":"other-service"}' && jwt_post jwt_wrong_aud jwths "$TOK"
	expect_none jwt_wrong_aud 403 jwths
	mint HS256 "$S/jwt_hs" '{"aud":["a","b"]}' && jwt_post jwt_wrong_aud_list jwths "$TOK"
	expect_none jwt_wrong_aud_list 403 jwths
	mint HS256 "$S/jwt_hs" '{"sub":"attacker"}' && jwt_post jwt_wrong_sub jwths "$TOK"
	expect_none jwt_wrong_sub 403 jwths
	mint HS256 "$S/jwt_hs" '{"team":"other"}' && jwt_post jwt_claim_wrong jwths "$TOK"
	expect_none jwt_claim_wrong 403 jwths
	mint HS256 "$S/jwt_hs" '{"team":null}' && jwt_post jwt_claim_missing jwths "$TOK"
	expect_none jwt_claim_missing 403 jwths
	mint HS256 "$S/jwt_hs" '{"team":["platform"]}' && jwt_post jwt_claim_array jwths "$TOK"
	expect_none jwt_claim_array 403 jwths

	# Malformed tokens (from a valid one).
	H0=${GOODTOK%%.*} REST=${GOODTOK#*.}
	echo "${H0}=.$REST" >>"$TOKENS"
	jwt_post jwt_bad_base64_padding jwths "${H0}=.$REST"
	expect_none jwt_bad_base64_padding 403 jwths
	BADB64=$(echo "$GOODTOK" | sed 's/\(^.\{10\}\)./\1+/')
	echo "$BADB64" >>"$TOKENS"
	jwt_post jwt_bad_base64_alphabet jwths "$BADB64"
	expect_none jwt_bad_base64_alphabet 403 jwths
	jwt_post jwt_truncated jwths "${GOODTOK:0:$((${#GOODTOK} - 7))}"
	expect_none jwt_truncated 403 jwths
	jwt_post jwt_two_parts jwths "${GOODTOK%.*}"
	expect_none jwt_two_parts 403 jwths
	jwt_post jwt_four_parts jwths "$GOODTOK.$GOODTOK"
	expect_none jwt_four_parts 403 jwths
	jwt_post jwt_garbage jwths "not-a-token"
	expect_none jwt_garbage 403 jwths
	mint HS256 "$S/jwt_hs" "{\"pad\":\"$(printf 'A%.0s' $(seq 1 8300))\"}" &&
		[ ${#TOK} -gt 8192 ] && jwt_post jwt_too_long jwths "$TOK"
	expect_none jwt_too_long 403 jwths
	# Duplicate claim names, correctly signed: cJSON keeps the first "sub",
	# libjwt (jansson) the last; the token must be refused in both orders.
	raw '{"alg":"HS256","typ":"JWT"}' "$(claims_json ',"sub":"attacker"')" HS256 "$S/jwt_hs" &&
		jwt_post jwt_duplicate_sub jwths "$TOK"
	expect_none jwt_duplicate_sub 403 jwths
	P2=$(claims_json)
	raw '{"alg":"HS256","typ":"JWT"}' "{\"sub\":\"attacker\",${P2#\{}" HS256 "$S/jwt_hs" &&
		jwt_post jwt_duplicate_sub_first jwths "$TOK"
	expect_none jwt_duplicate_sub_first 403 jwths
	raw '{"alg":"HS256","typ":"JWT","alg":"HS256"}' "$(claims_json)" HS256 "$S/jwt_hs" &&
		jwt_post jwt_duplicate_header_alg jwths "$TOK"
	expect_none jwt_duplicate_header_alg 403 jwths
	# The hand-built path itself is sound: a correct hand-built token passes.
	raw '{"alg":"HS256","typ":"JWT"}' "$(claims_json)" HS256 "$S/jwt_hs" && jwt_post jwt_raw_valid jwths "$TOK"
	expect_run jwt_raw_valid jwths x

	# Token from a configured header, and from a query parameter.
	mint HS256 "$S/jwt_hs" && HDRTOK=$TOK
	hd_post jwt_header_valid jwthdr "$P/small.json" -H "X-Auth-Token: $HDRTOK"
	expect_run jwt_header_valid jwthdr x
	hd_post jwt_header_missing jwthdr "$P/small.json"
	expect_none jwt_header_missing 401 jwthdr '^WWW-Authenticate: Bearer'
	hd_post jwt_header_bearer_not_used jwthdr "$P/small.json" -H "Authorization: Bearer $HDRTOK"
	expect_none jwt_header_bearer_not_used 401 jwthdr
	hd_post jwt_header_repeated jwthdr "$P/small.json" -H "X-Auth-Token: $HDRTOK" -H "X-Auth-Token: $HDRTOK"
	expect_none jwt_header_repeated 401 jwthdr
	mint HS256 "$S/jwt_hs" '{"exp":"@now-3600"}' && hd_post jwt_header_expired jwthdr "$P/small.json" -H "X-Auth-Token: $TOK"
	expect_none jwt_header_expired 403 jwthdr
	mint HS256 "$S/jwt_hs" && QTOK=$TOK
	newkey
	req jwt_query_valid -H "x-hookdeck-signature: $SIG" -H "Idempotency-Key: $KEY" \
		--data-binary @"$P/small.json" "$(runner_url jwtq)?access_token=$QTOK"
	expect_run jwt_query_valid jwtq x
	newkey
	req jwt_query_missing -H "x-hookdeck-signature: $SIG" -H "Idempotency-Key: $KEY" \
		--data-binary @"$P/small.json" "$(runner_url jwtq)?other=1"
	expect_none jwt_query_missing 401 jwtq '^WWW-Authenticate: Bearer'
	newkey
	req jwt_query_bearer_not_used -H "x-hookdeck-signature: $SIG" -H "Idempotency-Key: $KEY" \
		-H "Authorization: Bearer $QTOK" --data-binary @"$P/small.json" "$(runner_url jwtq)"
	expect_none jwt_query_bearer_not_used 401 jwtq
	mint HS256 "$S/jwt_hs" '{"sub":"attacker"}' && newkey &&
		req jwt_query_wrong_sub -H "x-hookdeck-signature: $SIG" -H "Idempotency-Key: $KEY" \
			--data-binary @"$P/small.json" "$(runner_url jwtq)?access_token=$TOK"
	expect_none jwt_query_wrong_sub 403 jwtq
else
	skip jwt_pyjwt "python3-jwt/python3-cryptography missing (make deps): PyJWT cases not run"
fi

# Tokens from our own `sign`, for every JWT hook.
for h in jwths jwthdr; do
	if sign_hdrs "sign_$h" "$h" "$P/small.json"; then
		req "sign_$h" -H @"$H" --data-binary @"$P/small.json" "$(runner_url "$h")"
		expect_run "sign_$h" "$h" x
	else fail "sign_$h" "sign failed: $(head -c 300 "$T_TMP/sign_$h.sign.err")"; fi
done
if sign_hdrs sign_jwtrs jwtrs "$P/small.json" --jwt-key "$S/rsa.key"; then
	req sign_jwtrs -H @"$H" --data-binary @"$P/small.json" "$(runner_url jwtrs)"
	expect_run sign_jwtrs jwtrs x
else fail sign_jwtrs "sign failed: $(head -c 300 "$T_TMP/sign_jwtrs.sign.err")"; fi
if sign_hdrs sign_jwtes jwtes "$P/small.json" --jwt-key "$S/ec.key"; then
	req sign_jwtes -H @"$H" --data-binary @"$P/small.json" "$(runner_url jwtes)"
	expect_run sign_jwtes jwtes x
else fail sign_jwtes "sign failed: $(head -c 300 "$T_TMP/sign_jwtes.sign.err")"; fi
if sign_hdrs sign_jwtq jwtq "$P/small.json"; then
	QT=$(sed -n 's/^# add to the URL: ?access_token=//p' "$T_TMP/sign_jwtq.sign.err")
	req sign_jwtq -H @"$H" --data-binary @"$P/small.json" "$(runner_url jwtq)?access_token=$QT"
	expect_run sign_jwtq jwtq x
else fail sign_jwtq "sign failed: $(head -c 300 "$T_TMP/sign_jwtq.sign.err")"; fi
# sign with --claims: an expired token from our signer is refused like PyJWT's
if sign_hdrs sign_jwths_expired jwths "$P/small.json" --claims "{\"exp\":$(($(date +%s) - 3600))}"; then
	req sign_jwths_expired -H @"$H" --data-binary @"$P/small.json" "$(runner_url jwths)"
	expect_none sign_jwths_expired 403 jwths
else fail sign_jwths_expired "sign failed: $(head -c 300 "$T_TMP/sign_jwths_expired.sign.err")"; fi
# Errors of `sign`: clean, non-zero, nothing on stdout.
"$WR" sign --config "$CFG" --hook nope "$P/small.json" >"$T_TMP/sn.out" 2>"$T_TMP/sn.err"
RC=$?
cat "$T_TMP/sn.err" >>"$CLI_ERR"
if [ "$RC" -ne 0 ] && [ ! -s "$T_TMP/sn.out" ] && grep -q 'no hook "nope"' "$T_TMP/sn.err"; then
	ok sign_unknown_hook
else fail sign_unknown_hook "rc $RC, stdout '$(head -c 100 "$T_TMP/sn.out")', stderr '$(head -c 200 "$T_TMP/sn.err")'"; fi
"$WR" sign --config "$CFG" --hook jwtrs "$P/small.json" >"$T_TMP/sk.out" 2>"$T_TMP/sk.err"
RC=$?
cat "$T_TMP/sk.err" >>"$CLI_ERR"
if [ "$RC" -ne 0 ] && [ ! -s "$T_TMP/sk.out" ] && grep -q -- '--jwt-key' "$T_TMP/sk.err"; then
	ok sign_rs_hook_needs_key
else fail sign_rs_hook_needs_key "rc $RC, stdout '$(head -c 100 "$T_TMP/sk.out")', stderr '$(head -c 200 "$T_TMP/sk.err")'"; fi
"$WR" sign --config "$CFG" --hook hd "$T_TMP/no-such-payload" >"$T_TMP/sp.out" 2>"$T_TMP/sp.err"
RC=$?
cat "$T_TMP/sp.err" >>"$CLI_ERR"
if [ "$RC" -ne 0 ] && [ ! -s "$T_TMP/sp.out" ] && grep -q 'no-such-payload' "$T_TMP/sp.err"; then
	ok sign_missing_payload
else fail sign_missing_payload "rc $RC, stderr '$(head -c 200 "$T_TMP/sp.err")'"; fi

# ==== check-config ===============================================================
CC=$T_TMP/cc
mkdir -p "$CC"
export CC
"$PY" "$TOP/tests/tools/verify_cc_base.py" || fail setup "cannot write the check-config base"
# mutate NAME PYTHON-STATEMENTS : $CC/NAME.json = base.json changed by the statements on c
mutate() {
	"$PY" "$TOP/tests/tools/json_mutate.py" "$CC/base.json" "$CC/$1.json" "$2"
}
# cc_expect NAME FILE WANT-SUBSTRING : check-config exits 1 and says WANT
cc_expect() {
	local n=$1 f=$2 want=$3 rc
	"$WR" check-config "$f" >"$CC/$n.out" 2>"$CC/$n.err"
	rc=$?
	cat "$CC/$n.err" >>"$CLI_ERR"
	if [ "$rc" -eq 1 ] && grep -qF -- "$want" "$CC/$n.err"; then ok "$n"; else
		fail "$n" "exit $rc, stderr '$(head -c 300 "$CC/$n.err")', want exit 1 and '$want'"
	fi
}
"$WR" check-config --help >"$CC/help.out" 2>"$CC/help.err"
expect_eq cc_help_exit_0 "$?" 0
expect_match cc_help_usage "$(cat "$CC/help.out")" '^usage: webhook-runner check-config FILE'
"$WR" check-config -x >"$CC/opt.out" 2>"$CC/opt.err"
expect_eq cc_unknown_option_exit_2 "$?" 2
expect_match cc_unknown_option_usage "$(cat "$CC/opt.err")" '^usage: webhook-runner check-config FILE'
"$WR" check-config "$CC/base.json" >"$CC/good.out" 2>"$CC/good.err"
RC=$?
cat "$CC/good.err" >>"$CLI_ERR"
[ "$RC" -eq 0 ] && grep -qx "$CC/base.json: ok (1 hook)" "$CC/good.out" && [ ! -s "$CC/good.err" ] &&
	ok cc_good_config || fail cc_good_config "exit $RC: $(head -c 300 "$CC/good.err")"
"$WR" check-config "$CFG" >"$CC/full.out" 2>"$CC/full.err"
RC=$?
cat "$CC/full.err" >>"$CLI_ERR"
# The suite's hooks share one Hookdeck secret and turn body dedupe off: both
# are said, and the config still loads.
[ "$RC" -eq 0 ] && grep -q 'ok (12 hooks, with warnings)' "$CC/full.out" &&
	grep -qF 'warning: hooks[3]: accepts a signing secret of hooks[0] ("hd")' "$CC/full.err" &&
	grep -qF 'warning: hooks[0]: idempotency.dedupe_body is off' "$CC/full.err" &&
	! grep -qF 'hooks[4]: accepts a signing secret of hooks[3]' "$CC/full.err" &&
	ok cc_test_config || fail cc_test_config "exit $RC: $(head -c 300 "$CC/full.err")"

mutate alg 'h["jwt"]["algorithms"] = ["HS256", "HS257"]'
cc_expect cc_unknown_algorithm "$CC/alg.json" 'hooks[0].jwt.algorithms: unknown algorithm "HS257"'
mutate algnone 'h["jwt"]["algorithms"] = ["none"]'
cc_expect cc_algorithm_none "$CC/algnone.json" 'hooks[0].jwt.algorithms: unknown algorithm "none"'
mutate literal 'h["signature"]["secrets"] = ["file:'"$S"'/hd1", "hunter2-literal-secret"]'
cc_expect cc_literal_secret "$CC/literal.json" 'hooks[0].signature.secrets[1]: secrets must be references'
if grep -q hunter2 "$CC/cc_literal_secret.err"; then fail cc_literal_secret_not_echoed "stderr shows the literal"; else ok cc_literal_secret_not_echoed; fi
mutate literal_jwt 'h["jwt"]["key"] = "0123456789abcdef0123456789abcdef0123"'
cc_expect cc_literal_jwt_key "$CC/literal_jwt.json" 'hooks[0].jwt.key: secrets must be references'
mutate unknown 'h["job"]["comand"] = "true"'
cc_expect cc_unknown_field "$CC/unknown.json" 'hooks[0].job: unknown field "comand"'
mutate unknown_top 'c["servr"] = {}'
cc_expect cc_unknown_top_field "$CC/unknown_top.json" '(top level): unknown field "servr"'
mutate unknown_sig 'h["signature"]["secret"] = "env:X"'
cc_expect cc_unknown_signature_field "$CC/unknown_sig.json" 'hooks[0].signature: unknown field "secret"'
mutate dup 'c["hooks"].append(copy.deepcopy(h))'
cc_expect cc_duplicate_hook_id "$CC/dup.json" 'hooks[1]: "id" "a" is already used by hooks[0]'
mutate dest 'h["job"]["destination"] = "127.0.0.1"'
cc_expect cc_bad_destination "$CC/dest.json" 'hooks[0].job.destination: must be user@host'
mutate dest_port 'h["job"]["destination"] = "deploy@127.0.0.1:99999"'
cc_expect cc_bad_destination_port "$CC/dest_port.json" 'hooks[0].job.destination: bad port'
mutate dest_opt 'h["job"]["destination"] = "deploy@-oProxyCommand=x"'
cc_expect cc_destination_option "$CC/dest_opt.json" 'hooks[0].job.destination: bad host'
mutate nojob 'del h["job"]'
cc_expect cc_missing_job "$CC/nojob.json" 'hooks[0]: missing required field "job"'
mutate nosig 'del h["signature"]'
cc_expect cc_missing_signature "$CC/nosig.json" 'hooks[0]: missing required field "signature"'
mutate scheme 'h["signature"]["scheme"] = "hookdec"'
cc_expect cc_unknown_scheme "$CC/scheme.json" 'hooks[0].signature: unknown scheme "hookdec"'
mutate envref 'h["signature"]["secrets"] = ["env:WR_VERIFY_UNSET_7F3A"]'
unset WR_VERIFY_UNSET_7F3A
cc_expect cc_env_unset "$CC/envref.json" 'hooks[0].signature.secrets[0]: environment variable WR_VERIFY_UNSET_7F3A is not set'
WR_VERIFY_UNSET_7F3A=$(rand_hex 16) "$WR" check-config "$CC/envref.json" >/dev/null 2>"$CC/envset.err"
RC=$?
cat "$CC/envset.err" >>"$CLI_ERR"
expect_eq cc_env_set "$RC" 0
mutate nofile 'h["signature"]["secrets"] = ["file:'"$CC"'/no-such-secret"]'
cc_expect cc_missing_secret_file "$CC/nofile.json" "hooks[0].signature.secrets[0]: cannot read secret $CC/no-such-secret"
printf '' >"$CC/empty.secret"
mutate emptyfile 'h["signature"]["secrets"] = ["file:'"$CC"'/empty.secret"]'
cc_expect cc_empty_secret_file "$CC/emptyfile.json" 'hooks[0].signature.secrets[0]: secret file:'
mutate whsec 'h["signature"] = {"scheme": "standard-webhooks", "secrets": ["file:'"$S"'/hd1"]}'
cc_expect cc_standard_without_whsec "$CC/whsec.json" 'hooks[0].signature.secrets[0]: standard-webhooks secrets are "whsec_"'
mutate mixed 'h["jwt"]["algorithms"] = ["HS256", "RS256"]'
cc_expect cc_mixed_algorithms "$CC/mixed.json" 'hooks[0].jwt.algorithms: cannot mix'
mutate kind 'h["jwt"]["algorithms"] = ["RS256"]; h["jwt"]["key"] = "file:'"$S"'/ec.pub"'
cc_expect cc_key_kind "$CC/kind.json" 'hooks[0].jwt.key: key is EC but algorithm RS256 needs RSA'
mutate privkey 'h["jwt"]["algorithms"] = ["RS256"]; h["jwt"]["key"] = "file:'"$S"'/rsa.key"'
cc_expect cc_private_key_refused "$CC/privkey.json" 'hooks[0].jwt.key: not a PEM public key'
printf '%s' "$(rand_hex 8)" >"$CC/short.secret"
mutate short 'h["jwt"]["key"] = "file:'"$CC"'/short.secret"'
cc_expect cc_short_hmac_key "$CC/short.json" 'hooks[0].jwt.key: HMAC key must be at least 32 bytes'
mutate token 'h["jwt"]["token"] = {"header": "X-T", "query": "t"}'
cc_expect cc_token_both "$CC/token.json" 'hooks[0].jwt.token: give exactly one of'
mutate undeclared 'h["job"]["command"] = "echo {{x}}"'
cc_expect cc_undeclared_param "$CC/undeclared.json" 'hooks[0].job.command: undeclared parameter "x"'
mutate nopattern 'h["job"]["command"] = "echo {{x}}"; h["job"]["params"] = {"x": {"from": "payload", "path": "x"}}'
cc_expect cc_param_without_pattern "$CC/nopattern.json" 'hooks[0].job.params.x.pattern'
mutate body 'c["server"]["max_body_bytes"] = 0'
cc_expect cc_max_body_zero "$CC/body.json" 'server: "max_body_bytes" must be between'
mutate listen 'c["server"]["listen"] = "127.0.0.1"'
cc_expect cc_bad_listen "$CC/listen.json" 'server.listen: must be host:port'
mutate nohooks 'c["hooks"] = []'
cc_expect cc_no_hooks "$CC/nohooks.json" 'hooks: must be a non-empty list'
# invalid JSON: the error is on line 4 (a missing comma between two members)
cat >"$CC/badjson.json" <<'JSON'
{
  "server": { "listen": "127.0.0.1:18080" },
  "hooks": [
    { "id": "a" "signature": { "scheme": "hookdeck" } }
  ]
}
JSON
cc_expect cc_invalid_json "$CC/badjson.json" 'invalid JSON near line 4'
cc_expect cc_missing_config_file "$CC/no-such-config.json" "$CC/no-such-config.json: No such file"

# The daemon itself refuses a bad config: non-zero exit, the field named, no listener.
BADPORT=$((20000 + (RANDOM * 3) % 40000))
timeout -k 5 20 "$WR" --config "$CC/alg.json" --host 127.0.0.1 --port "$BADPORT" >"$CC/daemon.out" 2>"$CC/daemon.err"
RC=$?
cat "$CC/daemon.err" >>"$CLI_ERR"
LCODE=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://127.0.0.1:$BADPORT/healthz")
if [ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && [ "$RC" -ne 137 ] && [ "$LCODE" = 000 ] &&
	grep -qF 'hooks[0].jwt.algorithms: unknown algorithm "HS257"' "$CC/daemon.err"; then
	ok daemon_refuses_bad_config
else fail daemon_refuses_bad_config "exit $RC, listener answered $LCODE, stderr '$(head -c 300 "$CC/daemon.err")'"; fi
timeout -k 5 20 "$WR" --config "$CC/literal.json" --host 127.0.0.1 --port "$BADPORT" >/dev/null 2>"$CC/daemon2.err"
RC=$?
cat "$CC/daemon2.err" >>"$CLI_ERR"
if [ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && grep -qF 'hooks[0].signature.secrets[1]' "$CC/daemon2.err"; then
	ok daemon_refuses_literal_secret
else fail daemon_refuses_literal_secret "exit $RC, stderr '$(head -c 300 "$CC/daemon2.err")'"; fi
check cc_no_store_created test ! -e "$CC/cc.db"

# ==== the log ====================================================================
# The running daemon still answers after all of the above, then stops cleanly.
req healthz_end "$BASE/healthz"
expect_eq healthz_end "$CODE" 200
expect_eq store_totals "$(dbn jobs)/$(dbn deliveries)" "$NJOBS/$NDEL"
runner_stop
# The reasons are in the log (one line per request).
for r in signature:missing signature:mismatch signature:malformed signature:stale \
	signature:duplicate_header jwt:missing jwt:alg jwt:expired jwt:no_exp jwt:not_yet_valid \
	jwt:iss jwt:aud jwt:sub jwt:claim jwt:malformed jwt:signature; do
	if [ "$HAVE_PYJWT" = 0 ] && [[ $r == jwt:* ]] && [ "$r" != jwt:missing ]; then continue; fi
	grep -qF -- "$r" "$RUNNER_LOG" || WHY+=("no '$r'")
done
report log_has_reasons
# No token and no secret ever reaches the log.
verify_log_scans "" 5
exit 0
