#!/usr/bin/env bash
# `make run`: the demo service. Starts a throwaway OpenSSH sshd on loopback
# (tests/sshd.sh: fresh host and user keys, a /bin/sh test user when root),
# the remote-executor service holding the demo's key (tests/xservice.sh;
# its socket under .run/demo/xs/, so jobs after the first run on a warm SSH
# session), writes secrets and a config under .run/demo/, and runs
# webhook-runner on port 8080 (PORT=… to change) in the foreground. Ctrl-C
# stops all three. DEMO_EXECUTOR=spawn: no service, one executor per job.
# In another terminal, send a signed request:
#   ./build/release/webhook-runner sign --config .run/demo/config.json --hook demo \
#       config/demo-payload.json > .run/demo/headers.txt
#   curl -H @.run/demo/headers.txt --data-binary @config/demo-payload.json \
#       http://127.0.0.1:8080/hooks/demo
# The hook demo-approval waits for a person's approval: approve it with
# `webhook-runner approvals approve <job id> --as U0ALICE` (no Slack needed).
# The hook github takes a GitHub push relayed by Hookdeck
# (config/demo-github-push.json; the printed instructions show the curl line).
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-8080}
export BUILD TOP
cd "$TOP"
command -v /usr/sbin/sshd >/dev/null || { echo "demo: sshd missing; run 'make deps' first" >&2; exit 1; }
# shellcheck source=../tests/lib.sh
source tests/lib.sh
# shellcheck source=../tests/sshd.sh
source tests/sshd.sh
# shellcheck source=../tests/xservice.sh
source tests/xservice.sh
sshd_start

D=${DEMO_DIR:-$TOP/.run/demo} # DEMO_DIR: elsewhere (tests/e2e/demo_github.sh)
mkdir -p "$D"
chmod 700 "$D"
umask 077
# HOOKDECK_SIGNING_SECRET (the project's signing secret, for `hookdeck listen`)
# or a fresh random one.
if [ -n "${HOOKDECK_SIGNING_SECRET:-}" ]; then
	printf '%s' "$HOOKDECK_SIGNING_SECRET" >"$D/hookdeck.secret"
else
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/hookdeck.secret"
fi
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/jwt.secret"
cp "$KEY_ED25519" "$D/id_ed25519"
cp "$KNOWN_HOSTS" "$D/known_hosts"
DEST=$SSH_USER@127.0.0.1:$SSHD_PORT
if [ "${DEMO_EXECUTOR:-service}" = spawn ]; then
	EXECUTOR="\"path\": \"$BUILD/remote-executor\""
	WHO="\"identity\": \"$D/id_ed25519\", \"known_hosts\": \"$D/known_hosts\""
