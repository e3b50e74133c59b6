#!/usr/bin/env bash
# tests/e2e/runner_cli.sh — the operator's CLI on the job history, end to
# end: a real daemon, the real remote-executor and a real OpenSSH sshd.
# Deliveries that succeed and fail, then `jobs list` (table, --failed,
# --hook, --limit, --json parsed by python3) and `jobs show` of each, while
# the daemon runs and after it stops; `replay` as the dead-letter workflow
# (a hook fails, its command is fixed in the config, the stored delivery is
# replayed: attempt n+1 recorded, exactly one more execution, and Hookdeck's
# own retry then gets the replay's answer without running anything); replay
# of a succeeded job (runs again: an explicit operator action); replay while
# the same key runs (BUSY, nothing runs); replays that must refuse before
# recording anything (unknown id, hook gone from the config, a stored value
# the current template rejects); bad arguments (exit 2, one line).
#
# Executions are COUNTED through side effects: each job appends a line to
# $MARK_DIR/<name> (and .start before a sleep). Every CLI call and curl is
# bounded in time; background work is killed at exit.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"

EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX"
need_tools sqlite3
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
T_START=$(now_ms)

R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
at_exit kill_leftovers

# ------------------------------------------------------------------ helpers
# cli TAG ARGS... : run webhook-runner ARGS (bounded); stdout in $R/TAG.out,
# stderr in $R/TAG.err, exit status in RC
cli() {
	local tag=$1
	shift
	timeout 60 "$RUNNER_BIN" "$@" >"$R/$tag.out" 2>"$R/$tag.err"
	RC=$?
	CLI_ERRS+=("$R/$tag.err")
}
CLI_ERRS=()
# pyj FILE EXPR : evaluate EXPR over FILE's JSON lines (a list L of objects;
# J is the first); prints the result. Independent of our C code.
pyj() { "$PY" "$TOP/tests/tools/json_lines_eval.py" "$1" "$2" 2>&1; }
# pl NAME [CODE] [SECS] : a payload file (this script's shape, in place of
# runner.sh's pl)
pl() {
	local f=$P/$1-${2:-0}-${3:-0}.json
	printf '{"name":"%s","code":"%s","secs":"%s"}' "$1" "${2:-0}" "${3:-0}" >"$f"
	echo "$f"
}
# job_id KEY [ATTEMPT] : the job id of KEY's attempt (default the first)
job_id() { db "select id from jobs where key='$1' and attempt=${2:-1}"; }
attempts() { db "select group_concat(attempt||':'||state, ',') from (select * from jobs where key='$1' order by attempt)"; }

