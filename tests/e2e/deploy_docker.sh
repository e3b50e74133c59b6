#!/usr/bin/env bash
# build-independent
# tests/e2e/deploy_docker.sh — the Dockerfile, proven without a Docker engine
# (none runs on the test machines). What it does:
#  - parses the Dockerfile (continuations, stages, exec-form JSON) with an
#    independent little parser, and checks the runtime stage's promises:
#    debian:bookworm bases, a numeric non-root USER created by the stage's own
#    useradd, EXPOSE 8080, config and state VOLUMEs, a HEALTHCHECK that runs
#    `webhook-runner healthcheck` (no curl), an ENTRYPOINT/CMD serving
#    /etc/webhook-runner/config.json, no -dev package or compiler;
#  - checks every package either stage installs exists in bookworm's apt
#    lists, that the build stage's packages are the ones providing the
#    Makefile's pkg-config modules, and that they are the ones installed here
#    (so the build below used them); that the build stage fetches CivetWeb's
#    source (`make civetweb-source`, which needs dpkg-dev's dpkg-source);
#  - runs the build stage's make commands, as written, in a fresh copy of the
#    committed tree (git archive HEAD: what CI clones; .dockerignore keeps a
#    host build out of the real context). CivetWeb's source, which `make
#    deps` fetched on this machine through apt, is copied in first, so the
#    fetch step runs but does not download again;
#  - checks the files the runtime stage copies exist, and with ldd + dpkg -S
#    that every shared library the two binaries load comes from a package the
#    runtime stage installs (directly or as an apt dependency of one);
#  - runs the freshly built binaries as uid 10001: --version, and the image's
#    HEALTHCHECK command against a daemon serving (0) and a closed port (1).
# The checks every Dockerfile here shares live in tests/dockerfile.sh.
# What it cannot do: pull debian:bookworm, run apt-get in it, or start a
# container — README.md says so.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/dockerfile.sh"

need_tools git dpkg dpkg-query ldd pkg-config curl

# ---------------------------------------------------------------- parse
df_parse "$TOP/Dockerfile"
df_check_stages

# ------------------------------------------------------- runtime promises
df_check_user
expect_eq expose_8080 "$(get runtime.expose)" 8080
vols=$(get runtime.volume | sort | tr '\n' ' ')
expect_eq volumes_config_and_state "$vols" "/etc/webhook-runner /var/lib/webhook-runner "
hc=$(get runtime.healthcheck)
expect_match healthcheck_is_the_subcommand "$hc" '^\["webhook-runner", "healthcheck"'
ep=$(get runtime.entrypoint) cmd=$(get runtime.cmd)
argv=$("$PY" -c 'import json,sys; print(" ".join(json.loads(sys.argv[1]) + json.loads(sys.argv[2])))' "$ep" "$cmd" 2>/dev/null)
expect_eq entrypoint_serves_the_config "$argv" "webhook-runner --config /etc/webhook-runner/config.json"
expect_eq stopsignal_term "$(get runtime.stopsignal)" SIGTERM

df_check_packages

# ---------------------------------------------------- the build stage's make
df_build

# The runtime stage's COPY --from sources exist; the binaries' libraries come
# from the runtime stage's packages (or their apt dependencies).
df_runtime_bins
names=$(for b in "${BINS[@]}"; do basename "$b"; done | sort | tr '\n' ' ')
expect_eq runtime_gets_both_binaries "$names" "remote-executor webhook-runner "

df_check_libraries

# ------------------------------------- the image's commands, on its binaries
WRB=
for b in "${BINS[@]}"; do [ "$(basename "$b")" = webhook-runner ] && WRB=$b; done
if [ -n "$WRB" ] && [ -x "$WRB" ] && [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	v=$(as_image_user "$WRB" --version 2>&1)
	expect_match image_binary_runs_as_uid "$v" '^webhook-runner [0-9]'
	# A state directory owned by the image's user, a minimal config.
	ST=$T_TMP/state
	mkdir -p "$ST"
	printf 'image-test-secret-%s' "$RANDOM" >"$ST/secret"
	: >"$ST/known_hosts"
	cat >"$ST/config.json" <<EOF
{ "store": { "path": "$ST/webhook-runner.db" },
  "hooks": [ { "id": "h", "signature": { "scheme": "hookdeck", "secrets": ["file:$ST/secret"] },
    "job": { "destination": "u@127.0.0.1:1", "identity": "$ST/secret",
             "known_hosts": "$ST/known_hosts", "command": "true" } } ] }
EOF
	chown -R "$uid:${user#*:}" "$ST"
	D_PID=
	at_exit '[ -n "$D_PID" ] && kill -9 $D_PID'
	for try in 1 2 3 4 5; do
		port=$((20000 + (RANDOM * 3 + try * 733) % 40000))
		# (exec: $! must be the daemon itself, not a subshell around it)
		(exec setpriv --reuid="$uid" --regid="${user#*:}" --clear-groups --no-new-privs -- \
			"$WRB" --config "$ST/config.json" --host 127.0.0.1 --port "$port") >>"$T_TMP/img.log" 2>&1 &
		D_PID=$!
		wait_until 10 curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" && break
		kill -9 "$D_PID" 2>/dev/null
		wait "$D_PID" 2>/dev/null
		D_PID=
	done
	if [ -n "$D_PID" ]; then
		# HEALTHCHECK's command, with the port this test could get (the image uses 8080).
		hc_argv=$("$PY" -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])[1:]))' "$hc")
		as_image_user "$WRB" $hc_argv --port "$port" >"$T_TMP/hc.out" 2>&1
		expect_eq image_healthcheck_healthy "$?" 0
		kill -TERM "$D_PID"
		wait "$D_PID"
		expect_eq image_daemon_stops_cleanly "$?" 0
		D_PID=
		as_image_user "$WRB" $hc_argv --port "$port" >"$T_TMP/hc.out" 2>&1
		expect_eq image_healthcheck_unhealthy "$?" 1
	else
		fail image_daemon_serves "the freshly built daemon did not serve: $(tail -n 3 "$T_TMP/img.log")"
	fi
else
	skip image_binary_runs_as_uid "needs the build above, root and setpriv"
fi
