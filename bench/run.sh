#!/usr/bin/env bash
# bench/run.sh BUILD — side-by-side benchmarks of webhook-runner against its
# peers, measured in one run on this machine (what `make bench` runs):
#   1. reject path (bad signature, 1 KB JSON), c = 1, 8, 64:
#      ours (hookdeck scheme → 401) vs adnanh/webhook (payload-hmac-sha256
#      rule) vs nginx `return 200` (the ceiling of an HTTP server here)
#   2. accept path (bench/accept.sh), the same SSH job on both sides, every
#      execution counted on the SSH target: c = 8 with workers running, and
#      the accept path alone at c = 8 and 64 (our workers held by
#      executor.paused, then resumed and every job counted), vs webhook's
#      async mode
#   3. cold SSH job end to end, sync, c = 1 and 8: ours (remote-executor,
#      libssh2) vs webhook running `ssh … true` (OpenSSH)
#   3b. warm SSH job, sync, c = 1 (p50) and 8 (jobs/s): ours through the
#      remote-executor service (executor.socket, reuse: one SSH session) vs
#      webhook running `ssh` with a ControlMaster already up
#   4. resident memory (VmRSS, VmHWM) of both daemons, idle and after 1-3
#   5. idempotency claim cost with 1 thousand vs 1 million stored keys
#      (bench/store_claim.c, built into BUILD/bench/)
# Every server listens on 127.0.0.1 on a free port and is stopped at exit
# (tests/lib.sh's trap); every load is bounded by wrk's -d. Tunables:
# BENCH_SECONDS (wrk window, sections 1-2, default 3), BENCH_SSH_N1 and
# BENCH_SSH_N8 (jobs per cell in section 3, default 10 and 48; no new job
# after BENCH_SSH_DEADLINE, default 40 s), BENCH_DRAIN_MAX (bound on the wait for queued jobs,
# default 150 s), BENCH_SKIP_STORE=1 (leave out section 5).
# Then the sections that are scripts of their own, each printing its rows:
# bench/relay.sh, approvals.sh, pg.sh, overload.sh (their tunables are in
# their headers). BENCH_ONLY=relay (or a comma-separated list of those
# names) runs only those; BENCH_ONLY=core only sections 1-5 above.
# Progress goes to stderr; the table to stdout (also saved in BUILD/bench/).
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
export BUILD TOP
cd "$TOP"
SECS=${BENCH_SECONDS:-3}
SSH_N1=${BENCH_SSH_N1:-10}
SSH_N8=${BENCH_SSH_N8:-48}
SSH_DEADLINE=${BENCH_SSH_DEADLINE:-40}
DRAIN_MAX=${BENCH_DRAIN_MAX:-150}
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

