#!/usr/bin/env bash
# bench/overload.sh BUILD — overload, a section of `make bench` (bench/run.sh
# calls it; BENCH_ONLY=overload runs it alone): one webhook-runner (SQLite
# store, remote-executor spawned per job: the defaults) under three wrk
# loads at once, c=64 each, for BENCH_OVERLOAD_SECONDS (default 30):
#   - reject: bad signature → 401;
#   - accept: async hook → 202 (queue capped at the default max_queued, 1000);
#   - sync: SSH job run while the client waits → 200 (max_jobs 8; past it 429).
# Then the daemon is stopped (SIGTERM: running jobs finish, queued ones stay
# queued) and every 2xx is accounted for: executions are counted on the SSH
# target (a line per job in a file there), the store's states through
# `webhook-runner jobs list`. Target: every 2xx-accepted job has run or is
# recorded (queued, failed, timed out), 100%, and the store records no
# success the target did not see. No peer: this is about not losing work.
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
export BUILD TOP
cd "$TOP"
SECS=${BENCH_OVERLOAD_SECONDS:-30}
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
B=$T_TMP/ovl BR=$T_TMP/ovl/results
mkdir -p "$B" "$BR"
sshd_start >&2 || { bsay "cannot start sshd"; exit 1; }
RUN=$(date +%s)-$$
umask 077
rand_hex 32 >"$B/hmac.secret"
umask 022
head -c 1000 /dev/zero | tr '\0' x | sed 's/^/{"pad":"/; s/$/"}/' >"$B/body.json"
hook() { # ID MODE MARK
	cat <<JSON
    { "id": "$1",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$B/hmac.secret"] },
      "idempotency": { "dedupe_body": false },
      "job": { "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT", "identity": "$KEY_ED25519",
               "known_hosts": "$KNOWN_HOSTS", "command": "echo x >>$MARK_DIR/$3",
               "timeout_s": 30, "mode": "$2" } }
JSON
}
CFG=$B/runner.json
# threads: the three loads' 192 connections each get a thread (CivetWeb
# holds one per keep-alive connection); executor and queue at their defaults.
cat >"$CFG" <<JSON
{
  "server": { "listen": "127.0.0.1:8080", "threads": 200 },
  "store": { "path": "$B/runner.db" },
  "executor": { "path": "$BUILD/remote-executor", "max_jobs": 8, "max_per_destination": 8 },
  "log": { "level": "info", "format": "text" },
  "hooks": [
$(hook reject sync rej),
$(hook accept async acc),
$(hook sync sync sync)
  ]
}
JSON
"$RUNNER_BIN" check-config "$CFG" >&2
RUNNER_LOG=$B/runner.log
runner_start "$CFG" || exit 1
URL=http://127.0.0.1:$RUNNER_PORT/hooks
"$RUNNER_BIN" sign --config "$CFG" --hook accept --ttl 7200 "$B/body.json" |
	grep -vi '^idempotency-key:' >"$B/ok.hdr"
BAD=$(openssl dgst -sha256 -hmac "not-the-secret" -binary "$B/body.json" | base64)
sed "s|^x-hookdeck-signature: .*|x-hookdeck-signature: $BAD|" "$B/ok.hdr" >"$B/bad.hdr"
grep -q "$BAD" "$B/bad.hdr"

bsay "overload: reject, accept and sync at c=64 each, all at once, ${SECS}s"
bwrk rej "$URL/reject" 64 "$SECS" "$B/bad.hdr" "$B/body.json" &
W1=$!
bwrk acc "$URL/accept" 64 "$SECS" "$B/ok.hdr" "$B/body.json" "$RUN-acc" &
W2=$!
bwrk sync "$URL/sync" 64 "$SECS" "$B/ok.hdr" "$B/body.json" "$RUN-sync"
wait "$W1"
wait "$W2"
read -r RSS HWM < <(bmem "$RUNNER_PID")
T_STOP=$(date +%s%N)
runner_stop
STOP_S=$(awk -v n="$(($(date +%s%N) - T_STOP))" 'BEGIN {printf "%.1f", n/1e9}')
sleep 0.5
ACC_STATES=$(bjobs "$CFG" accept)
SYNC_STATES=$(bjobs "$CFG" sync)
REJ_STATES=$(bjobs "$CFG" reject)
ssum() { echo "$1" | tr ' ' '\n' | awk -F= -v re="^($2)\$" '$1 ~ re {s += $2} END {print s + 0}'; }
ok2xx() { echo $(($(bget "$BR/$1" requests) - $(bget "$BR/$1" non2xx))); }
ACC_2XX=$(ok2xx acc) SYNC_2XX=$(ok2xx sync) REJ_2XX=$(ok2xx rej)
ACC_EXEC=$(lines "$MARK_DIR/acc") SYNC_EXEC=$(lines "$MARK_DIR/sync") REJ_EXEC=$(lines "$MARK_DIR/rej")
ACC_SUCC=$(ssum "$ACC_STATES" succeeded) SYNC_SUCC=$(ssum "$SYNC_STATES" succeeded)
ACC_REC=$(ssum "$ACC_STATES" 'queued|running|failed|timeout|interrupted')
ACC_ALL=$(ssum "$ACC_STATES" '[a-z_]+') SYNC_ALL=$(ssum "$SYNC_STATES" '[a-z_]+')
# accounted for: ran (counted on the target) or recorded as not run / failed
ACC_OK=$((ACC_EXEC + ACC_REC))
# the 2xx the daemon answered (its request log), wrk's window or not
ACC_LOG=$(grep -c ' hook=accept .* status=202 ' "$RUNNER_LOG" || true)
SYNC_LOG=$(grep -c ' hook=sync .* status=200 ' "$RUNNER_LOG" || true)
errs() { echo "$(($(bget "$BR/$1" connect) + $(bget "$BR/$1" read) + $(bget "$BR/$1" write) + $(bget "$BR/$1" timeout)))"; }
pct() { awk -v e="$1" -v a="$2" 'BEGIN {printf "%.1f%%", a ? 100*e/a : 0}'; }
CODES=$(grep -oE ' status=[0-9]+' "$RUNNER_LOG" | sort | uniq -c | awk '{sub(" *status=", "", $2); printf "%s%s=%s", s, $2, $1; s=" "}')

