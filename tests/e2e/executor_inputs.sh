#!/usr/bin/env bash
# tests/e2e/executor_inputs.sh — what remote-executor reads before it
# connects, and what /proc shows of it: the command from --command-fd and the
# passphrase from --passphrase-fd or --passphrase-env (right and wrong
# passphrase, from pipes, files and stdin), the bad inputs (exit 2, one clear
# line, nothing run: counted on the target by marker files and by sshd's own
# connection log), and a stalled executor running as the unprivileged test
# user (setpriv), hanging in the handshake with tcp_peer: no command or
# passphrase in its cmdline or environ, a core limit of 0, and its /proc
# files owned by root (not dumpable). Controls show each /proc check can see
# what it looks for.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"

EX=$BUILD/remote-executor
PEER=$BUILD/tools/tcp_peer
need_bins "$EX" "$PEER"
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
. "$TOP/tests/executor.sh"

PS=(-k "$KNOWN_HOSTS" -i "$KEY_PASS" -p "$SSHD_PORT")
connections() { grep -c 'Connection from 127.0.0.1' "$SSHD_DIR/sshd.log"; }

# ------------------------------------------------------------ good inputs
printf 'echo "from fd: $((6 * 7))"; printf "%%s\\n" '\''a b'\''; exit 5' >"$T_TMP/cmd.sh"
ex cmdfd "${STD[@]}" --command-fd 4 "$DEST" 4<"$T_TMP/cmd.sh"
fields command_fd_runs cmdfd rc=5 phase=done exit=5
expect_eq command_fd_output "$(cat "$T_TMP/cmdfd.out")" "$(printf 'from fd: 42\na b')"
ex cmdfdpipe "${STD[@]}" --command-fd 4 "$DEST" 4< <(printf 'echo piped')
fields command_fd_pipe cmdfdpipe rc=0 exit=0
expect_eq command_fd_pipe_output "$(cat "$T_TMP/cmdfdpipe.out")" piped
# descriptor 0 as the source; the remote command's stdin is still empty
timeout -k 5 20 "$EX" --status-fd 3 "${STD[@]}" --command-fd 0 "$DEST" \
	<<<'cat; echo stdin-empty' 3>"$T_TMP/cmd0.st" >"$T_TMP/cmd0.out" 2>"$T_TMP/cmd0.err"
RC=$?
fields command_fd_stdin cmd0 rc=0 exit=0
expect_eq command_fd_stdin_output "$(cat "$T_TMP/cmd0.out")" stdin-empty

ex passfd "${PS[@]}" --passphrase-fd 5 "$DEST" -- 'echo pass-fd-ok' 5< <(printf '%s\n' "$PASSPHRASE")
fields passphrase_fd_right passfd rc=0 phase=done
expect_eq passphrase_fd_right_output "$(cat "$T_TMP/passfd.out")" pass-fd-ok
printf '%s' "$PASSPHRASE" >"$T_TMP/pass.nonl"
ex passfd2 "${PS[@]}" --passphrase-fd 5 --command-fd 4 "$DEST" 5<"$T_TMP/pass.nonl" 4<"$T_TMP/cmd.sh"
fields passphrase_fd_no_newline_and_command_fd passfd2 rc=5 exit=5
ex passfdbad "${PS[@]}" --passphrase-fd 5 "$DEST" -- "touch $MARK_DIR/passfdbad" \
	5< <(printf '%s\n' "not the $PASSPHRASE")
fields passphrase_fd_wrong passfdbad rc=255 phase=auth error=identity
has_text passphrase_fd_wrong_says_so "$T_TMP/passfdbad.err" "wrong passphrase"
no_mark passphrase_fd_wrong_nothing_ran passfdbad
leaks=""
for f in passfd passfd2 passfdbad; do
	grep -qF "$PASSPHRASE" "$T_TMP/$f.err" "$T_TMP/$f.st" "$T_TMP/$f.out" && leaks+="$f "
done
expect_eq passphrase_fd_not_in_output "$leaks" ""