say() { echo "bench: $*" >&2; }
sh bench/deps.sh >&2
SECTIONS="relay approvals pg overload"
ONLY=${BENCH_ONLY:-}
if [ -n "$ONLY" ] && [ "$ONLY" != core ]; then
	for s in ${ONLY//,/ }; do
		[[ " $SECTIONS " == *" $s "* ]] || { say "BENCH_ONLY: no section '$s' (core $SECTIONS)"; exit 2; }
	done
	mkdir -p "$BUILD/bench"
	rc=0
	for s in ${ONLY//,/ }; do bash "bench/$s.sh" "$BUILD" || { say "section $s failed"; rc=1; }; done \
		> >(tee "$BUILD/bench/last-run-only.txt")
	exit "$rc"
fi
for b in "$BUILD/webhook-runner" "$BUILD/remote-executor"; do
	[ -x "$b" ] || { say "$b missing: run 'make' first"; exit 1; }
done

# shellcheck source=../tests/lib.sh
source tests/lib.sh
# shellcheck source=../tests/sshd.sh
source tests/sshd.sh
# shellcheck source=../tests/runner.sh
source tests/runner.sh
# shellcheck source=../tests/xservice.sh
source tests/xservice.sh
# Cleanups run with errexit off: one that fails must not skip the others.
trap 'set +e; t_cleanup' EXIT

B=$T_TMP/bench
R=$B/results
mkdir -p "$B" "$R"
RUN=$(date +%s)-$$ # prefix of every idempotency key of this run

# ---------------------------------------------------------------- helpers
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_http URL : until anything answers (bounded, 10 s)
wait_http() {
	local i
	for i in $(seq 1 200); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1")" != 000 ] && return 0
		sleep 0.05
	done
	return 1
}
# mem PID : "VmRSS VmHWM" in kB
mem() { awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} END {print r, h}' "/proc/$1/status"; }
# status URL HEADERS : the HTTP status of one POST of the benchmark body
status() {
	curl -s -o "$B/last.body" -w '%{http_code}' --max-time 30 -H @"$2" \
		--data-binary @"$B/body.json" "$1"
}
# wrk_run NAME URL CONC SECONDS HEADERS [IDEM_PREFIX] : one bounded wrk load;
# its RESULT line is kept in $R/NAME (full output in $R/NAME.out)
wrk_run() {
	local name=$1 url=$2 c=$3 secs=$4 hdrs=$5 idem=${6:-} t
	t=$((c < 2 ? c : 2))
	say "wrk $name: c=$c, ${secs}s"
	BENCH_BODY=$B/body.json BENCH_HEADERS=$hdrs BENCH_IDEM=$idem \
		wrk -t"$t" -c"$c" -d"${secs}s" --timeout 30s --latency -s bench/post.lua "$url" \
		>"$R/$name.out" 2>&1 || { say "wrk failed:"; cat "$R/$name.out" >&2; return 1; }
	grep '^RESULT ' "$R/$name.out" >"$R/$name" || { say "no RESULT from wrk"; cat "$R/$name.out" >&2; return 1; }
}
# get NAME FIELD : a field of a RESULT line
get() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$R/$1"; }
# Derived figures of one wrk result: ok/s (2xx only), all/s, p50/p99 in ms.
ok_rate() { awk -v r="$(get "$1" requests)" -v n="$(get "$1" non2xx)" -v d="$(get "$1" duration_us)" 'BEGIN {printf "%.1f", (r-n)/(d/1e6)}'; }
all_rate() { awk -v r="$(get "$1" requests)" -v d="$(get "$1" duration_us)" 'BEGIN {printf "%.0f", r/(d/1e6)}'; }
ms() { awk -v u="$(get "$1" "$2")" 'BEGIN {printf (u < 10000 ? "%.2f" : "%.0f"), u/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a/b; else print "inf"}'; }
# verdict VALUE OP TARGET : "met" or "MISSED"
verdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "met" : "MISSED"}'; }

# ---------------------------------------------------------------- fixtures
say "starting sshd on loopback"
sshd_start
umask 077
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$B/hmac.secret"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$B/jwt.secret"
HMAC_SECRET=$(cat "$B/hmac.secret")
umask 022
# 1 KB JSON, shaped like a push event, exactly 1024 bytes.
python3 - "$B/body.json" <<'PY'
import json, sys
d = {"ref": "refs/heads/main", "before": "0" * 40, "after": "5f" * 20,
     "repository": {"id": 123456, "full_name": "acme/app", "private": True,
                    "default_branch": "main"},
     "pusher": {"name": "octocat", "email": "octocat@example.com"},
     "commits": [{"id": "%040x" % (i * 7919), "message": "bench commit %d" % i,
                  "author": {"name": "octocat", "email": "octocat@example.com"}}
                 for i in range(3)],
     "pad": ""}
s = json.dumps(d, separators=(",", ":"))
d["pad"] = "x" * (1024 - len(s))
s = json.dumps(d, separators=(",", ":"))
assert len(s) == 1024, len(s)
open(sys.argv[1], "w").write(s)
PY