else
	XSD=$D/xs
	# A Unix socket path has at most 107 bytes: a deep checkout puts it in /tmp.
	if [ ${#XSD} -gt 80 ]; then XSD=$T_TMP/xs; fi
	rm -rf "$XSD"
	xsvc_start "$XSD" demo "$D/id_ed25519" "$D/known_hosts" "$DEST" ||
		{ echo "demo: remote-executor serve did not start:" >&2; tail -n 5 "$XSD/service.log" >&2; exit 1; }
	EXECUTOR="\"socket\": \"$XS_SOCK\""
	WHO="\"identity_name\": \"demo\""
fi
cat >"$D/config.json" <<JSON
{
  "server": { "listen": "127.0.0.1:$PORT", "threads": 16 },
  "store": { "path": "$D/webhook-runner.db" },
  "executor": { $EXECUTOR, "max_jobs": 4 },
  "log": { "level": "info", "format": "text" },
  "hooks": [
    {
      "id": "demo",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$D/hookdeck.secret"] },
      "jwt": { "algorithms": ["HS256"], "key": "file:$D/jwt.secret",
               "issuer": "demo-issuer", "audience": "webhook-runner" },
      "job": {
        "destination": "$DEST",
        $WHO,
        "command": "ref={{ref}} repo={{repo}}; echo \"deploying \$ref of \$repo as \$(id -un) on \$(hostname)\"",
        "params": {
          "ref": { "from": "payload", "path": "ref", "pattern": "refs/heads/[A-Za-z0-9._/-]{1,100}" },
          "repo": { "from": "payload", "path": "repository.full_name", "pattern": "[A-Za-z0-9._-]+/[A-Za-z0-9._-]+" }
        },
        "timeout_s": 60,
        "response_output": true
      }
    },
    {
      "id": "demo-hookdeck",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$D/hookdeck.secret"] },
      "job": {
        "destination": "$DEST",
        $WHO,
        "command": "ref={{ref}} repo={{repo}}; echo \"push to \$ref of \$repo, run as \$(id -un) on \$(hostname)\"",
        "params": {
          "ref": { "from": "payload", "path": "ref", "pattern": "refs/[A-Za-z0-9._/-]{1,100}" },
          "repo": { "from": "payload", "path": "repository.full_name", "pattern": "[A-Za-z0-9._-]+/[A-Za-z0-9._-]+" }
        },
        "timeout_s": 60,
        "response_output": true
      }
    },
    {
      "id": "github",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$D/hookdeck.secret"] },
      "idempotency": { "headers": ["x-hookdeck-eventid", "X-GitHub-Delivery"] },
      "job": {
        "destination": "$DEST",
        $WHO,
        "command": "test {{deleted}} = false || exit 3; ref={{ref}} repo={{repo}} sha={{sha}}; echo \"\$sha \$ref \$repo\" >>$MARK_DIR/github-deploys; echo \"deployed \$repo at \$sha (\$ref) as \$(id -un) on \$(hostname)\"",
        "params": {
          "ref": { "from": "payload", "path": "ref", "pattern": "refs/heads/(main|release-[0-9]{1,4}([.][0-9]{1,4}){0,2})" },
          "repo": { "from": "payload", "path": "repository.full_name", "pattern": "[A-Za-z0-9_.-]{1,39}/[A-Za-z0-9_.-]{1,100}" },
          "sha": { "from": "payload", "path": "after", "pattern": "[0-9a-f]{40}" },
          "deleted": { "from": "payload", "path": "deleted", "pattern": "false" }
        },
        "timeout_s": 60,
        "response_output": true
      }
    },
    {
      "id": "demo-approval",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$D/hookdeck.secret"] },
      "jwt": { "algorithms": ["HS256"], "key": "file:$D/jwt.secret",
               "issuer": "demo-issuer", "audience": "webhook-runner" },
      "job": {
        "destination": "$DEST",
        $WHO,
        "command": "ref={{ref}} repo={{repo}}; echo \"approved deploy of \$ref of \$repo as \$(id -un)\"",
        "params": {
          "ref": { "from": "payload", "path": "ref", "pattern": "refs/heads/[A-Za-z0-9._/-]{1,100}" },
          "repo": { "from": "payload", "path": "repository.full_name", "pattern": "[A-Za-z0-9._-]+/[A-Za-z0-9._-]+" }
        },
        "mode": "async",
        "timeout_s": 60,
        "response_output": true
      },
      "approval": {
        "approvers": ["U0ALICE", "U0BOB"],
        "required": 1,
        "timeout_s": 900,
        "requester_claim": "slack_user",
        "fields": { "Rollback": "redeploy the previous ref" }
      }
    }
  ]
}
JSON
"$BUILD/webhook-runner" check-config "$D/config.json"
cat <<MSG

demo: sshd on 127.0.0.1:$SSHD_PORT (user $SSH_USER), webhook-runner on http://127.0.0.1:$PORT
demo: jobs run through ${XS_SOCK:-a remote-executor per job (DEMO_EXECUTOR=spawn)}
demo: send a signed request from another terminal:
  ./build/release/webhook-runner sign --config .run/demo/config.json --hook demo config/demo-payload.json > .run/demo/headers.txt
  curl -H @.run/demo/headers.txt --data-binary @config/demo-payload.json http://127.0.0.1:$PORT/hooks/demo
demo: a hook that waits for approval (no Slack needed: approve with the CLI):
  ./build/release/webhook-runner sign --config .run/demo/config.json --hook demo-approval \\
      --claims '{"slack_user":"U0BOB"}' config/demo-payload.json > .run/demo/headers-approval.txt
  curl -i -H @.run/demo/headers-approval.txt --data-binary @config/demo-payload.json http://127.0.0.1:$PORT/hooks/demo-approval
  ./build/release/webhook-runner approvals list --config .run/demo/config.json
  ./build/release/webhook-runner approvals approve <job id> --as U0ALICE --config .run/demo/config.json
  ./build/release/webhook-runner jobs show <job id> --config .run/demo/config.json
demo: a GitHub push as Hookdeck delivers it (\`sign\` adds a fresh x-hookdeck-eventid: the
  idempotency key; each deploy appends a line to $MARK_DIR/github-deploys):
  ./build/release/webhook-runner sign --config .run/demo/config.json --hook github config/demo-github-push.json > .run/demo/headers-github.txt
  curl -H @.run/demo/headers-github.txt -H 'X-GitHub-Event: push' \\
      --data-binary @config/demo-github-push.json http://127.0.0.1:$PORT/hooks/github
demo: with Hookdeck (signature only, GitHub push events), start with
  HOOKDECK_SIGNING_SECRET=<your project's signing secret> make run
  hookdeck listen $PORT <your-source> --path /hooks/demo-hookdeck
demo: Ctrl-C stops.

MSG
"$BUILD/webhook-runner" --config "$D/config.json" &
RUNNER=$!
at_exit "kill $RUNNER"
wait "$RUNNER"