echo
bhead "O. Overload: reject, accept (async) and sync SSH at c=64 each, at once, ${SECS} s of wrk; one daemon, defaults"
echo "   load before: $LOAD_START; took $(($(date +%s) - T_START)) s. SQLite store, remote-executor per job (cold SSH), max_jobs 8,"
echo "   max_queued 1000 (past them: 429); executed = lines on the SSH target; the daemon stopped (SIGTERM) right after, in $STOP_S s"
printf '   %-8s | %-9s | %-15s | %-11s | %-8s | %-9s | %-24s | %s\n' "" "answers/s" "p50 / p99 ms" "2xx wrk/log" "executed" "recorded" "executed+recorded / 2xx" "store states"
printf '   %-8s | %-9s | %-15s | %-11s | %-8s | %-9s | %-24s | %s\n' reject "$(awk -v r="$(bget "$BR/rej" requests)" -v d="$(bget "$BR/rej" duration_us)" 'BEGIN {printf "%.0f", r/(d/1e6)}')" \
	"$(bms "$BR/rej" p50_us) / $(bms "$BR/rej" p99_us)" "$REJ_2XX/$(grep -c ' hook=reject .* status=2' "$RUNNER_LOG" || true)" "$REJ_EXEC" "-" "- (want 0 and 0)" "$REJ_STATES"
printf '   %-8s | %-9s | %-15s | %-11s | %-8s | %-9s | %-24s | %s\n' accept "$(brate "$BR/acc")" \
	"$(bms "$BR/acc" p50_us) / $(bms "$BR/acc" p99_us)" "$ACC_2XX/$ACC_LOG" "$ACC_EXEC" "$ACC_REC" "$(pct "$ACC_OK" "$ACC_LOG")" "$ACC_STATES"
printf '   %-8s | %-9s | %-15s | %-11s | %-8s | %-9s | %-24s | %s\n' sync "$(brate "$BR/sync")" \
	"$(bms "$BR/sync" p50_us) / $(bms "$BR/sync" p99_us)" "$SYNC_2XX/$SYNC_LOG" "$SYNC_EXEC" "-" "$(pct "$SYNC_EXEC" "$SYNC_LOG")" "$SYNC_STATES"
echo "   (answers/s: 2xx per second, reject: all answers; non-2xx ${REJ_2XX:+reject $(bget "$BR/rej" non2xx)}, accept $(bget "$BR/acc" non2xx), sync $(bget "$BR/sync" non2xx);"\
	"socket errors $(errs rej)/$(errs acc)/$(errs sync); statuses logged: $CODES)"
V=met
[ "$ACC_OK" -eq "$ACC_LOG" ] && [ "$ACC_LOG" -ge "$ACC_2XX" ] && [ "$SYNC_EXEC" -ge "$SYNC_LOG" ] &&
	[ "$SYNC_LOG" -ge "$SYNC_2XX" ] || V=MISSED
[ "$REJ_2XX" -eq 0 ] && [ "$REJ_EXEC" -eq 0 ] || V=MISSED
SV=met
[ "$ACC_SUCC" -eq "$ACC_EXEC" ] && [ "$SYNC_SUCC" -eq "$SYNC_EXEC" ] || SV=MISSED
echo "   (2xx log: what the daemon answered, its request log; wrk drops answers still in flight when its window ends)"
echo "   every 2xx accounted for (ran or recorded), 100%: $V; store's successes = executions on the target"\
	"(accept $ACC_SUCC/$ACC_EXEC, sync $SYNC_SUCC/$SYNC_EXEC): $SV; rows listed: $ACC_ALL + $SYNC_ALL (the CLI lists ≤ 10000 per hook)"
echo "   daemon RSS at the end of the load: $((RSS / 1024)) MB (peak $((HWM / 1024)) MB)"