# Ours: three hooks with the same secrets and the same job (`true` on the
# loopback sshd): one only ever sees bad signatures, one async, one sync.
# Every request sends the same body under its own Idempotency-Key:
# dedupe_body off, or each would be a replay of the first one and run nothing.
hook_json() { # ID MODE [COMMAND]
	cat <<JSON
    {
      "id": "$1",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$B/hmac.secret"] },
      "jwt": { "algorithms": ["HS256"], "key": "file:$B/jwt.secret",
               "issuer": "bench", "audience": "webhook-runner" },
      "idempotency": { "dedupe_body": false },
      "job": { "destination": "$SSH_USER@127.0.0.1:$SSHD_PORT", "identity": "$KEY_ED25519",
               "known_hosts": "$KNOWN_HOSTS", "command": "${3:-true}", "timeout_s": 30,
               "mode": "$2" }
    }
JSON
}
# threads: CivetWeb holds a thread per keep-alive connection, so serving 64
# connections at once takes more than the default 32.
# max_per_destination = max_jobs: all jobs go to one sshd. max_queued: room
# for every delivery of the accept-path window (the default 1000 would
# answer the rest 429, which measures the cap, not the pipeline).
cat >"$B/runner.json" <<JSON
{
  "server": { "listen": "127.0.0.1:8080", "threads": 80 },
  "store": { "path": "$B/runner.db" },
  "executor": { "path": "$BUILD/remote-executor", "max_jobs": 8, "max_per_destination": 8,
                "max_queued": 200000 },
  "log": { "level": "info", "format": "text" },
  "hooks": [
$(hook_json reject sync),
$(hook_json accept async "echo x >>$MARK_DIR/ours_exec.txt"),
$(hook_json ssh sync)
  ]
}
JSON
"$BUILD/webhook-runner" check-config "$B/runner.json" >&2
# Ours, warm: the same sync hook through the remote-executor service, whose
# session to the sshd stays up between jobs (reuse, the default).
# As many warm sessions as concurrent jobs (c=8): past the pool's size a
# job opens a connection of its own, which is the cold path.
XS_SESSIONS=8 xsvc_start "$B/xs" bench "$KEY_ED25519" "$KNOWN_HOSTS" "$SSH_USER@127.0.0.1:$SSHD_PORT" ||
	{ say "remote-executor serve did not start:"; tail -n 5 "$B/xs/service.log" >&2; exit 1; }
cat >"$B/runner-warm.json" <<JSON
{
  "server": { "listen": "127.0.0.1:8081", "threads": 32 },
  "store": { "path": "$B/runner-warm.db" },
  "executor": { "socket": "$XS_SOCK", "max_jobs": 8, "max_per_destination": 8 },
  "log": { "level": "info", "format": "text" },
  "hooks": [
$(hook_json ssh sync | sed "s|\"identity\": \"$KEY_ED25519\",|\"identity_name\": \"bench\",|; /\"known_hosts\":/s|\"known_hosts\": \"$KNOWN_HOSTS\", ||")
  ]
}
JSON
"$BUILD/webhook-runner" check-config "$B/runner-warm.json" >&2
"$BUILD/webhook-runner" sign --config "$B/runner.json" --hook accept --ttl 7200 "$B/body.json" \
	| grep -vi '^idempotency-key:' >"$B/ours_ok.hdr"
BAD_SIG=$(openssl dgst -sha256 -hmac "not-the-secret" -binary "$B/body.json" | base64)
sed "s|^x-hookdeck-signature: .*|x-hookdeck-signature: $BAD_SIG|" "$B/ours_ok.hdr" >"$B/ours_bad.hdr"
grep -q "$BAD_SIG" "$B/ours_bad.hdr"

# adnanh/webhook: the same three hooks, HMAC-SHA256 of the body (hex, GitHub
# style header) as its trigger rule, same secret. Its accept job is ours:
# SSH to the same sshd, appending a line on the target.
cat >"$B/append.sh" <<SH
#!/bin/sh
exec /usr/bin/ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes \
	-o "UserKnownHostsFile=$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null -i "$KEY_ED25519" \
	-p "$SSHD_PORT" "$SSH_USER@127.0.0.1" 'echo x >>$MARK_DIR/webhook_executed.txt'
SH
chmod 755 "$B/append.sh"
wh_rule='"trigger-rule": { "match": { "type": "payload-hmac-sha256", "secret": "'$HMAC_SECRET'",
      "parameter": { "source": "header", "name": "X-Hub-Signature-256" } } }'