# ------------------------------------------------------------------ config
SECRET=$T_TMP/hookdeck.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET"
DEST=$SSH_USER@127.0.0.1:$SSHD_PORT
DB=$T_TMP/store.db
# cli_hook ID COMMAND NAME_PATTERN [EXTRA_PARAM_NAME:PATTERN] : one hook's JSON
cli_hook() {
	local extra=""
	[ -z "${4:-}" ] || extra=", \"${4%%:*}\": { \"from\": \"payload\", \"path\": \"${4%%:*}\", \"pattern\": \"${4#*:}\" }"
	cat <<JSON
    { "id": "$1",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$SECRET"] },
      "job": { "destination": "$DEST", "identity": "$KEY_ED25519", "known_hosts": "$KNOWN_HOSTS",
               "command": "$2",
               "params": { "name": { "from": "payload", "path": "name", "pattern": "$3" }$extra },
               "timeout_s": 20, "connect_timeout_s": 3, "handshake_timeout_s": 5,
               "response_output": true } }
JSON
}
# cli_cfg FILE DEPLOY_EXIT [without=HOOK] [strict=1] : write a config. "app"
# exits with the payload's code; "deploy" with DEPLOY_EXIT (3 broken, 0
# fixed); "slow" sleeps the payload's secs. without= leaves one hook out;
# strict=1 makes app's name pattern digits only (stored names no longer pass).
cli_cfg() {
	local file=$1 deploy_exit=$2 without="" strict="" name='[a-z0-9-]{1,40}' h hooks=()
	shift 2
	[ $# -eq 0 ] || local "$@"
	[ -z "$strict" ] || name='[0-9]{1,9}'
	h=$(cli_hook app "echo run >>$MARK_DIR/{{name}}; echo out-{{name}}; exit {{code}}" "$name" 'code:[0-9]{1,3}')
	[ "$without" = app ] || hooks+=("$h")
	h=$(cli_hook deploy "echo run >>$MARK_DIR/{{name}}; echo deploy-{{name}}; exit $deploy_exit" "$name")
	[ "$without" = deploy ] || hooks+=("$h")
	h=$(cli_hook slow "echo \$\$ >>$MARK_DIR/{{name}}.pids; echo start >>$MARK_DIR/{{name}}.start; sleep {{secs}}; echo run >>$MARK_DIR/{{name}}" \
		"$name" 'secs:[0-9]{1,2}')
	[ "$without" = slow ] || hooks+=("$h")
	local IFS=,
	mkcfg "$file" "${hooks[*]}" store="$DB" threads=8 max_jobs=4 log_level=info log_format=json
}
CFG=$T_TMP/broken.json
cli_cfg "$CFG" 3
cli_cfg "$T_TMP/fixed.json" 0
cli_cfg "$T_TMP/nodeploy.json" 0 without=deploy
cli_cfg "$T_TMP/strict.json" 0 strict=1

RUNNER_LOG=$T_TMP/runner.log
runner_start "$CFG" || { fail runner_start "webhook-runner did not start"; exit 1; }

# ------------------------------------------------------------------ deliveries
send ok1 app "$(pl ok1 0)" k-ok1
expect_eq deliver_ok1_200 "$CODE $(runs ok1)" "200 1"
send bad1 app "$(pl bad1 3)" k-bad1
expect_eq deliver_bad1_500 "$CODE $(runs bad1)" "500 1"
send dl1 deploy "$(pl dl1)" k-dl1
expect_eq deliver_deploy_broken_500 "$CODE $(runs dl1)" "500 1"
send ok2 app "$(pl ok2 0)" k-ok2
expect_eq deliver_ok2_200 "$CODE $(runs ok2)" "200 1"
ID_OK1=$(job_id k-ok1) ID_BAD1=$(job_id k-bad1) ID_DL1=$(job_id k-dl1) ID_OK2=$(job_id k-ok2)

# ------------------------------------------------------------------ jobs list (daemon running)
# list_checks PHASE : the same checks while the daemon runs and after it stops
list_checks() {
	local ph=$1 n
	n=$(db "select count(*) from jobs")
	cli list-$ph jobs list --config "$CFG"
	expect_eq "list_table_${ph}_exit" "$RC" 0
	expect_eq "list_table_${ph}_rows" "$(($(lines "$R/list-$ph.out") - 1))" "$n"
	expect_match "list_table_${ph}_header" "$(head -n 1 "$R/list-$ph.out")" \
		'^ *ID +HOOK +KEY +ATTEMPT +STATE +EXIT +HTTP +STARTED +DURATION$'
	expect_match "list_table_${ph}_bad1_row" "$(grep -E "^ *$ID_BAD1 " "$R/list-$ph.out")" \
		"^ *$ID_BAD1 +app +k-bad1 +1 +failed +3 +500 +20[0-9-]+ [0-9:]+ +[0-9.]+s$"
	cli listj-$ph jobs list --store "$DB" --json
	expect_eq "list_json_${ph}" "$RC $(pyj "$R/listj-$ph.out" 'len(L)')" "0 $n"
	expect_eq "list_json_${ph}_newest_first" \
		"$(pyj "$R/listj-$ph.out" '[j["job_id"] for j in L] == sorted([j["job_id"] for j in L], reverse=True)')" true
	expect_eq "list_json_${ph}_same_as_store" "$(pyj "$R/listj-$ph.out" \
		'",".join("%d:%s:%s:%d:%s:%s:%s" % (j["job_id"], j["hook"], j["key"], j["attempt"], j["status"], j["exit_code"], j["http_status"]) for j in L)')" \
		"$(db "select group_concat(id||':'||hook||':'||key||':'||attempt||':'||state||':'||ifnull(exit_code,'None')||':'||ifnull(http_status,'None'), ',') from (select * from jobs order by id desc)")"
	cli listf-$ph jobs list --store "$DB" --failed --json
	expect_eq "list_failed_${ph}" "$RC $(pyj "$R/listf-$ph.out" '",".join(sorted(set(j["key"] + ":" + j["status"] for j in L)))')" \
		"0 $(db "select group_concat(k, ',') from (select distinct key||':'||state as k from jobs where state in ('failed','timeout','interrupted') order by k)")"
	cli listh-$ph jobs list --config "$CFG" --hook deploy --json
	expect_eq "list_hook_${ph}" "$RC $(pyj "$R/listh-$ph.out" 'sorted(set(j["hook"] for j in L))')" "0 ['deploy']"
	cli listl-$ph jobs list --store "$DB" --limit 2 --json
	expect_eq "list_limit_${ph}" "$RC $(pyj "$R/listl-$ph.out" '[j["job_id"] for j in L]')" \
		"0 [$(db "select group_concat(id, ', ') from (select id from jobs order by id desc limit 2)")]"
	cli listn-$ph jobs list --store "$DB" --hook nosuchhook
	expect_eq "list_empty_${ph}" "$RC $(lines "$R/listn-$ph.out")" "0 0"
}
list_checks running

# ------------------------------------------------------------------ jobs show
# show_checks PHASE
show_checks() {
	local ph=$1
	cli show-ok1-$ph jobs show "$ID_OK1" --config "$CFG"
	expect_eq "show_text_${ph}_exit" "$RC" 0
	expect_match "show_text_${ph}_fields" "$(tr '\n' '|' <"$R/show-ok1-$ph.out")" \
		"^job +$ID_OK1\|hook +app\|key +k-ok1\|attempt +1 of [0-9]+\|state +succeeded\|exit +0\|http +200\|created +20.*\|duration +[0-9.]+s\|.*attempts of this key:.*\* +$ID_OK1 +app +k-ok1 .*output tail:\|out-ok1\|"
	cli showj-bad1-$ph jobs show "$ID_BAD1" --store "$DB" --json
	expect_eq "show_json_${ph}_failed" "$RC $(pyj "$R/showj-bad1-$ph.out" \
		'(J["job_id"], J["status"], J["attempt"], J["exit_code"], J["http_status"], "out-bad1" in J["output_tail"], J["response"]["job_id"], J["response"]["status"], J["duration_ms"] >= 0, J["started_ms"] <= J["finished_ms"])')" \
		"0 ($ID_BAD1, 'failed', 1, 3, 500, True, $ID_BAD1, 'failed', True, True)"
	cli showj-dl1-$ph jobs show "$ID_DL1" --store "$DB" --json
	expect_eq "show_json_${ph}_attempts" "$RC $(pyj "$R/showj-dl1-$ph.out" \
		'",".join("%d:%s" % (a["attempt"], a["status"]) for a in J["attempts"])')" "0 $(attempts k-dl1)"
	expect_eq "show_json_${ph}_delivery" "$(pyj "$R/showj-dl1-$ph.out" 'J["delivery_bytes"]')" \
		"$(stat -c %s "$(pl dl1)")"
	cli show-none-$ph jobs show 999999 --store "$DB"
	expect_eq "show_unknown_${ph}" "$RC $(lines "$R/show-none-$ph.err") $(lines "$R/show-none-$ph.out")" "1 1 0"
	expect_match "show_unknown_${ph}_message" "$(cat "$R/show-none-$ph.err")" "no job 999999"
}
show_checks running

# ------------------------------------------------------------------ replay: the dead-letter workflow
# deploy failed (its command exits 3); fix the config, replay the stored delivery
cli rp-dl1 replay "$ID_DL1" --config "$T_TMP/fixed.json"
expect_eq replay_fixed_exit_0 "$RC" 0
expect_eq replay_fixed_answer "$(pyj "$R/rp-dl1.out" '(J["status"], J["attempt"], J["exit_code"], J["hook"], "deploy-dl1" in J["output_tail"])')" \
	"('succeeded', 2, 0, 'deploy', True)"
expect_eq replay_fixed_ran_once_more "$(runs dl1)" 2
expect_eq replay_fixed_attempts "$(attempts k-dl1)" "1:failed,2:succeeded"
ID_DL1B=$(job_id k-dl1 2)
expect_eq replay_fixed_answer_is_the_new_job "$(pyj "$R/rp-dl1.out" 'J["job_id"]')" "$ID_DL1B"
expect_eq replay_fixed_store_response "$(db "select response from jobs where id=$ID_DL1B")" "$(cat "$R/rp-dl1.out")"
expect_eq replay_fixed_store_row "$(db "select state||':'||exit_code||':'||http_status from jobs where id=$ID_DL1B")" "succeeded:0:200"
expect_match replay_fixed_log "$(grep -c '"event":"job_finished".*"request_id":"replay-' "$R/rp-dl1.err") $(grep -c '"event":"replay"' "$R/rp-dl1.err")" "^1 1$"
# Hookdeck's own retry of the dead letter now gets the replay's answer; nothing runs
send dl1r deploy "$(pl dl1)" k-dl1
expect_eq replay_then_delivery_retry_is_replayed "$CODE $(header dl1r Idempotent-Replayed) $(runs dl1)" "200 true 2"
expect_eq replay_then_delivery_retry_same_answer "$(cat "$R/dl1r.body")" "$(cat "$R/rp-dl1.out")"

# a succeeded job replays too: it runs again (explicit operator action)
cli rp-ok1 replay "$ID_OK1" --config "$CFG"
expect_eq replay_succeeded_runs_again "$RC $(runs ok1) $(attempts k-ok1)" "0 2 1:succeeded,2:succeeded"
# still failing (the app's command exits with the stored code): exit 1, recorded
cli rp-bad1 replay "$ID_BAD1" --config "$CFG"
expect_eq replay_still_failing "$RC $(runs bad1) $(attempts k-bad1) $(pyj "$R/rp-bad1.out" 'J["status"]')" \
	"1 2 1:failed,2:failed failed"
# replaying by the OLD id once more: attempt 3 of the same key
cli rp-bad1b replay "$ID_BAD1" --config "$T_TMP/fixed.json"
expect_eq replay_old_id_next_attempt "$RC $(runs bad1) $(attempts k-bad1)" "1 3 1:failed,2:failed,3:failed"

# ------------------------------------------------------------------ replays that refuse, recording nothing
N_JOBS=$(db "select count(*) from jobs")
cli rp-none replay 999999 --config "$CFG"
expect_eq replay_unknown_id "$RC $(lines "$R/rp-none.err") $(lines "$R/rp-none.out")" "1 1 0"
expect_match replay_unknown_id_message "$(cat "$R/rp-none.err")" "no job 999999"
cli rp-gone replay "$ID_DL1" --config "$T_TMP/nodeploy.json"
expect_eq replay_hook_removed "$RC $(runs dl1)" "1 2"
expect_match replay_hook_removed_message "$(cat "$R/rp-gone.err")" 'hook "deploy" is not in .*nodeploy.json'
cli rp-strict replay "$ID_OK2" --config "$T_TMP/strict.json"
expect_eq replay_template_refuses "$RC $(runs ok2)" "1 1"
expect_match replay_template_refuses_message "$(cat "$R/rp-strict.err")" 'cannot run with hook "app".*nothing was recorded'
expect_eq replay_refusals_recorded_nothing "$(db "select count(*) from jobs")" "$N_JOBS"

# ------------------------------------------------------------------ replay while the key runs: BUSY
send slow1 slow "$(pl slow1 0 4)" k-slow1 &
BG=$!
BG_PIDS+=("$BG")
if wait_until 10 started slow1; then
	ID_SLOW=$(job_id k-slow1)
	cli lists jobs list --store "$DB" --hook slow --json
	expect_eq list_shows_running "$(pyj "$R/lists.out" '[(j["job_id"], j["status"]) for j in L]')" "[($ID_SLOW, 'running')]"
	cli rp-busy replay "$ID_SLOW" --config "$CFG"
	expect_eq replay_busy "$RC $(lines "$R/rp-busy.out") $(starts slow1)" "1 0 1"
	expect_match replay_busy_message "$(cat "$R/rp-busy.err")" "still queued or running"
	wait "$BG"
	expect_eq replay_busy_nothing_recorded "$(attempts k-slow1) $(runs slow1) $(starts slow1)" "1:succeeded 1 1"
else
	fail replay_busy "the slow job did not start"
fi

# ------------------------------------------------------------------ bad arguments: exit 2, one line
bad_args() { # NAME ARGS...
	local name=$1
	shift
	cli "bad-$name" "$@"
	expect_eq "bad_args_$name" "$RC $(lines "$R/bad-$name.err") $(lines "$R/bad-$name.out")" "2 1 0"
}
bad_args replay_no_id replay --config "$CFG"
bad_args replay_no_config replay "$ID_OK1"
bad_args replay_store_only replay "$ID_OK1" --store "$DB"
bad_args replay_bad_id replay 12abc --config "$CFG"
bad_args replay_zero_id replay 0 --config "$CFG"
bad_args replay_two_ids replay 1 2 --config "$CFG"
bad_args jobs_nothing jobs
bad_args jobs_unknown_sub jobs frobnicate --store "$DB"
bad_args list_no_store jobs list
bad_args list_both jobs list --store "$DB" --config "$CFG"
bad_args list_limit_zero jobs list --store "$DB" --limit 0
bad_args list_limit_word jobs list --store "$DB" --limit many
bad_args list_limit_huge jobs list --store "$DB" --limit 10001
bad_args list_unknown_opt jobs list --store "$DB" --everything
bad_args list_missing_value jobs list --store
bad_args list_positional jobs list 5 --store "$DB"
bad_args show_no_id jobs show --store "$DB"
bad_args show_failed_flag jobs show "$ID_OK1" --store "$DB" --failed
cli help-jobs jobs --help
expect_eq help_jobs "$RC $(grep -c '^usage: webhook-runner jobs list' "$R/help-jobs.out")" "0 1"
cli nostore jobs list --store "$T_TMP/nothing-here.db"
expect_eq list_missing_store_not_created "$RC $([ -e "$T_TMP/nothing-here.db" ] && echo created || echo absent)" "1 absent"

# ------------------------------------------------------------------ after the daemon stops
runner_stop
list_checks stopped
show_checks stopped
cli rp-stopped replay "$ID_OK2" --config "$CFG"
expect_eq replay_daemon_stopped "$RC $(runs ok2) $(attempts k-ok2)" "0 2 1:succeeded,2:succeeded"
expect_eq store_integrity "$(db 'pragma integrity_check')" ok

# ------------------------------------------------------------------ hygiene
SAN=$(grep -hE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$RUNNER_LOG" "${CLI_ERRS[@]}" 2>/dev/null | head -n 3)
expect_eq sanitizer_clean "${SAN:-clean}" clean
SEEN=""
for f in "$RUNNER_LOG" "${CLI_ERRS[@]}" "$R"/*.out; do
	grep -qF "$(cat "$SECRET")" "$f" && SEEN+="$f "
done
expect_eq no_secret_in_output "${SEEN:-none}" none
info "total_time $(($(now_ms) - T_START)) ms"
