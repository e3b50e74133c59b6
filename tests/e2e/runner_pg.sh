#!/usr/bin/env bash
# tests/e2e/runner_pg.sh — two webhook-runner daemons on two ports sharing
# one PostgreSQL store (a throwaway server from tests/pg.sh) and one sshd:
#   - a storm of 100 identical deliveries split across both: one execution;
#   - async jobs queued on A while it is busy run on B once A is stopped;
#   - kill -9 of A mid-job: B answers busy while A's lease lasts, then marks
#     the job interrupted, and a redelivery to B runs it exactly once more;
#   - the server restarted under load: only 503s (with Retry-After) while it
#     is down, /healthz says so, and after it nothing is lost or doubled;
#   - the store's password (store.password, env:) is in no log; a wrong one
#     stops the start-up with a clear reason; a URL holding one is refused.
#   - the CLI (replay, jobs list/show) on the shared store while both run;
#   - every connection is TLS, sslmode=verify-full against the test CA;
# Executions are counted on the SSH target (runs/starts); the store is read
# through the CLI (jobs list/show --json) and psql, never a file.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"
. "$TOP/tests/pg.sh"

EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX"
need_tools curl
pg_available || { fail setup "PostgreSQL server binaries missing (make deps installs postgresql)"; exit 1; }
at_exit pg_stop
pg_start || { fail pg_start "tests/pg.sh could not start PostgreSQL"; exit 1; }
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
at_exit kill_leftovers

SECRET=$T_TMP/hookdeck.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET"
DEST=$SSH_USER@127.0.0.1:$SSHD_PORT
CMD="n={{name}}; echo \$\$ >>$MARK_DIR/\$n.pids; echo start >>$MARK_DIR/\$n.start; sleep {{secs}};"
CMD+=" case {{action}} in ok) echo run >>$MARK_DIR/\$n; echo out-\$n;; esac"
PARAMS='{ "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" },
          "action": { "from": "payload", "path": "action", "pattern": "ok" },
          "secs": { "from": "payload", "path": "secs", "pattern": "[0-9]{1,2}" } }'
hook() { # ID MODE
	cat <<JSON
    { "id": "$1",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$SECRET"] },
      "job": { "destination": "$DEST", "identity": "$KEY_ED25519", "known_hosts": "$KNOWN_HOSTS",
               "command": "$CMD", "params": $PARAMS, "timeout_s": 30, "connect_timeout_s": 3,
               "handshake_timeout_s": 5, "mode": "$2" } }
JSON
}
export WR_PG_PASSWORD=$PG_PASSWORD
STORE="\"url\": \"$PG_DSN_NOPW?sslmode=verify-full&sslrootcert=$PG_CA\", \"password\": \"env:WR_PG_PASSWORD\","
STORE+=" \"lease_s\": 3, \"heartbeat_ms\": 500, \"connect_timeout_s\": 2, \"pool_size\": 4"
mkcfg "$T_TMP/a.json" "$(hook sync sync), $(hook async async)" store_json="$STORE" max_jobs=1 threads=16 \
	log_level=info log_format=json
mkcfg "$T_TMP/b.json" "$(hook sync sync), $(hook async async)" store_json="$STORE" max_jobs=8 threads=16 \
	log_level=info log_format=json
CFG=$T_TMP/a.json

stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# state_of KEY : the latest attempt's "attempt:state" of sync KEY, through the CLI
cli_state() {
	"$RUNNER_BIN" jobs list --config "$T_TMP/b.json" --hook "$1" --json 2>/dev/null |
		"$PY" -c 'import json,sys
rows=[json.loads(l) for l in sys.stdin if l.strip()]
rows=[r for r in rows if r.get("key")==sys.argv[1]]
rows.sort(key=lambda r: r["attempt"])
print("%d:%s" % (rows[-1]["attempt"], rows[-1]["status"]) if rows else "none")' "$2"
}
# pg_count WANT SQL : the count SQL gives is WANT (for wait_until)
pg_count() { [ "$(pg_query "$2")" = "$1" ]; }
cli_state_is() { [ "$(cli_state "$1" "$2")" = "$3" ]; }
runs_at_least() { [ "$(runs "$1")" -ge "$2" ]; }
njobs() { pg_query "SELECT count(*) FROM webhook_runner.jobs WHERE key = '$1'"; }