arg() { printf '{ "source": "string", "name": "%s" }' "$1"; }
cat >"$B/hooks.json" <<JSON
[
  { "id": "reject", "execute-command": "/bin/true", $wh_rule },
  { "id": "accept", "execute-command": "$B/append.sh", "include-command-output-in-response": false,
    $wh_rule },
  { "id": "ssh", "execute-command": "/usr/bin/ssh", "include-command-output-in-response": true,
    "pass-arguments-to-command": [ $(arg -F), $(arg /dev/null), $(arg -o), $(arg BatchMode=yes),
      $(arg -o), $(arg StrictHostKeyChecking=yes), $(arg -o), $(arg "UserKnownHostsFile=$KNOWN_HOSTS"),
      $(arg -o), $(arg GlobalKnownHostsFile=/dev/null), $(arg -i), $(arg "$KEY_ED25519"),
      $(arg -p), $(arg "$SSHD_PORT"), $(arg "$SSH_USER@127.0.0.1"), $(arg true) ],
    $wh_rule },
  { "id": "sshcm", "execute-command": "/usr/bin/ssh", "include-command-output-in-response": true,
    "pass-arguments-to-command": [ $(arg -F), $(arg /dev/null), $(arg -o), $(arg BatchMode=yes),
      $(arg -o), $(arg StrictHostKeyChecking=yes), $(arg -o), $(arg "UserKnownHostsFile=$KNOWN_HOSTS"),
      $(arg -o), $(arg GlobalKnownHostsFile=/dev/null), $(arg -i), $(arg "$KEY_ED25519"),
      $(arg -o), $(arg ControlMaster=auto), $(arg -o), $(arg "ControlPath=$B/cm-%C"),
      $(arg -o), $(arg ControlPersist=600),
      $(arg -p), $(arg "$SSHD_PORT"), $(arg "$SSH_USER@127.0.0.1"), $(arg true) ],
    $wh_rule }
]
JSON
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$B/hooks.json"
GOOD_HEX=$(openssl dgst -sha256 -hmac "$HMAC_SECRET" -r "$B/body.json" | cut -d' ' -f1)
BAD_HEX=$(openssl dgst -sha256 -hmac "not-the-secret" -r "$B/body.json" | cut -d' ' -f1)
printf 'Content-Type: application/json\nX-Hub-Signature-256: sha256=%s\n' "$GOOD_HEX" >"$B/wh_ok.hdr"
printf 'Content-Type: application/json\nX-Hub-Signature-256: sha256=%s\n' "$BAD_HEX" >"$B/wh_bad.hdr"

# nginx: the ceiling, `return 200` for anything, as the current user.
mkdir -p "$B/nginx"
NGINX_PORT=$(free_port)
{
	[ "$(id -u)" -eq 0 ] && echo "user $(id -un) $(id -gn);"
	cat <<CONF
daemon off;
master_process on;
worker_processes 2;
pid $B/nginx/nginx.pid;
error_log $B/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $B/nginx/body;
  proxy_temp_path $B/nginx/proxy;
  fastcgi_temp_path $B/nginx/fastcgi;
  uwsgi_temp_path $B/nginx/uwsgi;
  scgi_temp_path $B/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { return 200 "ok\n"; }
  }
}
CONF
} >"$B/nginx/nginx.conf"

# ---------------------------------------------------------------- servers
say "starting webhook-runner, webhook and nginx on loopback"
RUNNER_LOG=$B/runner.log
runner_start "$B/runner.json"
OURS=http://127.0.0.1:$RUNNER_PORT/hooks
MAIN_RUNNER_PID=$RUNNER_PID MAIN_RUNNER_PORT=$RUNNER_PORT
RUNNER_PID=
RUNNER_LOG=$B/runner-warm.log
runner_start "$B/runner-warm.json"
WARM=http://127.0.0.1:$RUNNER_PORT/hooks
WARM_PID=$RUNNER_PID
at_exit "kill $WARM_PID; wait $WARM_PID"
RUNNER_PID=$MAIN_RUNNER_PID RUNNER_PORT=$MAIN_RUNNER_PORT

