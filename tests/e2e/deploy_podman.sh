#!/usr/bin/env bash
# build-independent
# tests/e2e/deploy_podman.sh — the container images, really built and run by
# a container engine (Debian's podman; tests/podman.sh sets it up, throwaway,
# with a `debian:bookworm` made by mmdebstrap since no registry is reachable).
# The Dockerfile:
#  - builds (the build stage's apt-get, CivetWeb's source fetched by `make
#    civetweb-source` inside the build, the compile), in a copy of the tree;
#  - the image's config as `podman inspect` reads it: HEALTHCHECK kept, the
#    numeric USER, the entrypoint;
#  - runs it as README says: config at /etc/webhook-runner/config.json (its
#    CMD), the secrets in /run/secrets and the environment, a state volume,
#    port 8080 published on loopback; `check-config` in the image accepts the
#    config; the image's own HEALTHCHECK (`podman healthcheck run`) says healthy
#    (and unhealthy for a container whose daemon serves another port);
#  - a delivery signed by independent tools (openssl HMAC, a PyJWT token) runs
#    its job on the test sshd, counted there; a second signed by the image's
#    own `webhook-runner sign` too; an unsigned one is refused and runs nothing;
#  - `podman stop` (SIGTERM) while a job runs: the job finishes (counted),
#    the daemon's log says it drained, and the container exits 0.
# Dockerfile.relay (names relay_…): builds, runs, /live and /ready answer,
# its HEALTHCHECK is healthy, a webhook published reaches a subscriber, and
# SIGTERM ends it with 0.
# A machine without podman (or not root) skips with the reason; CI installs
# podman through tests/deps.sh and runs as root, so there it runs. The images
# are cached by a key of everything the build reads (tests/podman.sh): the
# second run on a machine loads them instead of compiling.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/podman.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

why=$(pm_why_not)
if [ -n "$why" ]; then
	skip podman_image_runs "$why"
	exit 0
fi
need_tools git openssl curl sqlite3
"$PY" -c 'import jwt' 2>/dev/null || { fail setup "python3-jwt missing (make deps)"; exit 1; }
T_START=$(now_ms)
pm_setup

# ------------------------------------------------------------------ the image
if pm_image Dockerfile webhook-runner-test; then
	ok image_builds
	info "runner image: ${PM_SECS}s from $PM_FROM (key $PM_KEY)"
else
	fail image_builds "podman build failed (log above)"
	exit 1
fi
IMG=localhost/webhook-runner-test:latest
hc=$(podman image inspect --format '{{json .Config.Healthcheck.Test}}' "$IMG" 2>&1)
expect_eq image_keeps_healthcheck "$hc" '["CMD","webhook-runner","healthcheck"]'
expect_eq image_user_numeric "$(podman image inspect --format '{{.Config.User}}' "$IMG" 2>&1)" 10001:10001
v=$(podman run --rm --no-healthcheck --network none "$IMG" --version 2>"$T_TMP/version.err")
expect_match image_runs_version "$v" '^webhook-runner [0-9]'