# ------------------------------------------------------------ bad inputs
# bad_input NAME EXTRA_REDIRECTION... : exit 2, one stderr line, nothing on
# stdout, no status line, no marker, no connection to sshd
bad_input() {
	local name=$1 n before
	shift
	before=$(connections)
	eval "timeout -k 5 20 \"\$EX\" --status-fd 3 $*" 3>"$T_TMP/bad.st" >"$T_TMP/bad.out" \
		2>"$T_TMP/bad.err" </dev/null
	RC=$?
	n=$(wc -l <"$T_TMP/bad.err")
	sleep 0.1
	if [ "$RC" = 2 ] && [ "$n" = 1 ] && [ ! -s "$T_TMP/bad.out" ] && [ ! -s "$T_TMP/bad.st" ] &&
		[ ! -e "$MARK_DIR/bad-$name" ] && [ "$(connections)" = "$before" ]; then
		info "bad_input_$name: $(head -c 120 "$T_TMP/bad.err")"
		ok "bad_input_$name"
	else
		fail "bad_input_$name" "rc $RC, $n stderr lines ($(head -c 300 "$T_TMP/bad.err" | tr '\n' '|')), connections $before -> $(connections), marker $(ls "$MARK_DIR/bad-$name" 2>&1)"
	fi
}
# control: a good run shows up in the count bad_input relies on
C0=$(connections)
ex conncount "${STD[@]}" "$DEST" -- true
sleep 0.1
expect_eq connection_count_control "$(($(connections) - C0))" 1
A='"${STD[@]}"'
P='"${PS[@]}"'
: >"$T_TMP/empty"
printf 'touch %s/bad-nul\0; touch %s/bad-nul' "$MARK_DIR" "$MARK_DIR" >"$T_TMP/nul.cmd"
{ printf 'touch %s/bad-long; : ' "$MARK_DIR"; head -c 1048576 /dev/zero | tr '\0' x; } >"$T_TMP/long.cmd"
MAXP=$(printf 'touch %s/bad-max; : ' "$MARK_DIR")
{ printf '%s' "$MAXP"; head -c $((1048576 - ${#MAXP})) /dev/zero | tr '\0' x; } >"$T_TMP/max.cmd"
printf 'touch %s/bad-bothcmd' "$MARK_DIR" >"$T_TMP/both.cmd"
bad_input command_fd_empty "$A --command-fd 4 \"\$DEST\" 4<\"\$T_TMP/empty\""
bad_input command_fd_nul "$A --command-fd 4 \"\$DEST\" 4<\"\$T_TMP/nul.cmd\""
bad_input command_fd_too_long "$A --command-fd 4 \"\$DEST\" 4<\"\$T_TMP/long.cmd\""
bad_input command_fd_not_open "$A --command-fd 9 \"\$DEST\""
bad_input parent_pid_not_a_pid "$A --exit-with-parent --parent-pid x1 \"\$DEST\" -- touch $MARK_DIR/bad-parent_pid_not_a_pid"
bad_input parent_pid_zero "$A --exit-with-parent --parent-pid 0 \"\$DEST\" -- touch $MARK_DIR/bad-parent_pid_zero"

# --exit-with-parent --parent-pid: run only while the parent is that pid
# (webhook-runner passes its own, so that as a container's pid 1 it can run
# jobs). Started straight from this shell, so the parent is $$.
# par TAG PPID : the executor in the background, reaped within 20 s; sets RC
par() {
	local p
	"$EX" --status-fd 3 "${STD[@]}" --exit-with-parent --parent-pid "$2" "$DEST" -- \
		"touch $MARK_DIR/par-$1" 3>"$T_TMP/$1.st" >"$T_TMP/$1.out" 2>"$T_TMP/$1.err" </dev/null &
	p=$!
	wait_until 20 pid_gone "$p" || kill -9 "$p"
	wait "$p"
	RC=$?
}
par ppid_right $$
fields parent_pid_right_runs ppid_right rc=0 exit=0
check parent_pid_right_ran test -e "$MARK_DIR/par-ppid_right"
C0=$(connections)
par ppid_wrong 1
expect_eq parent_pid_wrong_refused "$RC $(head -c 200 "$T_TMP/ppid_wrong.err")" \
	"255 remote-executor: the calling process is gone"
check parent_pid_wrong_ran_nothing test ! -e "$MARK_DIR/par-ppid_wrong"
sleep 0.1
expect_eq parent_pid_wrong_no_connection "$(connections)" "$C0"
bad_input command_fd_word "$A --command-fd four \"\$DEST\""
bad_input command_fd_stdout "$A --command-fd 1 \"\$DEST\""
bad_input command_fd_and_words "$A --command-fd 4 \"\$DEST\" -- touch \"\$MARK_DIR/bad-bothwords\" 4<\"\$T_TMP/both.cmd\""
bad_input command_fd_and_dashdash "$A --command-fd 4 \"\$DEST\" -- 4<\"\$T_TMP/both.cmd\""
bad_input command_fd_is_status_fd "$A --command-fd 3 \"\$DEST\""
bad_input neither_command "$A \"\$DEST\""
bad_input passphrase_fd_empty "$P --passphrase-fd 5 \"\$DEST\" -- touch \"\$MARK_DIR/bad-pempty\" 5<\"\$T_TMP/empty\""
bad_input passphrase_fd_newline_only "$P --passphrase-fd 5 \"\$DEST\" -- touch \"\$MARK_DIR/bad-pnl\" 5< <(echo)"
bad_input passphrase_fd_nul "$P --passphrase-fd 5 \"\$DEST\" -- touch \"\$MARK_DIR/bad-pnul\" 5< <(printf 'correct\0horse')"
bad_input passphrase_fd_too_long "$P --passphrase-fd 5 \"\$DEST\" -- touch \"\$MARK_DIR/bad-plong\" 5< <(head -c 1025 /dev/zero | tr '\0' p)"
bad_input passphrase_fd_not_open "$P --passphrase-fd 9 \"\$DEST\" -- touch \"\$MARK_DIR/bad-pclosed\""
bad_input passphrase_fd_same_as_command_fd "$P --passphrase-fd 4 --command-fd 4 \"\$DEST\" 4<\"\$T_TMP/both.cmd\""
bad_input passphrase_fd_and_env "$P --passphrase-fd 5 --passphrase-env X \"\$DEST\" -- touch \"\$MARK_DIR/bad-pboth\" 5<\"\$T_TMP/pass.nonl\""
no_mark bad_input_nothing_ran_bothwords bad-bothwords
no_mark bad_input_nothing_ran_bothcmd bad-bothcmd
# the limit is the limit: exactly 1 MiB is read and sent (the target then
# refuses an argument that long, which is its business)
ex maxcmd "${STD[@]}" --posix-sh --command-fd 4 "$DEST" 4<"$T_TMP/max.cmd"
expect_eq command_fd_exactly_1mib_accepted "$(wc -c <"$T_TMP/max.cmd") $RC $(st maxcmd phase)" "1048576 126 done"
no_mark command_fd_exactly_1mib_nothing_ran bad-max

# ------------------------------------------------------------ /proc of a stalled executor
if [ "$(id -u)" -ne 0 ]; then
	skip proc_checks "not root: cannot run the executor as another user and read its /proc"
	exit 0
fi
if ! start_peer silent; then
	fail proc_checks "tcp_peer silent did not start"
	exit 0
fi
TU=$(id -u "$SSH_USER") TG=$(id -g "$SSH_USER")
MARK_CMD="cmdmark$TOKEN"
printf 'echo %s' "$MARK_CMD" >"$T_TMP/marked.cmd"
chmod 644 "$T_TMP/marked.cmd"
peer_accepts() { [ "$(grep -c accepted "$PEER_ERR")" -gt "$1" ]; }
# stalled TAG ARGS... : the executor as $SSH_USER in the background against
# the silent peer; P is its pid once it hangs in the handshake
stalled() {
	local tag=$1 n
	shift
	n=$(grep -c accepted "$PEER_ERR")
	BG_T0=$(now_ms)
	timeout -k 5 40 setpriv --reuid="$TU" --regid="$TG" --clear-groups -- \
		"$EX" --status-fd 3 --handshake-timeout 30 -k "$KNOWN_HOSTS" -i "$KEY_PASS" \
		-p "$PEER_PORT" "$@" 3>"$T_TMP/$tag.st" >"$T_TMP/$tag.out" 2>"$T_TMP/$tag.err" </dev/null &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
	P=$(bg_exec_pid) && wait_until 5 peer_accepts "$n"
}
proc_has() { tr '\0' '\n' <"/proc/$P/$1" | grep -qF -- "$2"; }
# proc_checks PREFIX : the /proc checks on $P
proc_checks() {
	local pre=$1
	if proc_has cmdline "$MARK_CMD" || proc_has cmdline "$PASSPHRASE"; then
		fail "${pre}_cmdline_clean" "$(tr '\0' ' ' <"/proc/$P/cmdline")"
	else ok "${pre}_cmdline_clean"; fi
	if proc_has environ "$PASSPHRASE"; then fail "${pre}_environ_clean" "passphrase in /proc/$P/environ"
	else ok "${pre}_environ_clean"; fi
	expect_match "${pre}_no_core" "$(grep 'Max core file size' "/proc/$P/limits")" \
		'^Max core file size +0 +0 +bytes'
	expect_eq "${pre}_runs_as_test_user" "$(awk '/^Uid:/ {print $2}' "/proc/$P/status")" "$TU"
	expect_eq "${pre}_not_dumpable" "$(stat -c %U "/proc/$P/environ")" root
	# the input descriptors (a file and a pipe) were closed after reading;
	# the numbers may be reused (the socket), the files may not be held
	local links
	links=$(for f in /proc/"$P"/fd/*; do readlink "$f"; done)
	if grep -qF -e "$T_TMP/marked.cmd" -e pipe: <<<"$links"; then
		fail "${pre}_inputs_closed" "$(tr '\n' '|' <<<"$links")"
	else ok "${pre}_inputs_closed"; fi
}
stop_stalled() { # NAME TAG
	kill -TERM "$P" 2>/dev/null
	bg_wait
	fields "$1" "$2" rc=255 phase=handshake error=terminated
}

if stalled fdrun --posix-sh --command-fd 4 --passphrase-fd 5 "$SSH_USER@127.0.0.1" \
	4<"$T_TMP/marked.cmd" 5< <(printf '%s\n' "$PASSPHRASE"); then
	proc_checks proc_fd_inputs
	stop_stalled proc_fd_inputs_stopped fdrun
else
	fail proc_fd_inputs "the executor did not hang in the handshake ($(head -c 300 "$T_TMP/fdrun.err"))"
	kill "$BG_PID" 2>/dev/null
fi
export WR_PROC_PASS=$PASSPHRASE
if stalled envrun --passphrase-env WR_PROC_PASS "$SSH_USER@127.0.0.1" -- "echo $MARK_CMD-env"; then
	# wiped at start, before any network work (we are in the handshake)
	if proc_has environ "$PASSPHRASE"; then fail proc_env_wiped_at_start "passphrase in /proc/$P/environ"
	else ok proc_env_wiped_at_start; fi
	# the variable was there (its name still is): the check looked at the right place
	if proc_has environ "WR_PROC_PASS="; then ok proc_env_variable_was_there; else
		fail proc_env_variable_was_there "no WR_PROC_PASS= in /proc/$P/environ"; fi
	expect_match proc_env_no_core "$(grep 'Max core file size' "/proc/$P/limits")" '^Max core file size +0 +0 +bytes'
	expect_eq proc_env_not_dumpable "$(stat -c %U "/proc/$P/environ")" root
	# control: the command given after -- IS in cmdline, where the check looks
	if proc_has cmdline "$MARK_CMD-env"; then ok proc_control_argv_command_visible; else
		fail proc_control_argv_command_visible "$(tr '\0' ' ' <"/proc/$P/cmdline")"; fi
	stop_stalled proc_env_stopped envrun
else
	fail proc_env_wiped_at_start "the executor did not hang in the handshake ($(head -c 300 "$T_TMP/envrun.err"))"
	kill "$BG_PID" 2>/dev/null
fi
unset WR_PROC_PASS
# control: an ordinary program started the same way (timeout, setpriv) has
# /proc files of its user and the environment it was given
WR_PROC_CTL=$PASSPHRASE timeout 20 setpriv --reuid="$TU" --regid="$TG" --clear-groups -- sleep 10 &
BG_PID=$!
BG_PIDS+=("$BG_PID")
if CTL=$(bg_exec_pid) && wait_until 5 bash -c "[ \"\$(awk '/^Uid:/ {print \$2}' /proc/$CTL/status)\" = $TU ]"; then
	expect_eq proc_control_dumpable_owner "$(stat -c %U "/proc/$CTL/environ")" "$SSH_USER"
	if tr '\0' '\n' <"/proc/$CTL/environ" | grep -qF "$PASSPHRASE"; then ok proc_control_environ_visible; else
		fail proc_control_environ_visible "the control's environ did not show its variable"; fi
	kill "$CTL" 2>/dev/null
else
	fail proc_control_dumpable_owner "the control process did not start"
fi
wait "$BG_PID" 2>/dev/null
stop_peer
exit 0
