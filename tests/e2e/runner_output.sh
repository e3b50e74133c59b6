#!/usr/bin/env bash
# tests/e2e/runner_output.sh — GET /jobs/<id>/output end to end: a real
# daemon, the real remote-executor (spawn mode) and a real OpenSSH sshd on
# loopback, read with curl and tests/tools/sse_read.py.
#   - a job that prints slowly is followed live: its chunks arrive before
#     its outcome, in order, with byte offsets as ids, then the outcome;
#   - Last-Event-ID resumes with exactly the remaining bytes;
#   - a finished job (after a restart: nothing live) gives tail + outcome;
#   - the same refusals as GET /jobs/<id> (no token, wrong token, a token
#     for another hook), unknown id 404, a bad Last-Event-ID 400, a hook
#     without response_output 403;
#   - the follower cap: 503 + Retry-After;
#   - the output cap: no more bytes than max_output_bytes;
#   - heartbeats while the job is silent;
#   - the same live stream with executor.socket (a real remote-executor serve);
#   - `webhook-runner jobs follow`: lines live, stdout/stderr apart, the job's
#     exit status, a cut connection resumed without repeats (tests/tools/cut_once.py),
#     a finished job's stored tail, unknown id and a refused token as clear
#     errors, https refused.
# Executions are counted on the target (runs/starts, tests/runner.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"
. "$TOP/tests/runner.sh"
. "$TOP/tests/xservice.sh"

EX=$BUILD/remote-executor
need_bins "$RUNNER_BIN" "$EX"
need_tools curl sqlite3
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
R=$T_TMP/r P=$T_TMP/p
mkdir -p "$R" "$P"
at_exit kill_leftovers
SECRET=$T_TMP/hookdeck.secret JWT1=$T_TMP/jwt1 JWT2=$T_TMP/jwt2 READ_TOKEN_FILE=$T_TMP/read.token
for f in "$SECRET" "$JWT1" "$JWT2" "$READ_TOKEN_FILE"; do
	(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f")
done
READ_TOKEN=$(cat "$READ_TOKEN_FILE")
DEST=$SSH_USER@127.0.0.1:$SSHD_PORT
export ISS=ci AUD=webhook-runner SUB=deployer

CMD="n={{name}}; echo start >>$MARK_DIR/\$n.start; case {{action}} in"
CMD+=" slow) for i in 1 2 3; do echo line\$i; sleep 0.3; done; echo oops >&2; echo run >>$MARK_DIR/\$n;;"
CMD+=" quiet) sleep 1; echo done-\$n; echo run >>$MARK_DIR/\$n;;"
CMD+=" big) yes A | head -c 5000; echo run >>$MARK_DIR/\$n;;"
CMD+=" fail) echo bad >&2; echo run >>$MARK_DIR/\$n; exit 7;; esac"
PARAMS='{ "name": { "from": "payload", "path": "name", "pattern": "[a-z0-9-]{1,40}" },
          "action": { "from": "payload", "path": "action", "pattern": "slow|quiet|big|fail" } }'
