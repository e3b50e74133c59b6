# bench/accept.sh — section 2 of bench/run.sh (sourced by it, which
# provides the fixtures, the servers and the helpers): the accept path,
# with the same job on both sides, an SSH command that appends a line to a
# file on the SSH target (the loopback sshd), so executions are counted
# there, not from what either daemon says.
#   2a. c=8, workers running: our async hook (HMAC + JWT + claim → 202) vs
#       webhook running the same `ssh` asynchronously; executed/accepted for
#       both after everything started has ended.
#   2b. the accept path alone, c=8 and c=64: a second daemon whose workers
#       are held (executor.paused) fills its durable queue during the load;
#       then a reload resumes the workers and every job is counted. webhook
#       at c=64 beside it (it has no queue to hold).
# accept_run measures; accept_table prints the rows. Window: BENCH_ACCEPT_SECONDS
# (default 2: every accepted job is a cold SSH run that must drain).
# shellcheck shell=bash

ACC_SECS=${BENCH_ACCEPT_SECONDS:-2}

# lines FILE : its line count (0 when absent)
acc_lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# acc_sql DB SQL
acc_sql() { sqlite3 -cmd ".timeout 5000" "$1" "$2"; }

# Wait until DB has no queued or running job of hook accept (at most
# DRAIN_MAX s); sets ACC_DRAIN_S and ACC_LEFT.
acc_drain() {
	local db=$1 t0 left
	t0=$(date +%s%N)
	while :; do
		left=$(acc_sql "$db" "SELECT count(*) FROM jobs WHERE hook = 'accept' AND state IN ('queued', 'running')")
		[ "$left" -eq 0 ] && break
		[ $(($(date +%s%N) - t0)) -gt $((DRAIN_MAX * 1000000000)) ] && break
		sleep 0.5
	done
	ACC_DRAIN_S=$(awk -v n="$(($(date +%s%N) - t0))" 'BEGIN {printf "%.1f", n/1e9}')
	ACC_LEFT=$left
}

# Wait until webhook has no child left (its async jobs: sh, then ssh), at
# most 120 s; sets WH_DRAIN_S.
acc_wh_drain() {
	local t0
	t0=$(date +%s%N)
	while pgrep -P "$WH_PID" >/dev/null 2>&1; do
		[ $(($(date +%s%N) - t0)) -gt 120000000000 ] && break
		sleep 0.5
	done
	WH_DRAIN_S=$(awk -v n="$(($(date +%s%N) - t0))" 'BEGIN {printf "%.1f", n/1e9}')
}

accept_run() {
	local before held_db=$B/runner-held.db saved_pid=$RUNNER_PID saved_port=$RUNNER_PORT n0

	# 2a: workers running, ours then webhook (neither pays for the other's jobs)
	before=$(acc_sql "$B/runner.db" "SELECT coalesce(max(id), 0) FROM jobs")
	n0=$(acc_lines "$MARK_DIR/ours_exec.txt")
	wrk_run acc_ours "$OURS/accept" 8 "$ACC_SECS" "$B/ours_ok.hdr" "$RUN-acc"
	say "waiting for our queue to drain (at most ${DRAIN_MAX}s)"
	acc_drain "$B/runner.db"
	A_DRAIN=$ACC_DRAIN_S A_LEFT=$ACC_LEFT
	A_CLAIMED=$(acc_sql "$B/runner.db" "SELECT count(*) FROM jobs WHERE hook = 'accept' AND id > $before")
	A_OK=$(acc_sql "$B/runner.db" "SELECT count(*) FROM jobs WHERE hook = 'accept' AND id > $before AND state = 'succeeded'")
	A_EXEC=$(($(acc_lines "$MARK_DIR/ours_exec.txt") - n0))
	A_STATES=$(acc_sql "$B/runner.db" "SELECT group_concat(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM jobs WHERE hook = 'accept' AND id > $before GROUP BY state)")

	n0=$(acc_lines "$MARK_DIR/webhook_executed.txt")
	wrk_run acc_wh "$WH/accept" 8 "$ACC_SECS" "$B/wh_ok.hdr"
	say "waiting for webhook's ssh jobs to end (at most 120 s)"
	acc_wh_drain
	WA_DRAIN=$WH_DRAIN_S
	WA_EXEC=$(($(acc_lines "$MARK_DIR/webhook_executed.txt") - n0))

	# 2b: the accept path alone, on a daemon with its workers held
	sed 's|"executor": {|"executor": { "paused": true,|; s|runner\.db|runner-held.db|; s|ours_exec\.txt|held_exec.txt|' \
		"$B/runner.json" >"$B/runner-held.json"
	grep -q '"paused": true' "$B/runner-held.json"
	"$BUILD/webhook-runner" check-config "$B/runner-held.json" >&2
	RUNNER_PID= RUNNER_LOG=$B/runner-held.log
	runner_start "$B/runner-held.json"
	HELD=http://127.0.0.1:$RUNNER_PORT/hooks
	HELD_PID=$RUNNER_PID
	at_exit "kill $HELD_PID; wait $HELD_PID"
	RUNNER_PID=$saved_pid RUNNER_PORT=$saved_port
	wrk_run held_8 "$HELD/accept" 8 "$ACC_SECS" "$B/ours_ok.hdr" "$RUN-held8"
	wrk_run held_64 "$HELD/accept" 64 "$ACC_SECS" "$B/ours_ok.hdr" "$RUN-held64"
	H_QUEUED=$(acc_sql "$held_db" "SELECT count(*) FROM jobs WHERE state = 'queued'")
	H_RAN_HELD=$(acc_lines "$MARK_DIR/held_exec.txt") # must be 0: the workers were held
	say "resuming the held daemon's workers (reload without executor.paused)"
	sed -i 's|"paused": true,||' "$B/runner-held.json"
	kill -HUP "$HELD_PID"
	acc_drain "$held_db"
	H_DRAIN=$ACC_DRAIN_S H_LEFT=$ACC_LEFT
	H8_CLAIMED=$(acc_sql "$held_db" "SELECT count(*) FROM jobs WHERE key LIKE '$RUN-held8%'")
	H64_CLAIMED=$(acc_sql "$held_db" "SELECT count(*) FROM jobs WHERE key LIKE '$RUN-held64%'")
	H8_OK=$(acc_sql "$held_db" "SELECT count(*) FROM jobs WHERE key LIKE '$RUN-held8%' AND state = 'succeeded'")
	H64_OK=$(acc_sql "$held_db" "SELECT count(*) FROM jobs WHERE key LIKE '$RUN-held64%' AND state = 'succeeded'")
	H_EXEC=$(acc_lines "$MARK_DIR/held_exec.txt")
	H_STATES=$(acc_sql "$held_db" "SELECT group_concat(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM jobs GROUP BY state)")

	n0=$(acc_lines "$MARK_DIR/webhook_executed.txt")
	wrk_run acc_wh_64 "$WH/accept" 64 "$ACC_SECS" "$B/wh_ok.hdr"
	say "waiting for webhook's ssh jobs to end (at most 120 s)"
	acc_wh_drain
	W64_DRAIN=$WH_DRAIN_S
	W64_EXEC=$(($(acc_lines "$MARK_DIR/webhook_executed.txt") - n0))
}

