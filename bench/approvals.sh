#!/usr/bin/env bash
# bench/approvals.sh BUILD — Slack approvals, a section of `make bench`
# (bench/run.sh calls it; BENCH_ONLY=approvals runs it alone). One
# webhook-runner (SQLite store, remote-executor spawned per job) with Slack
# configured against the fake Slack Web API (tests/tools/fake_slack.py) on
# loopback; BENCH_APPROVALS_N (default 50) async deliveries held for
# approval, then one signed "Approve" click each (bench/approvals.py, signed
# by tests/tools/slack_sign.py), one at a time:
#   - ack: the click's HTTP answer from /slack/interactions (Slack gives an
#     app 3 s; target p99 ≤ 50 ms);
#   - click → job start: the job's started_ms in the store (the CLI), and
#     the command running on the SSH target (it writes `date +%s%N` there;
#     this includes the cold SSH connection).
# No peer: nothing else here approves a webhook's job in Slack.
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
export BUILD TOP
cd "$TOP"
N=${BENCH_APPROVALS_N:-50}
# shellcheck source=../tests/lib.sh
source tests/lib.sh
# shellcheck source=../tests/sshd.sh
source tests/sshd.sh
# shellcheck source=../tests/runner.sh
source tests/runner.sh
# shellcheck source=lib.sh
source bench/lib.sh
trap 'set +e; t_cleanup' EXIT
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date +%s)
B=$T_TMP/appr BR=$T_TMP/appr/results S=$T_TMP/appr/secrets
mkdir -p "$B" "$BR" "$S"
chmod 700 "$S"
sshd_start >&2 || { bsay "cannot start sshd"; exit 1; }
BGP=()
bg_stop() { local p; for p in ${BGP[@]+"${BGP[@]}"}; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
at_exit bg_stop

TOKEN=xoxb-bench-$(rand_hex 8)
FS_LOG=$B/slack.jsonl
: >"$FS_LOG"
python3 tests/tools/fake_slack.py "$B/slack.port" "$FS_LOG" "$TOKEN" 2>"$B/slack.err" &
BGP+=("$!")
wait_until 10 test -s "$B/slack.port" || { bsay "fake_slack did not start"; exit 1; }
FS=http://127.0.0.1:$(cat "$B/slack.port")
umask 077
printf '%s' "$TOKEN" >"$S/bot"
rand_hex 16 | tr -d '\n' >"$S/signing"
rand_hex 32 >"$S/hd"
umask 022
CFG=$B/runner.json
cat >"$CFG" <<JSON
{
  "server": { "listen": "127.0.0.1:8080", "threads": 16 },
  "store": { "path": "$B/runner.db" },
  "executor": { "path": "$BUILD/remote-executor", "max_jobs": 8, "max_per_destination": 8 },
  "slack": { "bot_token": "file:$S/bot", "signing_secret": "file:$S/signing",
             "api_url": "$FS/api", "timeout_ms": 2000 },
  "log": { "level": "info", "format": "text" },
  "hooks": [
    { "id": "appr",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$S/hd"] },
      "job": { "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT", "identity": "$KEY_ED25519",
               "known_hosts": "$KNOWN_HOSTS", "command": "date +%s%N >>$MARK_DIR/{{name}}",
               "params": { "name": { "from": "payload", "path": "name", "pattern": "ap[0-9]{4}" } },
               "timeout_s": 20, "mode": "async" },
      "approval": { "channel": "C0001", "approvers": ["U0AAA"], "required": 1, "timeout_s": 600,
                    "allow_self_approval": true } }
  ]
}
JSON
"$RUNNER_BIN" check-config "$CFG" >&2
RUNNER_LOG=$B/runner.log
runner_start "$CFG" || exit 1
BASE=http://127.0.0.1:$RUNNER_PORT

bsay "approvals: $N held deliveries"
NAMES=()
for i in $(seq 1 "$N"); do
	n=$(printf 'ap%04d' "$i")
	NAMES+=("$n")
	printf '{"name":"%s"}' "$n" >"$B/$n.json"
	"$RUNNER_BIN" sign --config "$CFG" --hook appr --idempotency-key "key-$n" "$B/$n.json" >"$B/$n.hdr"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H @"$B/$n.hdr" --data-binary @"$B/$n.json" "$BASE/hooks/appr")
	[ "$code" = 202 ] || { bsay "delivery $n: HTTP $code, want 202"; exit 1; }