# hook ID JWTKEY [cap=… out=true] : an async hook whose tokens JWTKEY signs
hook() {
	local id=$1 key=$2 cap=1048576 out=true who="\"identity\": \"$KEY_ED25519\", \"known_hosts\": \"$KNOWN_HOSTS\""
	shift 2
	[ $# -eq 0 ] || local "$@"
	cat <<JSON
    { "id": "$id",
      "signature": { "scheme": "hookdeck", "secrets": ["file:$SECRET"] },
      "jwt": { "algorithms": ["HS256"], "key": "file:$key", "issuer": "ci", "audience": "webhook-runner" },
      "job": { "destination": "$DEST", $who,
               "command": "$CMD", "params": $PARAMS, "mode": "async", "timeout_s": 20,
               "connect_timeout_s": 3, "handshake_timeout_s": 5,
               "max_output_bytes": $cap, "response_output": $out } }
JSON
}
CFG=$T_TMP/cfg.json DB=$T_TMP/runner.db
mkcfg "$CFG" "$(hook live "$JWT1"), $(hook other "$JWT2"), $(hook capped "$JWT1" cap=100),
$(hook quiet "$JWT1" out=false)" threads=16 max_jobs=4 read_token="$READ_TOKEN_FILE" \
	server_extra='"max_followers": 2, "follow_heartbeat_ms": 300'
start_daemon "$CFG" "$T_TMP/runner.log"
BASE=http://127.0.0.1:$RUNNER_PORT
TOK1=$("$PY" "$TOP/tests/tools/jwt_mint.py" HS256 "$JWT1")
TOK2=$("$PY" "$TOP/tests/tools/jwt_mint.py" HS256 "$JWT2")
# job TAG HOOK NAME ACTION : post a delivery (our signer adds the hook's JWT); JOB = its id
job() {
	printf '{"name":"%s","action":"%s"}' "$3" "$4" >"$P/$1.json"
	send "$1" "$2" "$P/$1.json" "key-$1"
	JOB=$(jf "$1" job_id)
	[ "$CODE" = 202 ] || info "job $1: $CODE $(head -c 200 "$R/$1.body")"
}
# follow TAG ID [header...] : read the stream into $R/TAG.sse (one JSON object a line)
follow() {
	local tag=$1 id=$2 h=()
	shift 2
	for x in "$@"; do h+=(--header "$x"); done
	"$PY" "$TOP/tests/tools/sse_read.py" "$BASE/jobs/$id/output" "$R/$tag.sse" --seconds 20 --stamp 1 "${h[@]}"
}
# evq TAG PYEXPR : evaluate PYEXPR over L (the list of objects of TAG's stream)
evq() { "$PY" -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; print(eval(sys.argv[2]))' "$R/$1.sse" "$2"; }
cget() { curl -s --max-time 10 -o "$R/$1.body" -D "$R/$1.hdr" -w '%{http_code}' "${@:2}"; }

# ------------------------------------------------------------------ live
job s1 live s1 slow
S1=$JOB
follow s1 "$S1" "Authorization: Bearer $TOK1"
OUT=$(evq s1 'repr("".join(e["data"] for e in L if e.get("event")=="stdout"))')
ERR=$(evq s1 'repr("".join(e["data"] for e in L if e.get("event")=="stderr"))')
expect_eq output_live_stdout "$OUT" "'line1\\nline2\\nline3\\n'"
expect_eq output_live_stderr "$ERR" "'oops\\n'"
expect_eq output_live_outcome_last "$(evq s1 '[e.get("event") for e in L if "event" in e][-1]')" outcome
expect_eq output_live_outcome_status "$(evq s1 '[json.loads(e["data"])["status"] for e in L if e.get("event")=="outcome"]')" "['succeeded']"
# the first chunk arrived well before the outcome (the job sleeps 0.9 s after it)
LEAD=$(evq s1 '[e["t"] for e in L if e.get("event")=="outcome"][0] - [e["t"] for e in L if e.get("event")=="stdout"][0]')
info "first chunk ${LEAD} ms before the outcome"
check output_live_before_end [ "$LEAD" -ge 400 ]
expect_eq output_live_ids "$(evq s1 '[e["id"] for e in L if e.get("event") in ("stdout","stderr")]')" "['6', '12', '18', '23']"
check output_live_ran_once [ "$(runs s1)" = 1 ]

# ------------------------------------------------------------------ resume
follow s1r "$S1" "Authorization: Bearer $TOK1" "Last-Event-ID: 8"
expect_eq output_resume_rest "$(evq s1r '"|".join(e["event"]+":"+e["data"].strip() for e in L if e.get("event") in ("stdout","stderr"))')" \
	"stdout:ne2|stdout:line3|stderr:oops"
follow s1e "$S1" "Authorization: Bearer $TOK1" "Last-Event-ID: 23"
expect_eq output_resume_at_end "$(evq s1e '[e.get("event") for e in L if "event" in e]')" "['outcome']"

# ------------------------------------------------------------------ refusals (as GET /jobs/<id>)
for t in none wrong other; do
	case $t in none) a=() ;; wrong) a=(-H "Authorization: Bearer wrong-$(rand_hex 8)") ;; other) a=(-H "Authorization: Bearer $TOK2") ;; esac
	expect_eq "output_auth_$t" "$(cget "o_$t" "${a[@]}" "$BASE/jobs/$S1/output") $(cget "j_$t" "${a[@]}" "$BASE/jobs/$S1")" \
		"$([ $t = none ] && echo 401 401 || echo 403 403)"