WH_PORT=
for try in 1 2 3 4 5; do
	p=$(free_port)
	webhook -hooks "$B/hooks.json" -ip 127.0.0.1 -port "$p" >>"$B/webhook.log" 2>&1 &
	WH_PID=$!
	if wait_http "http://127.0.0.1:$p/" && kill -0 "$WH_PID" 2>/dev/null; then
		WH_PORT=$p
		break
	fi
	kill "$WH_PID" 2>/dev/null || true
	wait "$WH_PID" 2>/dev/null || true
done
[ -n "$WH_PORT" ] || { say "webhook did not start:"; tail "$B/webhook.log" >&2; exit 1; }
at_exit "kill $WH_PID; wait $WH_PID"
WH=http://127.0.0.1:$WH_PORT/hooks

/usr/sbin/nginx -p "$B/nginx" -c "$B/nginx/nginx.conf" -e "$B/nginx/error.log" >>"$B/nginx/stdout" 2>&1 &
NGINX_PID=$!
at_exit "kill -QUIT $NGINX_PID; wait $NGINX_PID"
wait_http "http://127.0.0.1:$NGINX_PORT/" || { say "nginx did not start:"; cat "$B/nginx/error.log" >&2; exit 1; }
NGINX=http://127.0.0.1:$NGINX_PORT

sleep 1
read -r OURS_IDLE_RSS OURS_IDLE_HWM < <(mem "$RUNNER_PID")
read -r WH_IDLE_RSS WH_IDLE_HWM < <(mem "$WH_PID")

# Each endpoint answers what the table says it measures, or nothing runs.
expect() { # WHAT GOT WANT
	[ "$2" = "$3" ] || { say "$1: got HTTP $2, want $3 ($(head -c 300 "$B/last.body"))"; exit 1; }
}
cp "$B/ours_ok.hdr" "$B/probe.hdr"
echo "Idempotency-Key: $RUN-probe-1" >>"$B/probe.hdr"
expect "ours reject" "$(status "$OURS/reject" "$B/ours_bad.hdr")" 401
expect "ours accept" "$(status "$OURS/accept" "$B/probe.hdr")" 202
expect "ours ssh" "$(status "$OURS/ssh" "$B/probe.hdr")" 200
expect "webhook reject" "$(status "$WH/reject" "$B/wh_bad.hdr")" 500
WH_REJECT_BODY=$(head -c 60 "$B/last.body")
expect "webhook accept" "$(status "$WH/accept" "$B/wh_ok.hdr")" 200
expect "webhook ssh" "$(status "$WH/ssh" "$B/wh_ok.hdr")" 200
expect "nginx" "$(status "$NGINX/" "$B/wh_bad.hdr")" 200
# The first of each warm path opens its SSH connection (the master, the
# service's session); the measured jobs find it up.
expect "ours warm ssh" "$(status "$WARM/ssh" "$B/probe.hdr")" 200
expect "webhook ssh ControlMaster" "$(status "$WH/sshcm" "$B/wh_ok.hdr")" 200

# ---------------------------------------------------------------- 1. reject
for c in 1 8 64; do
	wrk_run "rej_ours_$c" "$OURS/reject" "$c" "$SECS" "$B/ours_bad.hdr"
	wrk_run "rej_wh_$c" "$WH/reject" "$c" "$SECS" "$B/wh_bad.hdr"
	wrk_run "rej_nginx_$c" "$NGINX/" "$c" "$SECS" "$B/wh_bad.hdr"
done

# ---------------------------------------------------------------- 2. accept
# shellcheck source=accept.sh
source bench/accept.sh
accept_run

