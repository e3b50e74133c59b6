#!/usr/bin/env bash
# `make run`: the demo service. Starts a throwaway OpenSSH sshd on loopback
# (tests/sshd.sh: fresh host and user keys, a /bin/sh test user when root),
# writes secrets and a config under .run/demo/, and runs webhook-runner on
# port 8080 (PORT=… to change) in the foreground. Ctrl-C stops both.
# In another terminal, send a signed request:
#   ./build/release/webhook-runner sign --config .run/demo/config.json --hook demo \
#       config/demo-payload.json > .run/demo/headers.txt
#   curl -H @.run/demo/headers.txt --data-binary @config/demo-payload.json \
#       http://127.0.0.1:8080/hooks/demo
# The hook demo-approval waits for a person's approval: approve it with
# `webhook-runner approvals approve <job id> --as U0ALICE` (no Slack needed).
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
sshd_start

D=$TOP/.run/demo
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
cat >"$D/config.json" <<JSON
{
  "server": { "listen": "127.0.0.1:$PORT", "threads": 16 },
  "store": { "path": "$D/webhook-runner.db" },
  "executor": { "path": "$BUILD/remote-executor", "max_jobs": 4 },
  "log": { "level": "info", "format": "text" },
  "hooks": [
    {
      "id": "demo",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$D/hookdeck.secret"] },
      "jwt": { "algorithms": ["HS256"], "key": "file:$D/jwt.secret",
               "issuer": "demo-issuer", "audience": "webhook-runner" },
      "job": {
        "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT",
        "identity": "$D/id_ed25519",
        "known_hosts": "$D/known_hosts",
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
        "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT",
        "identity": "$D/id_ed25519",
        "known_hosts": "$D/known_hosts",
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
      "id": "demo-approval",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$D/hookdeck.secret"] },
      "jwt": { "algorithms": ["HS256"], "key": "file:$D/jwt.secret",
               "issuer": "demo-issuer", "audience": "webhook-runner" },
      "job": {
        "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT",
        "identity": "$D/id_ed25519",
        "known_hosts": "$D/known_hosts",
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
demo: with Hookdeck (signature only, GitHub push events), start with
  HOOKDECK_SIGNING_SECRET=<your project's signing secret> make run
  hookdeck listen $PORT <your-source> --path /hooks/demo-hookdeck
demo: Ctrl-C stops.

MSG
"$BUILD/webhook-runner" --config "$D/config.json" &
RUNNER=$!
at_exit "kill $RUNNER"
wait "$RUNNER"