done
expect_eq output_read_token_ok "$(cget o_read -H "Authorization: Bearer $READ_TOKEN" "$BASE/jobs/$S1/output")" 200
expect_eq output_unknown_404 "$(cget o_unk -H "Authorization: Bearer $READ_TOKEN" "$BASE/jobs/999999/output")" 404
expect_eq output_bad_last_event_id_400 "$(cget o_lei -H "Authorization: Bearer $TOK1" -H "Last-Event-ID: 1x" "$BASE/jobs/$S1/output")" 400
expect_eq output_past_end_400 "$(cget o_past -H "Authorization: Bearer $TOK1" -H "Last-Event-ID: 24" "$BASE/jobs/$S1/output")" 400
expect_eq output_method_405 "$(cget o_post -X POST -H "Authorization: Bearer $TOK1" "$BASE/jobs/$S1/output")" 405
job q1 quiet q1 fail
expect_eq output_no_response_output_403 "$(cget o_q -H "Authorization: Bearer $READ_TOKEN" "$BASE/jobs/$JOB/output")" 403

# ------------------------------------------------------------------ jobs follow (the CLI client)
printf '%s\n' "$TOK1" >"$T_TMP/tok1"
printf 'wrong-%s\n' "$(rand_hex 8)" >"$T_TMP/tokbad"
# wfollow TAG ID TOKENFILE [URL] : run `jobs follow`; stdout lines stamped (ms) in
# $R/TAG.out, stderr in $R/TAG.err, "rc end_ms" in $R/TAG.rc
wfollow() {
	{ "$RUNNER_BIN" jobs follow "$2" --token "file:$3" --url "${4:-$BASE}" 2>"$R/$1.err"
	  echo "$? $(date +%s%3N)" >"$R/$1.rc"; } |
		while IFS= read -r l; do echo "$(date +%s%3N) $l"; done >"$R/$1.out"
}
job fl1 live fl1 slow
wfollow fl1 "$JOB" "$T_TMP/tok1"
expect_eq follow_cli_stdout "$(cut -d' ' -f2- "$R/fl1.out" | tr '\n' '|')" "line1|line2|line3|"
expect_eq follow_cli_stderr "$(cat "$R/fl1.err")" "oops"
expect_eq follow_cli_exit_0 "$(cut -d' ' -f1 "$R/fl1.rc")" 0
LEAD=$(( $(cut -d' ' -f2 "$R/fl1.rc") - $(head -n1 "$R/fl1.out" | cut -d' ' -f1) ))
info "jobs follow: first line ${LEAD} ms before the client ended"
check follow_cli_live [ "$LEAD" -ge 400 ]
job fl2 live fl2 fail
wfollow fl2 "$JOB" "$T_TMP/tok1"
expect_eq follow_cli_exit_status "$(cut -d' ' -f1 "$R/fl2.rc") $(wc -c <"$R/fl2.out") $(head -n1 "$R/fl2.err")" "7 0 bad"
check follow_cli_exit_summary grep -q "job $JOB failed (exit 7); exit status 7" "$R/fl2.err"
check follow_cli_ran_once [ "$(runs fl1) $(runs fl2)" = "1 1" ]
wfollow fl404 999999 "$READ_TOKEN_FILE"
expect_eq follow_cli_unknown "$(cut -d' ' -f1 "$R/fl404.rc") $(cat "$R/fl404.err")" \
	"1 webhook-runner jobs follow: $BASE: HTTP 404: no such job"
wfollow flbad "$S1" "$T_TMP/tokbad"
expect_eq follow_cli_bad_token "$(cut -d' ' -f1 "$R/flbad.rc") $(cat "$R/flbad.err")" \
	"1 webhook-runner jobs follow: $BASE: HTTP 403: not authorized"
