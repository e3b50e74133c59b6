#!/usr/bin/env bash
# tests/e2e/demo_github.sh — the demo (`make run`, config/demo.sh) started as
# the README says, serving POST /hooks/github: a GitHub push as Hookdeck
# delivers it (config/demo-github-push.json), signed with Python's hmac (not
# our code) and once with the `sign` line the demo prints. Executions are
# counted on the demo's SSH target: each deploy appends a line to the
# demo's marker file (the path the demo prints).
#
# Covers: a signed push → 200, succeeded, the commit in the output, ran
# once; the same delivery again → replayed, not run; the README's sign +
# curl line under a new event id, same body → that earlier delivery, not
# run; X-GitHub-Delivery as the key when Hookdeck's is absent → a new
# commit runs; a tampered body → 401; a ref outside the pattern, a short
# sha → refused, not run; config/example.json passes check-config.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/runner.sh"

need_bins "$RUNNER_BIN" "$BUILD/remote-executor"
need_tools curl openssl
R=$T_TMP/r D=$T_TMP/demo
mkdir -p "$R"
PUSH=$TOP/config/demo-github-push.json
SHA=$(json_get "$PUSH" after)

# ------------------------------------------------------------ the demo
PORT=$(closed_port)
DEMO_DIR=$D PORT=$PORT bash "$TOP/config/demo.sh" "$BUILD" >"$T_TMP/demo.log" 2>&1 &
DEMO_PID=$!
at_exit "kill $DEMO_PID; wait $DEMO_PID"
BASE=http://127.0.0.1:$PORT
up() { curl -s -o /dev/null --max-time 1 "$BASE/healthz"; }
if ! wait_until 60 up; then
	fail demo_starts "no answer on $BASE: $(tail -n 5 "$T_TMP/demo.log")"
	exit 1
fi
ok demo_starts
MARK=$(sed -n 's/.*appends a line to \(.*\)):$/\1/p' "$T_TMP/demo.log")
deploys() { if [ -n "$MARK" ]; then lines "$MARK"; else echo no-marker-path; fi; }

# hsign BODY_FILE : x-hookdeck-signature of BODY_FILE under the demo's secret, by Python
hsign() {
	"$PY" -c 'import base64, hashlib, hmac, sys
k = open(sys.argv[1], "rb").read()
print(base64.b64encode(hmac.new(k, open(sys.argv[2], "rb").read(), hashlib.sha256).digest()).decode())' \
		"$D/hookdeck.secret" "$1"
}
# push TAG BODY_FILE SIGNATURE HEADER... : POST to /hooks/github; sets CODE
push() {
	local tag=$1 body=$2 sig=$3
	shift 3
	CODE=$(fetch "$R/$tag" --max-time 30 -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
		-H "x-hookdeck-signature: $sig" "$@" --data-binary @"$body" "$BASE/hooks/github")
	echo "$CODE" >"$R/$tag.code"
}
EV=evt_$(rand_hex 12)
push p1 "$PUSH" "$(hsign "$PUSH")" -H "x-hookdeck-eventid: $EV" -H "X-GitHub-Delivery: $(rand_hex 16)"
answer github_push_runs p1 code=200 status=succeeded "output_tail=deployed acme/app at $SHA (refs/heads/main)*"
expect_eq github_push_ran_once "$(deploys)" 1
expect_eq github_push_deployed_commit "$(tail -n 1 "$MARK" 2>/dev/null)" "$SHA refs/heads/main acme/app"
push p2 "$PUSH" "$(hsign "$PUSH")" -H "x-hookdeck-eventid: $EV"
answer github_redelivery_replayed p2 code=200 status=succeeded hdr:Idempotent-Replayed=true
expect_eq github_redelivery_not_run "$(deploys)" 1

# the lines the demo prints (our signer: a fresh x-hookdeck-eventid, same body)
"$RUNNER_BIN" sign --config "$D/config.json" --hook github "$PUSH" >"$R/hdrs.txt" 2>"$R/sign.err"
if grep -q 'hooks/github' "$T_TMP/demo.log"; then ok github_demo_prints_curl_line; else
	fail github_demo_prints_curl_line "no /hooks/github line in the demo's output"; fi