start_as A
start_as B
expect_match two_instances_registered "$(pg_query "SELECT count(*) FROM webhook_runner.instances")" '^2$'
TLSQ="FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'webhook-runner'"
expect_match connections_all_tls "$(pg_query "SELECT count(*) FILTER (WHERE s.ssl) || ':' || count(*) FILTER (WHERE NOT s.ssl) $TLSQ")" '^[2-9][0-9]*:0$'

# ------------------------------------------------------------------ storm
STORM=$(pl storm ok 2)
rsign "$CFG" sync "$STORM" --idempotency-key key-storm >"$R/storm.hdrs"
seq 1 100 | xargs -P 25 -I{} sh -c 'p=$(( {} % 2 ? '"$A_PORT"' : '"$B_PORT"' ));
	curl -s --max-time 40 -o /dev/null -D '"$R"'/storm.{}.hdr -w "{} %{http_code}\n" \
	-H @'"$R"'/storm.hdrs --data-binary @'"$STORM"' http://127.0.0.1:$p/hooks/sync' >"$R/storm.codes" 2>/dev/null
wait_until 15 runs_at_least storm 1
sleep 1
S200=$(awk '$2==200' "$R/storm.codes" | wc -l) S409=$(awk '$2==409' "$R/storm.codes" | wc -l)
SOTHER=$(awk '$2!=200 && $2!=409' "$R/storm.codes" | wc -l)
SREPLAY=$(grep -li '^Idempotent-Replayed: true' "$R"/storm.*.hdr 2>/dev/null | wc -l)
info "storm: 200=$S200 (replayed $SREPLAY) 409=$S409 other=$SOTHER"
expect_eq storm_one_execution "$(runs storm):$(starts storm)" "1:1"
expect_eq storm_all_answered "$((S200 + S409 + SOTHER))" 100
expect_eq storm_only_200_or_409 "$SOTHER" 0
expect_eq storm_one_fresh_200 "$((S200 - SREPLAY))" 1
expect_eq storm_one_job_in_store "$(njobs key-storm)" 1
expect_eq storm_cli_sees_success "$(cli_state sync key-storm)" "1:succeeded"

# the operator's replay from the CLI, on the shared store while both run:
# one more execution, and a redelivery to either daemon replays its answer
STORM_ID=$(pg_query "SELECT id FROM webhook_runner.jobs WHERE key = 'key-storm'")
"$RUNNER_BIN" replay "$STORM_ID" --config "$T_TMP/b.json" >"$R/replay.out" 2>"$R/replay.err"
expect_eq cli_replay_exit "$?" 0
expect_eq cli_replay_ran_once_more "$(runs storm):$(starts storm)" "2:2"
expect_eq cli_replay_recorded "$(cli_state sync key-storm)" "2:succeeded"
on A
send storm-after sync "$STORM" key-storm
answer cli_replay_then_replayed storm-after code=200 hdr:Idempotent-Replayed=true attempt=2 runs:storm=2
"$RUNNER_BIN" jobs show "$STORM_ID" --config "$T_TMP/a.json" --json >"$R/show.json" 2>/dev/null
expect_eq cli_jobs_show "$(json_get "$R/show.json" status):$(json_get "$R/show.json" key)" "succeeded:key-storm"

# ------------------------------------------------------------------ async across instances
# B stopped; A (one worker) busy with a long job; three more wait in the
# queue; A stops (its drain finishes the long one, the queue stays); B
# starts and runs the three, each once.
stop_pid "$B_PID"
on A
send along async "$(pl along ok 3)" key-along
expect_eq async_long_accepted "$CODE" 202
wait_until 10 started along
for i in 1 2 3; do send "aq$i" async "$(pl "aq$i" ok 0)" "key-aq$i"; echo "$CODE" >>"$R/aq.codes"; done
expect_eq async_queued_on_a "$(sort -u "$R/aq.codes" | tr '\n' ' ')" "202 "
expect_eq async_waiting_in_store "$(pg_query "SELECT count(*) FROM webhook_runner.jobs WHERE key LIKE 'key-aq%' AND state = 'queued'")" 3
stop_pid "$A_PID"
expect_eq async_a_finished_its_job "$(runs along)" 1
expect_eq async_nothing_ran_on_a "$(runs aq1)$(runs aq2)$(runs aq3)" 000
start_as B
if wait_until 20 pg_count 3 "SELECT count(*) FROM webhook_runner.jobs WHERE key LIKE 'key-aq%' AND state = 'succeeded'"; then
	ok async_ran_on_b