# ---------------------------------------------------------------- 3. cold SSH
# A fixed count per cell (fixed_load.py), every job waited for.
fixed_run() { # NAME URL CONC TOTAL HEADERS [IDEM_PREFIX]
	say "fixed_load $1: c=$3, $4 requests"
	python3 bench/fixed_load.py "$2" "$B/body.json" "$5" "$3" "$4" --idem "${6:-}" \
		--timeout 60 --deadline "$SSH_DEADLINE" >"$R/$1.out" 2>&1 || { cat "$R/$1.out" >&2; return 1; }
	grep '^RESULT ' "$R/$1.out" >"$R/$1"
}
for c in 1 8; do
	n=$SSH_N1
	[ "$c" = 8 ] && n=$SSH_N8
	fixed_run "ssh_ours_$c" "$OURS/ssh" "$c" "$n" "$B/ours_ok.hdr" "$RUN-ssh$c"
	fixed_run "ssh_wh_$c" "$WH/ssh" "$c" "$n" "$B/wh_ok.hdr"
done

# ---------------------------------------------------------------- 3b. warm SSH
# Warm-up, not reported: 16 jobs at c=8 open the service's 8 sessions (the
# probe opened one), or the c=8 row would time 7 SSH handshakes too.
fixed_run warm_ours_up "$WARM/ssh" 8 16 "$B/ours_ok.hdr" "$RUN-warmup"
fixed_run warm_wh_up "$WH/sshcm" 8 16 "$B/wh_ok.hdr"
for c in 1 8; do
	n=$SSH_N1
	[ "$c" = 8 ] && n=$SSH_N8
	fixed_run "warm_ours_$c" "$WARM/ssh" "$c" "$n" "$B/ours_ok.hdr" "$RUN-warm$c"
	fixed_run "warm_wh_$c" "$WH/sshcm" "$c" "$n" "$B/wh_ok.hdr"
done
WARM_CONNS=$(grep -c 'Accepted publickey' "$SSHD_DIR/sshd.log" || true)
ssh -F /dev/null -o "ControlPath=$B/cm-%C" -p "$SSHD_PORT" -O exit "$SSH_USER@127.0.0.1" 2>/dev/null || true

# ---------------------------------------------------------------- 4. memory
read -r OURS_RSS OURS_HWM < <(mem "$RUNNER_PID")
read -r WH_RSS WH_HWM < <(mem "$WH_PID")
curl -s "http://127.0.0.1:$RUNNER_PORT/metrics" >"$R/metrics.txt" || true
say "stopping the servers"
runner_stop
kill "$WH_PID" 2>/dev/null || true
wait "$WH_PID" 2>/dev/null || true
kill -QUIT "$NGINX_PID" 2>/dev/null || true
wait "$NGINX_PID" 2>/dev/null || true
sshd_stop

# ---------------------------------------------------------------- 5. store
STORE_OUT=$R/store_claim.out
if [ "${BENCH_SKIP_STORE:-0}" != 1 ]; then
	mkdir -p "$BUILD/bench"
	say "building and running bench/store_claim.c (1 thousand, then 1 million keys)"
	# shellcheck disable=SC2046
	# store.c also opens the PostgreSQL backend (store_pg*.c: libpq, common/randid.c)
	cc -O2 -g -D_GNU_SOURCE -Irunner bench/store_claim.c runner/store.c runner/store_sqlite*.c runner/store_pg*.c runner/pqlib.c \
		runner/jobstate.c common/clock.c common/randid.c \
		$(pkg-config --cflags --libs sqlite3 libpq) -lpthread -o "$BUILD/bench/store_claim"
	TMPDIR=$B "$BUILD/bench/store_claim" >"$STORE_OUT" 2>&1 || { cat "$STORE_OUT" >&2; exit 1; }
fi

