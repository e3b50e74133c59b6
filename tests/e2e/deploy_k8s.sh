#!/usr/bin/env bash
# deploy_k8s.sh — the Kubernetes manifests in deploy/k8s/, without a cluster:
#  - static (tests/tools/k8s_check.py, python3-yaml): every file parses, every
#    kind is a core one with its apiVersion, selectors, non-root users,
#    read-only root filesystems, resources, probe and Service ports declared,
#    every secret reference of each container's config a file of a Secret
#    mounted into that container, the SSH key's Secret in the executor
#    container only, the socket on one shared emptyDir, replicas >= 2 on
#    PostgreSQL;
#  - the runner's ConfigMap config passes `webhook-runner check-config` with
#    test files for its secrets (and fails when one is missing);
#  - the real programs serve what the probes ask for, on the ports the
#    manifests name: in a network namespace of its own (only a loopback, so
#    8080, 9090, 3000 and 9000 are free whatever else runs on this machine),
#    webhook-runner with the ConfigMap's config (the store an SQLite file,
#    since no database runs here; secrets and the socket in a temp dir) and
#    remote-executor serve with its ConfigMap's, webhook-relay serve with the
#    Deployment's environment, and connect with its own; each probe path on its
#    port answers 200, /live is not on the public port, and connect
#    subscribes to the relay.
# Needs root or user namespaces (unshare -n), as CI has. A few seconds.
if [ -z "${DEPLOY_K8S_NETNS:-}" ]; then
	# Once, in a new network namespace with its loopback up.
	if [ "$(id -u)" -eq 0 ]; then un=(unshare -n); else un=(unshare -rn); fi
	if "${un[@]}" true 2>/dev/null; then
		exec "${un[@]}" env DEPLOY_K8S_NETNS=1 bash -c 'ip link set lo up && exec bash "$0"' "$0"
	fi
	DEPLOY_K8S_NETNS=none
fi
# shellcheck source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need_bins "$BUILD/webhook-runner" "$BUILD/remote-executor" "$BUILD/webhook-relay"
need_tools curl ssh-keygen
WR=$BUILD/webhook-runner EX=$BUILD/remote-executor RL=$BUILD/webhook-relay
K=$TOP/deploy/k8s
F=$T_TMP/facts

# ------------------------------------------------------------------ static
if ! "$PY" -c 'import yaml' 2>/dev/null; then
	fail setup "python3-yaml missing (make deps)"
	exit 1
fi
"$PY" "$TOP/tests/tools/k8s_check.py" "$K" "$T_TMP"
# fact KIND CONTAINER [FIELD] : the rest of the first matching line
fact() { awk -v k="$1" -v c="$2" -v f="${3:-}" '$1 == k && $2 == c && (f == "" || $3 == f) {
	$1 = ""; $2 = ""; if (f != "") $3 = ""; sub(/^ +/, ""); print; exit }' "$F"; }
[ -s "$T_TMP/runner-config.json" ] || { fail setup "k8s_check.py wrote no runner config"; exit 1; }

# The checker fails: a copy with the SSH key mounted into the runner too.
mkdir -p "$T_TMP/bad"
"$PY" - "$K/runner.yaml" "$T_TMP/bad/runner.yaml" <<'EOF'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
for d in docs:
    if d.get('kind') == 'Deployment':
        c = d['spec']['template']['spec']['containers'][0]
        c['volumeMounts'].append({'name': 'ssh-key', 'mountPath': '/run/keys', 'readOnly': True})
        c['securityContext']['readOnlyRootFilesystem'] = False
yaml.safe_dump_all(docs, open(sys.argv[2], 'w'))
EOF
cp "$K/relay.yaml" "$T_TMP/bad/"
out=$("$PY" "$TOP/tests/tools/k8s_check.py" "$T_TMP/bad" "$T_TMP/bad" | grep '^FAIL' | cut -d: -f1 | tr '\n' ' ')
expect_eq static_check_refuses_a_broken_pod "$out" "FAIL webhook-runner/runner_read_only_root FAIL ssh_key_only_in_executor "

# ------------------------------------------------------------------ check-config
SEC=$T_TMP/secrets
mkdir -p "$SEC"
for n in $(awk '$1 == "cred" && $2 == "webhook-runner/runner" { print $3 }' "$F"); do
	rand_hex 32 >"$SEC/$n"
	chmod 600 "$SEC/$n"
done
info "runner secrets: $(ls "$SEC" | tr '\n' ' ')"
out=$(CREDENTIALS_DIRECTORY=$SEC "$WR" check-config "$T_TMP/runner-config.json" 2>&1)
expect_match configmap_config_passes_check_config "$out" 'runner-config.json: ok \(1 hook'
# ... with its secrets really read: one missing file is an error naming it.
mv "$SEC/jwt-key" "$T_TMP/jwt-key.away"
out=$(CREDENTIALS_DIRECTORY=$SEC "$WR" check-config "$T_TMP/runner-config.json" 2>&1)
expect_match configmap_config_needs_its_secrets "$?:$out" '^1:.*jwt-key'
mv "$T_TMP/jwt-key.away" "$SEC/jwt-key"

# ------------------------------------------------------------------ the real programs
if [ "$DEPLOY_K8S_NETNS" = none ]; then
	fail netns "unshare -n is refused here: the probes need the manifests' own ports"
	exit 1
