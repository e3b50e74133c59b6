#!/usr/bin/env bash
# build-independent
# tests/e2e/deploy_docker_relay.sh — Dockerfile.relay (webhook-relay's image,
# both commands), proven without a Docker engine (none runs on the test
# machines). The checks every Dockerfile shares are tests/dockerfile.sh's:
# stages and debian:bookworm bases, a numeric non-root USER the stage
# creates, no -dev package at runtime, every package in bookworm, the build
# stage's packages providing the Makefile's pkg-config modules, the build
# stage's make run as written on a fresh copy of the committed tree, and
# every shared library of the copied binary provided by the runtime stage.
# This script adds the image's own promises: EXPOSE 3000 9000, the state
# VOLUME that connect's STATE_DIRECTORY points into, a HEALTHCHECK that runs
# `webhook-relay healthcheck` (no curl), ENTRYPOINT webhook-relay with CMD
# serve, STOPSIGNAL SIGTERM; then it runs the freshly built binary as the
# image's uid: `serve --open` on free loopback ports, /live, the HEALTHCHECK
# command (0), SIGTERM (exit 0), the command again (1); and `connect`
# forwarding one webhook to a recording target with its state written in a
# state directory that uid owns.
# What it cannot do: pull debian:bookworm, run apt-get in it, or start a
# container.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
DF_PREFIX=relay_
. "$TOP/tests/dockerfile.sh"

need_tools git dpkg dpkg-query ldd pkg-config curl

df_parse "$TOP/Dockerfile.relay"
df_check_stages
df_check_user
expect_eq relay_expose_public_and_ops "$(get runtime.expose)" "3000 9000"
vols=$(get runtime.volume | sort | tr '\n' ' ')
expect_eq relay_volume_state "$vols" "/var/lib/webhook-relay "
if get runtime.env | grep -qx 'STATE_DIRECTORY=/var/lib/webhook-relay'; then ok relay_connect_state_in_the_volume
else fail relay_connect_state_in_the_volume "want ENV STATE_DIRECTORY=/var/lib/webhook-relay, got: $(get runtime.env | tr '\n' ' ')"; fi
hc=$(get runtime.healthcheck)
expect_match relay_healthcheck_is_the_subcommand "$hc" '^\["webhook-relay", "healthcheck"'
ep=$(get runtime.entrypoint) cmd=$(get runtime.cmd)
expect_eq relay_entrypoint_is_the_program "$ep" '["webhook-relay"]'
expect_eq relay_cmd_serves "$cmd" '["serve"]'
expect_eq relay_stopsignal_term "$(get runtime.stopsignal)" SIGTERM

df_check_packages
df_build
df_runtime_bins
names=$(for b in "${BINS[@]}"; do basename "$b"; done | sort | tr '\n' ' ')
expect_eq relay_runtime_gets_the_relay "$names" "webhook-relay "
df_check_libraries

# ------------------------------------- the image's commands, on its binary
RB=
for b in "${BINS[@]}"; do [ "$(basename "$b")" = webhook-relay ] && RB=$b; done
if [ -z "$RB" ] || [ ! -x "$RB" ] || [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	skip relay_image_binary_runs_as_uid "needs the build above, root and setpriv"
	exit 0
fi
v=$(as_image_user "$RB" version 2>&1)
expect_match relay_image_binary_runs_as_uid "$v" '^webhook-relay [0-9]'

# serve, as the image's CMD plus loopback ports this test could get.
D_PID=
at_exit '[ -n "$D_PID" ] && kill -9 $D_PID'
for try in 1 2 3 4 5; do
	port=$((20000 + (RANDOM * 3 + try * 733) % 40000))
	ops=$((port + 1))
	(exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs -- \
		"$RB" $("$PY" -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])))' "$cmd") \
		--open --host 127.0.0.1 --port "$port" --ops-port "$ops") >>"$T_TMP/img.log" 2>&1 &
	D_PID=$!
	wait_until 10 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$ops/live" && break
	kill -9 "$D_PID" 2>/dev/null
	wait "$D_PID" 2>/dev/null
	D_PID=
done
if [ -z "$D_PID" ]; then
	fail relay_image_serves "the freshly built relay did not serve: $(tail -n 3 "$T_TMP/img.log")"
	exit 0
fi
ok relay_image_serves
d_uid=$(awk '/^Uid:/ { print $2 }' "/proc/$D_PID/status")
expect_eq relay_image_serves_as_uid "$d_uid" "$uid"
live=$(curl -s --max-time 5 "http://127.0.0.1:$ops/live")
expect_eq relay_image_live "$live" '{"status":"live"}'
# HEALTHCHECK's command, with the ops port this test could get (the image uses 9000).
hc_argv=$("$PY" -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])[1:]))' "$hc")
as_image_user "$RB" $hc_argv --port "$ops" >"$T_TMP/hc.out" 2>&1
expect_eq relay_image_healthcheck_healthy "$?" 0

# connect, as a second container of the image would run it: its state in a
# directory the image's uid owns, named by STATE_DIRECTORY as the image does.
ST=$T_TMP/state
mkdir -p "$ST"
chown "$uid:$gid" "$ST"
chmod 0700 "$ST"
"$PY" "$TOP/tests/tools/relay_recorder.py" "$T_TMP/rec.port" "$T_TMP/rec.out" "$T_TMP/rec.ctl" &
REC_PID=$!
at_exit "kill $REC_PID"
C_PID=
at_exit '[ -n "$C_PID" ] && kill -9 $C_PID'
if wait_until 10 test -s "$T_TMP/rec.port"; then
	(exec env STATE_DIRECTORY="$ST" setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		--no-new-privs -- "$RB" connect --source "http://127.0.0.1:$port/subscribe/img/" \
		--target "http://127.0.0.1:$(cat "$T_TMP/rec.port")") >>"$T_TMP/connect.log" 2>&1 &
	C_PID=$!
	# Published once connect is subscribed (the relay's gauge says so).
	subscribed() { curl -s --max-time 2 "http://127.0.0.1:$ops/metrics" | grep -qx 'relay_subscribers 1'; }
	wait_until 15 subscribed
	body="image-$(rand_hex 8)"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST --data "$body" \
		"http://127.0.0.1:$port/webhooks/img/hook")
	expect_eq relay_image_publish_202 "$code" 202
	wait_until 15 grep -q '"path": *"/hook"' "$T_TMP/rec.out" 2>/dev/null
	n=$(grep -c '"path": *"/hook"' "$T_TMP/rec.out" 2>/dev/null)
	expect_eq relay_image_connect_forwards_one "${n:-0}" 1
	kill -TERM "$C_PID"
	wait "$C_PID"
	expect_eq relay_image_connect_stops_cleanly "$?" 0
	C_PID=
	if [ -s "$ST/connect.state" ] && [ "$(stat -c %u "$ST/connect.state")" = "$uid" ]; then
		ok relay_image_connect_state_saved
	else
		fail relay_image_connect_state_saved "no connect.state owned by $uid in the state dir: $(ls -ln "$ST") $(tail -n 3 "$T_TMP/connect.log")"
	fi
else
	fail relay_image_connect "the recording target did not start"
fi

kill -TERM "$D_PID"
wait "$D_PID"
expect_eq relay_image_stops_cleanly "$?" 0
D_PID=
as_image_user "$RB" $hc_argv --port "$ops" >"$T_TMP/hc.out" 2>&1
expect_eq relay_image_healthcheck_unhealthy "$?" 1