# ---------------------------------------------------------------- table
T_END=$(date +%s)
table() {
	local cpu kernel
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
	kernel=$(uname -sr)
	echo "webhook-runner benchmarks — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($cpu), $kernel"
	echo "peers: webhook $(webhook -version 2>&1 | awk '{print $3}'), $(ssh -V 2>&1 | cut -d, -f1),"\
		"nginx $(/usr/sbin/nginx -v 2>&1 | sed 's|.*nginx/||'), wrk $(wrk -v 2>&1 | awk 'NR==1 {print $2}');"\
		"all on 127.0.0.1, clients on the same 2 cores; run took $((T_END - T_START)) s"
	echo "load average before the run: $LOAD_START; after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shares the cores)"
	echo
	echo "1. Reject path: wrong signature, 1 KB JSON; ${SECS} s of wrk per cell; req/s, p50/p99 ms"
	echo "   ours: hookdeck scheme → 401; webhook: payload-hmac-sha256 rule → $(echo "$WH_REJECT_BODY" | head -c 45)… (500); nginx: return 200"
	printf '   %-4s | %-24s | %-24s | %-24s | %-13s | %-8s | %-11s | %-8s\n' c "ours" "webhook" "nginx (ceiling)" \
		"ours/webhook" "≥3×" "ours/nginx" "≥0.5×"
	local c o w n
	for c in 1 8 64; do
		o=rej_ours_$c w=rej_wh_$c n=rej_nginx_$c
		printf '   %-4s | %7s  %6s / %-7s | %7s  %6s / %-7s | %7s  %6s / %-7s | %-13s | %-8s | %-11s | %-8s\n' "$c" \
			"$(all_rate $o)" "$(ms $o p50_us)" "$(ms $o p99_us)" \
			"$(all_rate $w)" "$(ms $w p50_us)" "$(ms $w p99_us)" \
			"$(all_rate $n)" "$(ms $n p50_us)" "$(ms $n p99_us)" \
			"$(ratio "$(all_rate $o)" "$(all_rate $w)")×" \
			"$(verdict "$(ratio "$(all_rate $o)" "$(all_rate $w)")" ">=" 3)" \
			"$(ratio "$(all_rate $o)" "$(all_rate $n)")×" \
			"$(verdict "$(ratio "$(all_rate $o)" "$(all_rate $n)")" ">=" 0.5)"
	done
	echo "   (answers other than the expected status: ours $(get rej_ours_64 non2xx)/$(get rej_ours_64 requests) non-2xx at c=64 — all 401;"\
		"socket errors ours/webhook/nginx: $(for x in rej_ours rej_wh rej_nginx; do s=0; for c in 1 8 64; do s=$((s + $(get ${x}_$c connect) + $(get ${x}_$c read) + $(get ${x}_$c write) + $(get ${x}_$c timeout))); done; printf '%s ' $s; done| sed 's/ $//; s/ /\//g'))"
	echo
	accept_table
	echo
	echo "3. Cold SSH job end to end, sync, command \`true\`; $SSH_N1 jobs at c=1, $SSH_N8 at c=8 (bench/fixed_load.py); jobs/s (2xx), p50/p99 ms"
	echo "   ours: sync hook → remote-executor (libssh2); webhook: runs OpenSSH \`ssh -o BatchMode=yes … true\`"
	printf '   %-4s | %-28s | %-28s | %-13s | %s\n' c "ours jobs/s  p50 / p99" "webhook+ssh jobs/s  p50 / p99" "ours/webhook" "target ≥2× jobs/s, c=8: p99 ≤ 1 s"
	local r v
	for c in 1 8; do
		o=ssh_ours_$c w=ssh_wh_$c
		r=$(ratio "$(ok_rate $o)" "$(ok_rate $w)")
		v=$(verdict "$r" ">=" 2)
		if [ "$c" = 8 ]; then
			v="$v; p99 $(ms $o p99_us) ms $(verdict "$(get $o p99_us)" "<=" 1000000)"
		fi
		printf '   %-4s | %6s  %7s / %-9s | %6s  %7s / %-9s | %-13s | %s\n' "$c" \
			"$(ok_rate $o)" "$(ms $o p50_us)" "$(ms $o p99_us)" \
			"$(ok_rate $w)" "$(ms $w p50_us)" "$(ms $w p99_us)" "${r}×" "$v"
	done
	echo "   (failed answers ours/webhook: $(get ssh_ours_1 non2xx)/$(get ssh_wh_1 non2xx) at c=1, $(get ssh_ours_8 non2xx)/$(get ssh_wh_8 non2xx) at c=8)"
	echo
	echo "3b. Warm SSH job end to end, sync, command \`true\`; same counts; the SSH connection already up"
	echo "   ours: sync hook → remote-executor service (executor.socket, reuse); webhook: OpenSSH \`ssh\` through a ControlMaster"
	printf '   %-4s | %-28s | %-28s | %s\n' c "ours jobs/s  p50 / p99" "webhook+ssh CM jobs/s  p50 / p99" "ours/webhook jobs/s"
	for c in 1 8; do
		o=warm_ours_$c w=warm_wh_$c
		printf '   %-4s | %6s  %7s / %-9s | %6s  %7s / %-9s | %s\n' "$c" \
			"$(ok_rate $o)" "$(ms $o p50_us)" "$(ms $o p99_us)" \
			"$(ok_rate $w)" "$(ms $w p50_us)" "$(ms $w p99_us)" "$(ratio "$(ok_rate $o)" "$(ok_rate $w)")×"
	done
	echo "   (failed answers ours/webhook: $(get warm_ours_1 non2xx)/$(get warm_wh_1 non2xx) at c=1, $(get warm_ours_8 non2xx)/$(get warm_wh_8 non2xx) at c=8;"\
		"SSH connections accepted by sshd over the whole run: $WARM_CONNS)"
	echo
	echo "4. Resident memory of the daemon process (kB; children — remote-executor, ssh — not included)"
	printf '   %-8s | %-9s | %-9s | %-17s | %-17s\n' "" "idle RSS" "idle HWM" "after 1-3: RSS" "after 1-3: HWM"
	printf '   %-8s | %-9s | %-9s | %-17s | %-17s\n' ours "$OURS_IDLE_RSS" "$OURS_IDLE_HWM" "$OURS_RSS" "$OURS_HWM"
	printf '   %-8s | %-9s | %-9s | %-17s | %-17s\n' webhook "$WH_IDLE_RSS" "$WH_IDLE_HWM" "$WH_RSS" "$WH_HWM"
	printf '   %-8s | %-9s | %-9s | %-17s | %-17s\n' "ratio" "$(ratio "$OURS_IDLE_RSS" "$WH_IDLE_RSS")×" \
		"$(ratio "$OURS_IDLE_HWM" "$WH_IDLE_HWM")×" "$(ratio "$OURS_RSS" "$WH_RSS")×" "$(ratio "$OURS_HWM" "$WH_HWM")×"
	echo "   target ≤ 0.5× (half): idle RSS $(verdict "$(ratio "$OURS_IDLE_RSS" "$WH_IDLE_RSS")" "<=" 0.5),"\
		"after RSS $(verdict "$(ratio "$OURS_RSS" "$WH_RSS")" "<=" 0.5), after HWM $(verdict "$(ratio "$OURS_HWM" "$WH_HWM")" "<=" 0.5)"
	echo
	if [ -s "$STORE_OUT" ]; then
		local nr rr
		nr=$(sed -n 's/^ratio.*NEW mean \([0-9.]*\).*/\1/p' "$STORE_OUT")
		rr=$(sed -n 's/^ratio.*REPLAY mean \([0-9.]*\).*/\1/p' "$STORE_OUT")
		echo "5. Idempotency claim cost, 1 thousand vs 1 million stored keys (bench/store_claim.c, runner/store.c)"
		grep -E '^N=.*claim' "$STORE_OUT" | sed 's/^/   /'
		echo "   growth 1M/1k: NEW claim ${nr}× ($(verdict "$nr" "<=" 1.5)), REPLAY claim ${rr}× ($(verdict "$rr" "<=" 1.5)); target ≤ 1.5×"
	else
		echo "5. Idempotency claim cost: skipped (BENCH_SKIP_STORE=1)"
	fi
}
mkdir -p "$BUILD/bench"
table | tee "$BUILD/bench/last-run.txt"
if [ "$ONLY" != core ]; then
	for s in $SECTIONS; do
		bash "bench/$s.sh" "$BUILD" || say "section $s failed (its rows are missing)"
	done | tee -a "$BUILD/bench/last-run.txt"
fi
rm -rf "$BUILD/bench/last-run-raw"
cp -r "$R" "$BUILD/bench/last-run-raw" 2>/dev/null || true