HT=$("$RUNNER_BIN" jobs follow 1 --token "file:$T_TMP/tok1" --url https://127.0.0.1:1 2>&1)
expect_eq follow_cli_https_refused "$? ${HT:0:50}" "2 webhook-runner jobs follow: https is not supported"
# a connection cut after the first chunk: the client resumes from its offset, no repeats
"$PY" "$TOP/tests/tools/cut_once.py" "$RUNNER_PORT" "$T_TMP/cut.port" "$R/cut.log" --after line1 --seconds 15 &
BG_PIDS+=("$!")
CUTPID=$!
wait_until 5 test -s "$T_TMP/cut.port"
job fl3 live fl3 slow
wfollow fl3 "$JOB" "$T_TMP/tok1" "http://127.0.0.1:$(cat "$T_TMP/cut.port")"
kill "$CUTPID" 2>/dev/null
expect_eq follow_cli_resume_no_repeat "$(cut -d' ' -f2- "$R/fl3.out" | tr '\n' '|') $(grep -c oops "$R/fl3.err") $(cut -d' ' -f1 "$R/fl3.rc")" \
	"line1|line2|line3| 1 0"
expect_eq follow_cli_resume_offset "$("$PY" -c 'import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]; print(len(L), ["Last-Event-ID: 6" in h for h in L])' "$R/cut.log")" \
	"2 [False, True]"
check follow_cli_resume_said grep -q "reconnecting in 2000 ms from offset 6" "$R/fl3.err"

# ------------------------------------------------------------------ output cap
job c1 capped c1 big
follow c1 "$JOB" "Authorization: Bearer $TOK1"
expect_eq output_cap "$(evq c1 'sum(len(e["data"]) for e in L if e.get("event")=="stdout")') $(evq c1 '[e["id"] for e in L if e.get("event")=="stdout"][-1]')" "100 100"

# ------------------------------------------------------------------ heartbeats, follower cap
job h1 live h1 quiet
H1=$JOB
follow h1 "$H1" "Authorization: Bearer $TOK1" &
F1=$!
follow h2 "$H1" "Authorization: Bearer $TOK1" &
F2=$!
BG_PIDS+=("$F1" "$F2")
wait_until 5 grep -q '"retry"' "$R/h1.sse" 2>/dev/null
wait_until 5 grep -q '"retry"' "$R/h2.sse" 2>/dev/null
CAP=$(cget o_cap -H "Authorization: Bearer $TOK1" "$BASE/jobs/$H1/output")
expect_eq output_follower_cap_503 "$CAP $(header o_cap Retry-After)" "503 5"
wait "$F1" "$F2"
expect_eq output_heartbeats "$(evq h1 'sum(1 for e in L if e.get("comment")=="heartbeat") >= 1') $(evq h1 '"".join(e["data"] for e in L if e.get("event")=="stdout")')" \
	"True done-h1"

# ------------------------------------------------------------------ finished, nothing live: tail + outcome
job f1 live f1 fail
F1J=$JOB
follow f1 "$F1J" "Authorization: Bearer $TOK1"
runner_stop
start_daemon "$CFG" "$T_TMP/runner2.log"
BASE=http://127.0.0.1:$RUNNER_PORT
follow f1s "$F1J" "Authorization: Bearer $TOK1"
expect_eq output_finished_tail_outcome "$(evq f1s '[(e["event"], e["data"].strip() if e["event"]=="tail" else json.loads(e["data"])["exit_code"]) for e in L if "event" in e]')" \
	"[('tail', 'bad'), ('outcome', 7)]"
check output_finished_ran_once [ "$(runs f1)" = 1 ]
wfollow flt "$F1J" "$T_TMP/tok1"
expect_eq follow_cli_finished_tail "$(cut -d' ' -f2- "$R/flt.out") $(cut -d' ' -f1 "$R/flt.rc")" "bad 7"

# ------------------------------------------------------------------ executor.socket
runner_stop
xsvc_start "$T_TMP/xs" deploy "$KEY_ED25519" "$KNOWN_HOSTS" "$DEST" ||
	{ fail xsvc_start "remote-executor serve did not start"; exit 1; }
CFG=$T_TMP/cfg_x.json DB=$T_TMP/runner_x.db
mkcfg "$CFG" "$(hook live "$JWT1" who='"identity_name": "deploy"')" threads=16 max_jobs=4 \
	read_token="$READ_TOKEN_FILE" socket="$XS_SOCK" server_extra='"max_followers": 2'
start_daemon "$CFG" "$T_TMP/runner_x.log"
BASE=http://127.0.0.1:$RUNNER_PORT
job x1 live x1 slow
follow x1 "$JOB" "Authorization: Bearer $TOK1"
expect_eq output_xservice_streams "$(evq x1 '"|".join(e["event"]+":"+e["data"].strip() for e in L if e.get("event") in ("stdout","stderr"))')" \
	"stdout:line1|stdout:line2|stdout:line3|stderr:oops"
LEAD=$(evq x1 '[e["t"] for e in L if e.get("event")=="outcome"][0] - [e["t"] for e in L if e.get("event")=="stdout"][0]')
info "executor.socket: first chunk ${LEAD} ms before the outcome"
check output_xservice_before_end [ "$LEAD" -ge 400 ]
expect_eq output_xservice_outcome "$(evq x1 '[json.loads(e["data"])["status"] for e in L if e.get("event")=="outcome"]')" "['succeeded']"
check output_xservice_ran_once [ "$(runs x1)" = 1 ]