else
	fail async_ran_on_b "jobs: $(pg_query "SELECT key || ':' || state FROM webhook_runner.jobs WHERE key LIKE 'key-aq%'" | tr '\n' ' ')"
fi
expect_eq async_each_once "$(runs aq1)$(runs aq2)$(runs aq3):$(starts aq1)$(starts aq2)$(starts aq3)" "111:111"
expect_eq async_b_logged_them "$(grep -c '"event":"job_finished".*"hook":"async"' "$T_TMP/B.log")" 3

# ------------------------------------------------------------------ kill -9 of A mid-job
# from here on A has as many slots as B (8: no 429 for the load below)
mkcfg "$T_TMP/a.json" "$(hook sync sync), $(hook async async)" store_json="$STORE" max_jobs=8 threads=16 \
	log_level=info log_format=json
start_as A
on A
send crash1 sync "$(pl crash ok 4)" key-crash --max-time 30 &
BG_PIDS+=("$!")
if wait_until 10 started crash; then
	kill -9 "$A_PID"
	wait "$A_PID" 2>/dev/null
	KILL_T=$(now_ms)
	on B
	send crash2 sync "$(pl crash ok 4)" key-crash
	answer crash_busy_while_lease_lasts crash2 code=409
	# the remote shell of attempt 1 may still get to its end (as with one
	# daemon): count it once it is gone
	wait_until 15 no_remote_left crash
	RUNS1=$(runs crash)
	case "$RUNS1" in 0 | 1) ok crash_attempt1_counted ;; *) fail crash_attempt1_counted "ran $RUNS1 times" ;; esac
	if wait_until 20 cli_state_is sync key-crash 1:interrupted; then
		info "kill -9: job seen interrupted $(($(now_ms) - KILL_T)) ms after the kill (lease 3 s)"
		ok crash_interrupted_after_lease
		expect_eq crash_b_logged_interrupted "$(grep -c '"event":"jobs_interrupted","count":"1"' "$T_TMP/B.log")" 1
	else
		fail crash_interrupted_after_lease "state $(cli_state sync key-crash)"
	fi
	send crash3 sync "$(pl crash ok 4)" key-crash
	answer crash_redelivery_runs_once_more crash3 code=200 status=succeeded attempt=2 \
		runs:crash=$((RUNS1 + 1)) starts:crash=2
	send crash4 sync "$(pl crash ok 4)" key-crash
	answer crash_then_replayed crash4 code=200 hdr:Idempotent-Replayed=true starts:crash=2
else
	fail crash_attempt1_counted "the job did not start"
fi