done
posted() { [ "$(grep -c '"method": "chat.postMessage".*"ok": true' "$FS_LOG")" -ge "$N" ]; }
wait_until 60 posted || { bsay "only $(grep -c chat.postMessage "$FS_LOG") messages posted"; exit 1; }
RAN_BEFORE=$(find "$MARK_DIR" -name 'ap*' | wc -l)
bsay "approvals: $N clicks, one at a time"
CLICKS=$(python3 bench/approvals.py "$FS_LOG" "$S/signing" "$BASE" "$FS" "$MARK_DIR" "$BR/clicks" "${NAMES[@]}")
bsay "  $CLICKS"
"$RUNNER_BIN" jobs list --config "$CFG" --hook appr --json --limit 10000 >"$BR/jobs.json"
# one line per click: ack_ms store_start_ms target_start_ms
python3 - "$BR/clicks" "$BR/jobs.json" >"$BR/lat" <<'PY'
import json, sys
jobs = {}
for l in open(sys.argv[2]):
    if l.strip():
        j = json.loads(l)
        jobs[j.get("key")] = j
for l in open(sys.argv[1]):
    name, status, t0, tack, tstart = l.split()
    t0, tack, tstart = int(t0), int(tack), int(tstart)
    j = jobs.get("key-" + name, {})
    sm = j.get("started_ms")
    print("%.3f %s %s %s" % ((tack - t0) / 1e6,
                             "%.3f" % (sm - t0 / 1e6) if sm else "-",
                             "%.3f" % ((tstart - t0) / 1e6) if tstart else "-", j.get("status", "none")))
PY
RUNS=$(cat "$MARK_DIR"/ap* 2>/dev/null | wc -l)
# pctl COLUMN P : nearest-rank percentile of a column of $BR/lat
pctl() {
	awk -v c="$1" '$c != "-" {print $c}' "$BR/lat" | sort -n |
		awk -v p="$2" '{v[NR]=$1} END {if (!NR) {print "-"; exit} i=int(p/100*NR + 0.999999); if (i < 1) i=1; printf "%.1f", v[i]}'
}
ACK50=$(pctl 1 50) ACK99=$(pctl 1 99) ACKMAX=$(pctl 1 100)
ST50=$(pctl 2 50) ST99=$(pctl 2 99) TG50=$(pctl 3 50) TG99=$(pctl 3 99)
SUCC=$(awk '$4 == "succeeded"' "$BR/lat" | wc -l)

echo
bhead "A. Slack approvals: $N held async jobs, one signed Approve click each (fake Slack Web API on loopback), one at a time"
echo "   load before: $LOAD_START; took $(($(date +%s) - T_START)) s. SQLite store, remote-executor per job (cold SSH); no peer"
printf '   %-44s | %-8s | %-8s | %s\n' "" "p50 ms" "p99 ms" "note"
printf '   %-44s | %-8s | %-8s | %s\n' "interaction ack (/slack/interactions answer)" "$ACK50" "$ACK99" "max $ACKMAX ms; Slack's limit 3000 ms"
printf '   %-44s | %-8s | %-8s | %s\n' "click → job started (store's started_ms)" "$ST50" "$ST99" "ms resolution"
printf '   %-44s | %-8s | %-8s | %s\n' "click → command running on the SSH target" "$TG50" "$TG99" "includes the SSH connection"
echo "   clicks: $CLICKS; jobs succeeded $SUCC/$N; executions on the target $RUNS (want $N, each once; $RAN_BEFORE before any click)"
echo "   target ack p99 ≤ 50 ms: $(bverdict "$ACK99" "<=" 50); every approved job ran once:"\
	"$([ "$RUNS" -eq "$N" ] && [ "$RAN_BEFORE" -eq 0 ] && echo met || echo MISSED)"
