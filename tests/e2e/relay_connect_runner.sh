#!/usr/bin/env bash
# tests/e2e/relay_connect_runner.sh — a Hookdeck-signed webhook through the
# relay into a real webhook-runner: webhook-relay serve stores it,
# webhook-relay connect forwards it to the runner's /hooks/<id>, the runner
# verifies the signature over the relayed bytes (made by the openssl CLI,
# not our code) and runs the job over real remote-executor and sshd.
# Executions are counted on the SSH target ($MARK_DIR/<name>):
#   - the relayed webhook runs its job exactly once;
#   - the same webhook relayed a second time (a sender's retry, or the one
#     resend a client crash allows) does not run it again: the runner's
#     idempotency makes at-least-once delivery run once;
#   - a webhook whose body was changed after signing is refused by the
#     runner (401), which the client logs as a permanent failure and skips;
#     the next webhook still runs.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

RELAY_BIN=$BUILD/webhook-relay
EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX" "$RELAY_BIN"
need_tools sqlite3 curl openssl
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
at_exit kill_leftovers

SECRET=$T_TMP/hookdeck.secret TOK=$T_TMP/sub.token
(umask 077 && rand_hex 32 >"$SECRET" && rand_hex 24 >"$TOK")
HD=$(cat "$SECRET")
CMD="n={{name}}; echo \$\$ >>$MARK_DIR/\$n.pids; echo start >>$MARK_DIR/\$n.start;"
CMD+=" echo run >>$MARK_DIR/\$n; echo out-\$n"
DB=$T_TMP/runner.db
mkcfg "$T_TMP/runner.json" "    { \"id\": \"relayed\",
      \"signature\": { \"scheme\": \"hookdeck\", \"secrets\": [\"file:$SECRET\"] },
      \"job\": { \"destination\": \"$SSH_USER@127.0.0.1:$SSHD_PORT\", \"identity\": \"$KEY_ED25519\",
               \"known_hosts\": \"$KNOWN_HOSTS\", \"command\": \"$CMD\",
               \"params\": { \"name\": { \"from\": \"payload\", \"path\": \"name\", \"pattern\": \"[a-z0-9-]{1,40}\" } },
               \"timeout_s\": 20, \"connect_timeout_s\": 3 } }"
start_daemon "$T_TMP/runner.json" "$T_TMP/runner.log"

SRV_PORT=$(closed_port) OPS_PORT=$(closed_port)
"$RELAY_BIN" serve --host 127.0.0.1 --port "$SRV_PORT" --ops-port "$OPS_PORT" --token "file:$TOK" \
	--heartbeat-ms 500 >>"$T_TMP/serve.log" 2>&1 &
SRV_PID=$!
BG_PIDS+=("$SRV_PID")
wait_until 10 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$OPS_PORT/live" ||
	{ fail setup "webhook-relay serve did not start: $(tail -n 5 "$T_TMP/serve.log")"; exit 1; }
"$RELAY_BIN" connect --source "http://127.0.0.1:$SRV_PORT/subscribe/ops/" \
	--target "http://127.0.0.1:$RUNNER_PORT" --token "file:$TOK" --state "$T_TMP/connect.state" \
	--heartbeat-timeout 3 --retry-min 200 --retry-max 2 >>"$T_TMP/connect.log" 2>&1 &
CPID=$!
BG_PIDS+=("$CPID")
wait_until 10 grep -qs subscribing "$T_TMP/connect.log"

# hpub FILE SIG EVENTID : publish FILE to the relay for hook "relayed" with
# SIG as the Hookdeck signature; prints the relay's status
hpub() {
	curl -s --max-time 10 -o "$R/pub.body" -w '%{http_code}' -H "x-hookdeck-signature: $2" \
		-H 'Content-Type: application/json' -H "x-hookdeck-eventid: $3" \
		--data-binary @"$1" "http://127.0.0.1:$SRV_PORT/webhooks/ops/hooks/relayed"
}
forwarded() { grep -c " forwarded id=.* path=/hooks/relayed status=200 " "$T_TMP/connect.log"; }

printf '{"name":"relayone","n":"%s"}' "$(rand_hex 4)" >"$P/one.json"
SIG=$(openssl dgst -sha256 -hmac "$HD" -binary "$P/one.json" | openssl base64 -A)
expect_eq runner_published "$(hpub "$P/one.json" "$SIG" evt_relay_1)" 202
wait_for 30 'test "$(runs relayone)" -ge 1'
wait_for 10 'test "$(forwarded)" -ge 1'
expect_eq runner_job_ran_once "$(runs relayone)/$(starts relayone)" "1/1"
expect_eq runner_forward_200 "$(forwarded)" 1

# The same webhook again: forwarded (200, a replay), not run again.
expect_eq runner_republished "$(hpub "$P/one.json" "$SIG" evt_relay_1)" 202
wait_for 20 'test "$(forwarded)" -ge 2'
sleep 1
expect_eq runner_resend_forwarded "$(forwarded)" 2
expect_eq runner_resend_not_run_again "$(runs relayone)/$(starts relayone)" "1/1"

# Changed after signing: the runner refuses it, the client skips it.
printf '{"name":"relaybad","n":"%s"}' "$(rand_hex 4)" >"$P/bad.json"
expect_eq runner_tampered_published "$(hpub "$P/bad.json" "$SIG" evt_relay_2)" 202
wait_until 20 grep -q 'forward_failed id=.* path=/hooks/relayed status=401' "$T_TMP/connect.log"
expect_eq runner_tampered_refused "$(grep -c 'error forward_failed id=.* path=/hooks/relayed status=401 attempts=1' "$T_TMP/connect.log")" 1
expect_eq runner_tampered_not_run "$(runs relaybad)/$(starts relaybad)" "0/0"
printf '{"name":"relaytwo","n":"%s"}' "$(rand_hex 4)" >"$P/two.json"
SIG2=$(openssl dgst -sha256 -hmac "$HD" -binary "$P/two.json" | openssl base64 -A)
expect_eq runner_next_published "$(hpub "$P/two.json" "$SIG2" evt_relay_3)" 202
wait_for 30 'test "$(runs relaytwo)" -ge 1'
sleep 0.5
expect_eq runner_next_ran_once "$(runs relaytwo)" 1
kill -TERM "$CPID"
wait "$CPID"
expect_eq runner_client_exit_0 "$?" 0
expect_match runner_client_summary "$(grep ' stopped ' "$T_TMP/connect.log")" 'forwarded=3 failed=1 '