fi
wait_200() { # URL [TOKEN]: polls for up to 10 s, prints the last status
	local code=000 end=$(($(now_ms) + 10000))
	while :; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" || true)
		[ "$code" = 200 ] && break
		[ "$(now_ms)" -lt "$end" ] || break
		sleep 0.1
	done
	echo "$code"
}
port_of_listen() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["server"][sys.argv[2]].rsplit(":",1)[1])' "$T_TMP/runner-config.json" "$1"; }

# The executor service, with its ConfigMap's config: socket, key and
# known_hosts moved into the temp dir, this uid allowed.
XS=$T_TMP/xs XSEC=$T_TMP/xsecrets
mkdir -p "$XS" "$XSEC"
for n in $(awk '$1 == "cred" && $2 == "webhook-runner/executor" { print $3 }' "$F"); do
	ssh-keygen -q -t ed25519 -N '' -f "$XSEC/$n" </dev/null >/dev/null
done
: >"$T_TMP/known_hosts"
"$PY" - "$T_TMP/executor.json" "$XS/executor.sock" "$T_TMP/known_hosts" "$(id -u)" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c['socket'], c['known_hosts'], c['allowed_uids'] = sys.argv[2], sys.argv[3], [int(sys.argv[4])]
json.dump(c, open(sys.argv[1] + '.local', 'w'))
EOF
CREDENTIALS_DIRECTORY=$XSEC "$EX" serve --config "$T_TMP/executor.json.local" 2>"$T_TMP/xs.log" &
XPID=$!
at_exit "kill $XPID; wait $XPID"
if wait_until 10 test -S "$XS/executor.sock"; then ok executor_serves_its_configmap_config
else fail executor_serves_its_configmap_config "no socket: $(tail -n 3 "$T_TMP/xs.log")"; fi

# The runner, with the ConfigMap's config: the same listeners, the store a
# SQLite file, the socket the one above.
"$PY" - "$T_TMP/runner-config.json" "$T_TMP/wr.db" "$XS/executor.sock" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c['store'] = {'path': sys.argv[2]}
c['executor']['socket'] = sys.argv[3]
json.dump(c, open(sys.argv[1] + '.local', 'w'))
EOF
CREDENTIALS_DIRECTORY=$SEC "$WR" --config "$T_TMP/runner-config.json.local" 2>"$T_TMP/wr.log" &
WPID=$!
at_exit "kill $WPID; wait $WPID"
n=0
while read -r _ c kind path port; do
	[ "$c" = webhook-runner/runner ] || continue
	n=$((n + 1))
	expect_eq "runner_${kind}_probe_answers_200" "$(wait_200 "http://127.0.0.1:$port$path")" 200
done < <(grep '^probe ' "$F")
expect_eq runner_probes_found "$n" 2
sp=$(fact serviceport webhook-runner/runner)
expect_eq runner_service_port_is_listen "$sp" "$(port_of_listen listen)"
expect_eq runner_service_port_serves_hooks \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{}' "http://127.0.0.1:$sp/hooks/deploy-app")" 401

# The relay server with the Deployment's environment (its token file moved).
rand_hex 32 >"$T_TMP/subscribe-token"
env_of() { # CONTAINER: its env as NAME=VALUE words, file: tokens moved into the temp dir
	awk -v c="$1" '$1 == "env" && $2 == c { print $3 "=" $4 }' "$F" |
		sed "s|=file:/run/secrets/|=file:$T_TMP/|; s|=/var/lib/webhook-relay/|=$T_TMP/|"
}
mapfile -t RENV < <(env_of webhook-relay/relay)
info "relay env: ${RENV[*]}"
env "${RENV[@]}" "$RL" serve 2>"$T_TMP/relay.log" &
RPID=$!
at_exit "kill $RPID; wait $RPID"
n=0
while read -r _ c kind path port; do
	[ "$c" = webhook-relay/relay ] || continue
	n=$((n + 1))
	expect_eq "relay_${kind}_probe_answers_200" "$(wait_200 "http://127.0.0.1:$port$path")" 200
done < <(grep '^probe ' "$F")
expect_eq relay_probes_found "$n" 2
sp=$(fact serviceport webhook-relay/relay)
expect_eq relay_service_port_is_server_port "$sp" "$(fact env webhook-relay/relay SERVER_PORT)"
# The probes' port matters: the public port has no /live.
expect_eq relay_live_not_on_public_port \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$sp/live")" 404

# The client with its environment, the Services' names on this loopback:
# it subscribes to the relay.
mapfile -t CENV < <(env_of webhook-relay-connect/connect | sed 's|//webhook-relay:|//127.0.0.1:|; s|//webhook-runner:|//127.0.0.1:|')
info "connect env: ${CENV[*]}"
env "${CENV[@]}" "$RL" connect 2>"$T_TMP/connect.log" &
CPID=$!
at_exit "kill $CPID; wait $CPID"
subs() { curl -s "http://127.0.0.1:$(fact env webhook-relay/relay OPS_PORT)/metrics" | awk '$1 == "relay_subscribers" { print $2 }'; }
one_sub() { [ "$(subs)" = 1 ]; }
if wait_until 10 one_sub; then ok connect_subscribes_with_its_env
else fail connect_subscribes_with_its_env "relay_subscribers=$(subs): $(tail -n 3 "$T_TMP/connect.log")"; fi

# Each stops on SIGTERM with 0, as a pod's termination asks (all at once,
# as the kubelet sends it to every container of a pod).
kill -TERM "$CPID" "$RPID" "$WPID" "$XPID" 2>/dev/null
for p in CPID RPID WPID XPID; do
	wait "${!p}"
	expect_eq "sigterm_exit_${p,,}" "$?" 0
done