# pct E A : "E/A = P%"
acc_pct() { awk -v e="$1" -v a="$2" 'BEGIN {printf "%d/%d = %.1f%%", e, a, a ? 100*e/a : 0}'; }
acc_2xx() { echo $(($(get "$1" requests) - $(get "$1" non2xx))); }

accept_table() {
	local fmt='   %-30s | %-10s | %-16s | %-26s | %s\n' oa ha wa w64 h64
	oa=$(ok_rate acc_ours) ha=$(ok_rate held_8) wa=$(ok_rate acc_wh) w64=$(ok_rate acc_wh_64) h64=$(ok_rate held_64)
	echo "2. Accept path, ${ACC_SECS} s of wrk per row: valid signature, 2xx answers/s, then every job counted on the SSH target"
	echo "   job on both sides: SSH (cold, to the loopback sshd) running \`echo x >>FILE\`; executed = lines in FILE"
	echo "   ours: async hook, HMAC + JWT + idempotency claim (SQLite, synchronous=FULL, group commit) → 202, 8 workers;"
	echo "   webhook: payload-hmac-sha256 rule → 200, then runs the same \`ssh\` at once (no queue, no cap)"
	printf "$fmt" "" "2xx/s" "p50 / p99 ms" "executed/accepted" "drain"
	printf "$fmt" "ours, c=8, workers running" "$oa" "$(ms acc_ours p50_us) / $(ms acc_ours p99_us)" \
		"$(acc_pct "$A_EXEC" "$A_CLAIMED")" "${A_DRAIN} s; $A_LEFT left; $A_STATES"
	printf "$fmt" "webhook, c=8" "$wa" "$(ms acc_wh p50_us) / $(ms acc_wh p99_us)" \
		"$(acc_pct "$WA_EXEC" "$(acc_2xx acc_wh)")" "${WA_DRAIN} s"
	printf "$fmt" "ours, c=8, accept path alone" "$ha" "$(ms held_8 p50_us) / $(ms held_8 p99_us)" \
		"$(acc_pct "$H8_OK" "$H8_CLAIMED") ok" "workers held during the loads"
	printf "$fmt" "ours, c=64, accept path alone" "$h64" "$(ms held_64 p50_us) / $(ms held_64 p99_us)" \
		"$(acc_pct "$H64_OK" "$H64_CLAIMED") ok" "then ${H_DRAIN} s for both; $H_LEFT left; $H_STATES"
	printf "$fmt" "webhook, c=64" "$w64" "$(ms acc_wh_64 p50_us) / $(ms acc_wh_64 p99_us)" \
		"$(acc_pct "$W64_EXEC" "$(acc_2xx acc_wh_64)")" "${W64_DRAIN} s"
	echo "   accept path alone / webhook async, c=8: $(ratio "$ha" "$wa")× (target ≥5×: $(verdict "$(ratio "$ha" "$wa")" ">=" 5));"\
		"workers running: $(ratio "$oa" "$wa")×; c=64: $(ratio "$h64" "$w64")×"
	echo "   c=64 p99 $(ms held_64 p99_us) ms (target ≤ 1000: $(verdict "$(get held_64 p99_us)" "<=" 1000000));"\
		"ours executed 100% of accepted: $([ "$A_EXEC" -eq "$A_CLAIMED" ] && [ "$H_EXEC" -eq $((H8_CLAIMED + H64_CLAIMED)) ] && echo met || echo MISSED)"\
		"(held: $H_EXEC lines on the target for $((H8_CLAIMED + H64_CLAIMED)) accepted; $H_RAN_HELD ran while held, $H_QUEUED queued)"
	echo "   (ours: accepted = jobs in the store, 2xx seen by wrk: $(acc_2xx acc_ours) / $(acc_2xx held_8) / $(acc_2xx held_64); webhook: 2xx seen by wrk;"
	echo "    non-2xx: ours $(get acc_ours non2xx) / $(get held_8 non2xx) / $(get held_64 non2xx), webhook $(get acc_wh non2xx) / $(get acc_wh_64 non2xx))"
}