# ------------------------------------------------------------------ server restart under load
start_as A
# load: distinct deliveries, alternating A and B, 6 at most in flight, from before
# the server stops (for ~3 s) until after it is back. Every one answered
# 503 is redelivered after, as a sender would.
load_one() { # I
	local i=$1 port tag=ld$1
	if [ $((i % 2)) -eq 0 ]; then port=$A_PORT; else port=$B_PORT; fi
	RUNNER_PORT=$port send "$tag" sync "$(pl "ld$i" ok 0)" "key-ld$i" --max-time 60
	echo "$i $CODE $(header "$tag" Retry-After)" >>"$R/load.codes"
}
: >"$R/load.codes"
(
	i=0
	while [ ! -e "$R/load.stop" ] && [ "$i" -lt 400 ]; do
		# at most 6 in flight, so neither daemon's 8 slots overflow (429)
		while [ "$(jobs -pr | wc -l)" -ge 6 ]; do sleep 0.05; done
		i=$((i + 1))
		load_one "$i" &
		sleep 0.1
	done
	wait
	echo "$i" >"$R/load.n"
) &
LOADER=$!
BG_PIDS+=("$LOADER")
sleep 1.5
pg_server_stop
DOWN_T=$(now_ms)
sleep 0.5
HZ=$(curl -s --max-time 10 -o "$R/hz.body" -w '%{http_code}' "http://127.0.0.1:$B_PORT/healthz")
expect_eq restart_healthz_503_while_down "$HZ:$(json_get "$R/hz.body" store)" "503:error"
sleep 2.5
pg_server_start
info "server down for $(($(now_ms) - DOWN_T)) ms"
sleep 1.5
touch "$R/load.stop"
wait "$LOADER"
NLOAD=$(cat "$R/load.n" 2>/dev/null || echo 0)
HZ=$(curl -s --max-time 10 -o "$R/hz.body" -w '%{http_code}' "http://127.0.0.1:$A_PORT/healthz")
expect_eq restart_healthz_200_after "$HZ" 200
L200=$(awk '$2==200' "$R/load.codes" | wc -l) L503=$(awk '$2==503' "$R/load.codes" | wc -l)
LOTHER=$(awk '$2!=200 && $2!=503' "$R/load.codes" | wc -l)
info "load during restart: $NLOAD deliveries, 200=$L200 503=$L503 other=$LOTHER ($(awk '$2!=200 && $2!=503' "$R/load.codes" | tr '\n' ' '))"
expect_eq restart_only_200_or_503 "$LOTHER:$((L200 + L503))" "0:$NLOAD"
expect_eq restart_503_has_retry_after "$(awk '$2==503 && $3==""' "$R/load.codes" | wc -l)" 0
if [ "$L503" -ge 1 ]; then ok restart_some_refused_while_down; else
	fail restart_some_refused_while_down "no 503 at all: the server stop did not overlap the load"; fi
for i in $(awk '$2==503 {print $1}' "$R/load.codes"); do load_one "$i"; done
BAD=""
for i in $(seq 1 "$NLOAD"); do
	[ "$(runs "ld$i"):$(starts "ld$i")" = "1:1" ] || BAD+="ld$i=$(runs "ld$i")/$(starts "ld$i") "
done
expect_eq restart_each_ran_once "$BAD" ""
expect_eq restart_one_job_each "$(pg_query "SELECT count(*) FROM webhook_runner.jobs WHERE key LIKE 'key-ld%' AND state = 'succeeded'")" "$NLOAD"
expect_eq restart_nothing_left_running "$(pg_query "SELECT count(*) FROM webhook_runner.jobs WHERE state IN ('running', 'queued')")" 0

# ------------------------------------------------------------------ the password
# refusals: a wrong password stops the start-up with libpq's reason and
# without the password; a URL holding a password is refused by check-config
export WR_PG_BAD=wrong-pw-$(rand_hex 6)
mkcfg "$T_TMP/bad.json" "$(hook sync sync)" store_json="${STORE/WR_PG_PASSWORD/WR_PG_BAD}" max_jobs=4 threads=16
timeout 30 "$RUNNER_BIN" --config "$T_TMP/bad.json" --host 127.0.0.1 --port "$(closed_port)" >"$T_TMP/bad.log" 2>&1
BADRC=$?
expect_eq bad_password_refused_at_start "$BADRC:$(grep -c 'password authentication failed' "$T_TMP/bad.log")" "1:1"
expect_eq bad_password_not_logged "$(grep -c "$WR_PG_BAD" "$T_TMP/bad.log")" 0
cp "$T_TMP/a.json" "$T_TMP/pw-in-url.json"
sed -i "s|postgresql://wr@|postgresql://wr:$PG_PASSWORD@|" "$T_TMP/pw-in-url.json"
"$RUNNER_BIN" check-config "$T_TMP/pw-in-url.json" >"$R/pwurl.out" 2>"$R/pwurl.err"
expect_eq check_config_refuses_password_in_url "$?:$(grep -c '^store.url: must not hold a password' "$R/pwurl.err")" "1:1"
expect_eq check_config_does_not_echo_password "$(grep -c "$PG_PASSWORD" "$R/pwurl.err")" 0

LEAK=""
for f in "$T_TMP"/*.log "$R"/*; do [ -f "$f" ] && grep -qF "$PG_PASSWORD" "$f" && LEAK+="$(basename "$f") "; done
expect_eq password_in_no_log "$LEAK" ""
expect_match store_logged_without_password "$(grep -h '"event":"listening"' "$T_TMP/A.log" | head -1)" \
	"postgresql://wr@127.0.0.1"