# ------------------------------------------------------------------ the world
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
at_exit kill_leftovers
ETC=$T_TMP/etc SEC=$T_TMP/secrets STATE=$T_TMP/state
mkdir -p "$ETC" "$SEC" "$STATE"
HD=$(rand_hex 32) JWTK=$(rand_hex 32)
printf '%s' "$JWTK" >"$SEC/jwt.secret"
cp "$KEY_ED25519" "$SEC/deploy_key"
# The container reaches the host's loopback (the sshd) as $PM_HOST_IP.
sed "s/^\[127\.0\.0\.1\]/[$PM_HOST_IP]/" "$KNOWN_HOSTS" >"$ETC/known_hosts"
chown 10001:10001 "$SEC"/* "$STATE"
chmod 0400 "$SEC"/*
chmod 0700 "$STATE"
chmod 0755 "$ETC" "$SEC"
CMD="n={{name}}; echo \$\$ >>$MARK_DIR/\$n.pids; echo start >>$MARK_DIR/\$n.start; sleep {{secs}};"
CMD+=" echo run >>$MARK_DIR/\$n; echo out-\$n"
cat >"$ETC/config.json" <<JSON
{
  "server": { "listen": "0.0.0.0:8080", "drain_timeout_s": 30 },
  "store": { "path": "/var/lib/webhook-runner/webhook-runner.db" },
  "executor": { "path": "/usr/local/bin/remote-executor", "max_jobs": 2 },
  "hooks": [
    { "id": "deploy",
      "signature": { "scheme": "hookdeck", "secrets": ["env:HOOKDECK_SECRET"] },
      "jwt": { "algorithms": ["HS256"], "key": "cred:jwt.secret", "issuer": "ci",
               "audience": "webhook-runner" },
      "job": { "destination": "$SSH_USER@$PM_HOST_IP:$SSHD_PORT",
               "identity": "/run/secrets/deploy_key",
               "known_hosts": "/etc/webhook-runner/known_hosts",
               "command": "$CMD",
               "params": { "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" },
                           "secs": { "from": "payload", "path": "secs", "pattern": "[0-9]" } },
               "timeout_s": 30, "connect_timeout_s": 5, "response_output": true } }
  ]
}
JSON
chmod 0644 "$ETC/config.json" "$ETC/known_hosts"
VOLS=(-v "$ETC:/etc/webhook-runner:ro" -v "$SEC:/run/secrets:ro" -v "$STATE:/var/lib/webhook-runner")
NET=(--network "slirp4netns:allow_host_loopback=true")

out=$(podman run --rm --no-healthcheck "${VOLS[@]}" -e HOOKDECK_SECRET="$HD" --network none "$IMG" \
	check-config /etc/webhook-runner/config.json 2>&1)
rc=$?
expect_eq image_check_config_accepts "$rc" 0
[ "$rc" -eq 0 ] || info "check-config: ${out:0:400}"

# ------------------------------------------------------------------ run it
CID=wr-test-$$
RUNNER_PORT=
for try in 1 2 3 4 5; do
	port=$((20000 + (RANDOM * 3 + try * 733) % 40000))
	podman rm -f -t 0 "$CID" >/dev/null 2>&1
	podman run -d --name "$CID" "${NET[@]}" -p "127.0.0.1:$port:8080" "${VOLS[@]}" \
		-e HOOKDECK_SECRET="$HD" "$IMG" >"$T_TMP/run.out" 2>&1 || continue
	if wait_until 20 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz"; then
		RUNNER_PORT=$port
		break
	fi
done
if [ -z "$RUNNER_PORT" ]; then
	fail image_serves "the container did not serve: $(cat "$T_TMP/run.out"; podman logs --tail 5 "$CID" 2>&1)"
	exit 1
fi
ok image_serves
info "runner container up $(($(now_ms) - T_START)) ms after the test began"
if pm_healthy "$CID"; then ok image_healthcheck_healthy; else
	fail image_healthcheck_healthy "$(podman healthcheck run "$CID" 2>&1 | head -c 300)"
fi
# Control: the same image serving on another port is unhealthy by its own
# HEALTHCHECK (which probes 8080), though the daemon answers on its port.
UCID=wr-test-unhealthy-$$
mkdir -m 0700 "$T_TMP/state2" && chown 10001:10001 "$T_TMP/state2"
podman run -d --name "$UCID" --network none -v "$ETC:/etc/webhook-runner:ro" -v "$SEC:/run/secrets:ro" \
	-v "$T_TMP/state2:/var/lib/webhook-runner" -e HOOKDECK_SECRET="$HD" "$IMG" \
	--config /etc/webhook-runner/config.json --port 8081 >/dev/null 2>&1
if wait_until 20 podman exec "$UCID" webhook-runner healthcheck --port 8081 >/dev/null 2>&1; then
	if pm_healthy "$UCID"; then fail image_healthcheck_unhealthy "healthy though nothing serves 8080"; else
		ok image_healthcheck_unhealthy; fi
else
	fail image_healthcheck_unhealthy "the control container did not serve on 8081: $(podman logs --tail 3 "$UCID" 2>&1)"
fi
podman rm -f -t 0 "$UCID" >/dev/null 2>&1
DB=$STATE/webhook-runner.db

# deliver TAG NAME SECS [curl args...] : signed with openssl's HMAC and a PyJWT token
deliver() {
	local tag=$1 name=$2 secs=$3 body tok
	shift 3
	body=$P/$tag.json
	printf '{"name":"%s","secs":"%s"}' "$name" "$secs" >"$body"
	tok=$(ISS=ci AUD=webhook-runner SUB=deployer "$PY" "$TOP/tests/tools/jwt_mint.py" HS256 "$SEC/jwt.secret")
	fetch "$R/$tag" --max-time 40 -H "x-hookdeck-signature: $(hd_sig "$HD" "$body")" \
		-H "Idempotency-Key: $tag-$(rand_hex 4)" -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' --data-binary @"$body" "$@" \
		"http://127.0.0.1:$RUNNER_PORT/hooks/deploy" >"$R/$tag.code"
}
deliver d1 one 0
answer image_delivery_runs_job d1 code=200 status=succeeded exit_code=0 'output_tail=*out-one*' runs:one=1 starts:one=1
expect_eq image_store_on_volume "$(counts)" 1/1

# The image's own signer (inside the container, with the config it serves).
printf '{"name":"two","secs":"0"}' >"$P/two.json"
podman cp "$P/two.json" "$CID:/tmp/two.json" >/dev/null 2>&1
podman exec "$CID" webhook-runner sign --config /etc/webhook-runner/config.json --hook deploy \
	--idempotency-key two-1 /tmp/two.json >"$R/two.hdrs" 2>"$R/two.signerr"
if grep -qi '^x-hookdeck-signature:' "$R/two.hdrs"; then
	fetch "$R/two" --max-time 40 -H @"$R/two.hdrs" --data-binary @"$P/two.json" \
		"http://127.0.0.1:$RUNNER_PORT/hooks/deploy" >"$R/two.code"
	answer image_own_signer_runs_job two code=200 status=succeeded runs:two=1
else
	fail image_own_signer_runs_job "sign in the container: $(head -c 300 "$R/two.signerr")"
fi

# Unsigned: refused, nothing runs, nothing recorded.
printf '{"name":"bad","secs":"0"}' >"$P/bad.json"
fetch "$R/bad" --max-time 20 -H 'Idempotency-Key: bad-1' --data-binary @"$P/bad.json" \
	"http://127.0.0.1:$RUNNER_PORT/hooks/deploy" >"$R/bad.code"
answer image_unsigned_refused bad 'code=40[13]' runs:bad=0 starts:bad=0
expect_eq image_unsigned_not_recorded "$(counts)" 2/2

# ------------------------------------------------------------------ stop: drain
deliver slow slow 3 &
BG_PIDS+=("$!")
SLOW_PID=$!
if wait_until 20 started slow; then
	podman stop -t 45 "$CID" >/dev/null 2>"$T_TMP/stop.err"
	wait "$SLOW_PID"
	expect_eq image_stop_drains_job "$(runs slow)" 1
	answer image_stop_job_answered slow code=200 status=succeeded
else
	fail image_stop_drains_job "the slow job never started: $(podman logs --tail 5 "$CID" 2>&1)"
	podman stop -t 45 "$CID" >/dev/null 2>&1
fi
st=$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$CID" 2>&1)
expect_eq image_stop_exits_0 "$st" "exited 0"
podman logs "$CID" >"$T_TMP/container.log" 2>&1
# "stopping" with the job running, "stopped" after it, and no job interrupted
if grep -q ' stopping running_jobs=1 ' "$T_TMP/container.log" && grep -q ' info stopped$' "$T_TMP/container.log" &&
	! grep -q 'interrupted_jobs' "$T_TMP/container.log"; then
	ok image_log_says_drained
else
	fail image_log_says_drained "$(grep -i 'stop\|drain' "$T_TMP/container.log" | tail -n 4 | head -c 400)"
fi
expect_eq image_nothing_left_remote "$(remote_left slow)" ""
podman rm -f -t 0 "$CID" >/dev/null 2>&1

# ------------------------------------------------------------------ the relay
# ------------------------------------------------------------------ the relay
if pm_image Dockerfile.relay webhook-relay-test; then
	ok relay_image_builds
	info "relay image: ${PM_SECS}s from $PM_FROM (key $PM_KEY)"
else
	fail relay_image_builds "podman build -f Dockerfile.relay failed (log above)"
	exit 1
fi
RIMG=localhost/webhook-relay-test:latest
hc=$(podman image inspect --format '{{json .Config.Healthcheck.Test}}' "$RIMG" 2>&1)
expect_eq relay_image_keeps_healthcheck "$hc" '["CMD","webhook-relay","healthcheck"]'
expect_eq relay_image_user_numeric "$(podman image inspect --format '{{.Config.User}}' "$RIMG" 2>&1)" 10003:10003
SSE="$PY $TOP/tests/tools/sse_read.py"
Q="$PY $TOP/tests/tools/relay_check.py"
RTOK=sub-$(rand_hex 16)
RCID=wr-relay-test-$$
RPORT=
for try in 1 2 3 4 5; do
	port=$((20000 + (RANDOM * 3 + try * 733) % 40000))
	podman rm -f -t 0 "$RCID" >/dev/null 2>&1
	# The image's CMD is `serve`; --ops-host 0.0.0.0 to read /live and /ready
	# from the host too (the HEALTHCHECK probes 127.0.0.1:9000 inside).
	podman run -d --name "$RCID" "${NET[@]}" -p "127.0.0.1:$port:3000" -p "127.0.0.1:$((port + 1)):9000" \
		-e RELAY_TOKEN=env:SUBSCRIBE_TOKEN -e SUBSCRIBE_TOKEN="$RTOK" "$RIMG" serve --ops-host 0.0.0.0 \
		>"$T_TMP/rrun.out" 2>&1 || continue
	if wait_until 20 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$((port + 1))/live"; then
		RPORT=$port
		break
	fi
done
if [ -z "$RPORT" ]; then
	fail relay_image_serves "the relay container did not serve: $(cat "$T_TMP/rrun.out"; podman logs --tail 5 "$RCID" 2>&1)"
	exit 1
fi
ok relay_image_serves
for p in live ready; do
	c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$((RPORT + 1))/$p")
	expect_eq "relay_image_$p" "$c" 200
done
if pm_healthy "$RCID"; then ok relay_image_healthcheck_healthy; else
	fail relay_image_healthcheck_healthy "$(podman healthcheck run "$RCID" 2>&1 | head -c 300)"
fi
# A subscriber (python's own SSE parser), then a publish: it gets it.
$SSE "http://127.0.0.1:$RPORT/subscribe/demo/" "$T_TMP/sub.sse" --header "Authorization: Bearer $RTOK" \
	--seconds 30 &
SUB_PID=$!
BG_PIDS+=("$SUB_PID")
wait_until 10 bash -c "[ -n \"\$($Q status '$T_TMP/sub.sse')\" ]"
expect_eq relay_image_subscribe_200 "$($Q status "$T_TMP/sub.sse")" 200
c=$(curl -s -o "$T_TMP/pub.body" -w '%{http_code}' --max-time 10 -X POST -d '{"n":1}' \
	"http://127.0.0.1:$RPORT/webhooks/demo/x")
expect_eq relay_image_publish_202 "$c" 202
wait_until 10 bash -c "[ \"\$($Q count '$T_TMP/sub.sse' webhook)\" -ge 1 ]"
pid=$(sed -n 's/.*"id":"\([0-9]*-[0-9]*\)".*/\1/p' "$T_TMP/pub.body")
got=$($Q ids "$T_TMP/sub.sse")
if [ -n "$pid" ] && [ "$got" = "$pid" ]; then ok relay_image_subscriber_gets_it; else
	fail relay_image_subscriber_gets_it "published '$pid', the subscriber got '$got'"
fi
# Unauthenticated subscribers are refused.
c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$RPORT/subscribe/demo/")
expect_eq relay_image_subscribe_needs_token "$c" 401
# SIGTERM: the subscriber's stream ends, the container exits 0.
podman stop -t 30 "$RCID" >/dev/null 2>&1
wait_until 10 bash -c "[ -n \"\$($Q end '$T_TMP/sub.sse')\" ]"
expect_eq relay_image_stop_ends_stream "$($Q end "$T_TMP/sub.sse")" closed
# the retry hint on connecting, and the final one of the drain
expect_eq relay_image_stop_retry_hint "$($Q retries "$T_TMP/sub.sse")" 2
expect_eq relay_image_stop_exits_0 "$(podman inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$RCID" 2>&1)" "exited 0"
podman rm -f -t 0 "$RCID" >/dev/null 2>&1
info "deploy_podman took $(($(now_ms) - T_START)) ms"