CODE=$(fetch "$R/p3" --max-time 30 -H @"$R/hdrs.txt" -H 'X-GitHub-Event: push' --data-binary @"$PUSH" "$BASE/hooks/github")
echo "$CODE" >"$R/p3.code"
answer github_demo_line_same_body_is_earlier_delivery p3 code=200 status=succeeded
expect_eq github_demo_line_not_run_again "$(deploys)" 1

# X-GitHub-Delivery is the key when Hookdeck's event id is absent: a new commit runs
SHA2=$(rand_hex 20)
sed "s/$SHA/$SHA2/g" "$PUSH" >"$R/push2.json"
push p4 "$R/push2.json" "$(hsign "$R/push2.json")" -H "X-GitHub-Delivery: $(rand_hex 16)"
answer github_delivery_header_key p4 code=200 status=succeeded
expect_eq github_second_commit_runs "$(deploys) $(tail -n 1 "$MARK" 2>/dev/null | cut -d' ' -f1)" "2 $SHA2"

# refused, nothing run
sed "s/$SHA/$(rand_hex 20)/g" "$PUSH" >"$R/tampered.json"
push n1 "$R/tampered.json" "$(hsign "$PUSH")" -H "x-hookdeck-eventid: evt_$(rand_hex 12)"
answer github_tampered_body_401 n1 code=401
sed 's#"ref": "refs/heads/main"#"ref": "refs/heads/main;id"#' "$PUSH" >"$R/badref.json"
push n2 "$R/badref.json" "$(hsign "$R/badref.json")" -H "x-hookdeck-eventid: evt_$(rand_hex 12)"
expect_match github_bad_ref_refused "$CODE" '^4[0-9][0-9]$'
sed "s/\"after\": \"$SHA\"/\"after\": \"${SHA:0:12}\"/" "$PUSH" >"$R/shortsha.json"
push n3 "$R/shortsha.json" "$(hsign "$R/shortsha.json")" -H "x-hookdeck-eventid: evt_$(rand_hex 12)"
expect_match github_short_sha_refused "$CODE" '^4[0-9][0-9]$'
# a branch deletion: "after" is forty zeros and "deleted" is true
sed "s/\"after\": \"$SHA\"/\"after\": \"$(printf '0%.0s' $(seq 40))\"/; s/\"deleted\": false/\"deleted\": true/" \
	"$PUSH" >"$R/deletion.json"
expect_eq github_deletion_fixture_changed "$(grep -c '"deleted": true' "$R/deletion.json")" 1
push n4 "$R/deletion.json" "$(hsign "$R/deletion.json")" -H "x-hookdeck-eventid: evt_$(rand_hex 12)"
expect_match github_branch_deletion_refused "$CODE" '^4[0-9][0-9]$'
expect_match github_branch_deletion_names_param "$(head -c 600 "$R/n4.body")" 'deleted'
sleep 1
expect_eq github_refusals_run_nothing "$(deploys)" 2

# ------------------------------------------------------------ config/example.json
# check-config with the secrets and keys it names, made here
X=$T_TMP/example
mkdir -p "$X/creds"
(umask 077
	for c in hookdeck-signing-secret hookdeck-signing-secret-old hookdeck-github-signing-secret; do
		rand_hex 24 >"$X/creds/$c"
	done
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$X/k.pem" 2>/dev/null
	openssl pkey -in "$X/k.pem" -pubout -out "$X/ci-jwt.pub" 2>/dev/null)
sed "s#/etc/webhook-runner/#$X/#g; s#/var/lib/webhook-runner/#$X/#g" "$TOP/config/example.json" >"$X/config.json"
if CREDENTIALS_DIRECTORY=$X/creds GITHUB_WEBHOOK_SECRET=$(rand_hex 16) \
	"$RUNNER_BIN" check-config "$X/config.json" >"$X/check.out" 2>&1; then
	ok example_config_checks
else
	fail example_config_checks "$(head -c 400 "$X/check.out")"
fi
if grep -q '"id": "github"' "$TOP/config/example.json"; then ok example_config_has_github; else
	fail example_config_has_github "no hook github in config/example.json"; fi
