#!/usr/bin/env bash
# tests/e2e/executor_shells.sh — remote-executor --posix-sh against accounts
# whose login shells are bash, dash, zsh, fish and tcsh (and nologin and
# false), on a real sshd. For each shell: hostile values printed exactly by
# printf '%s\n' '<value>' and no injected command run on the target (marker
# files counted there); exit status and a remote signal passed through; an
# empty stdin; the run timeout at the deadline, and the remote sleep gone
# soon after (ended by the runner-style timeout(1) wrapping); a command
# over Linux's per-argument limit refused clearly. Plain mode with the
# runner's sh -c '<quoted>' wrapping DOES run an injected command through
# fish: the matrix can tell. Accounts need root (tests/sshd.sh
# SSHD_SHELL_USERS); without it every case is reported skip.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
. "$TOP/tests/sshd.sh"

SHELLS=(bash:/bin/bash dash:/bin/dash zsh:/usr/bin/zsh fish:/usr/bin/fish tcsh:/usr/bin/tcsh)
SSHD_SHELL_USERS="wrsh-nologin:/usr/sbin/nologin wrsh-false:/bin/false"
for e in "${SHELLS[@]}"; do SSHD_SHELL_USERS+=" wrsh-${e%%:*}:${e#*:}"; done
EX=$BUILD/remote-executor
PEER=$BUILD/tools/tcp_peer
need_bins "$EX" "$PEER"
sshd_start || { fail sshd_start "cannot start sshd (see stderr)"; exit 1; }
. "$TOP/tests/executor.sh"

if [ "$(id -u)" -ne 0 ]; then
	for e in "${SHELLS[@]}" nologin: false:; do skip "login_shell_${e%%:*}" "$SSHD_SHELL_SKIP"; done
	exit 0
fi

# q VALUE : VALUE single-quoted for POSIX sh (the test's own quoting, in bash)
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
ready() { [[ " $SSHD_SHELL_READY " == *" $1 "* ]]; }
# exu TAG USER ARGS... : ex as USER@127.0.0.1 (ARGS before the destination;
# the command comes from $T_TMP/TAG.cmd on descriptor 4)
exu() {
	local tag=$1 user=$2
	shift 2
	ex "$tag" -k "$KNOWN_HOSTS" -i "$KEY_ED25519" -p "$SSHD_PORT" "$@" --command-fd 4 \
		"$user@127.0.0.1" 4<"$T_TMP/$tag.cmd"
}

# The hostile values, by stable label; M is replaced by a marker path per shell.
LABELS=(dollar_paren backtick quote_semicolon backslash_quote_semicolon backslash quote dquote
	bang dollar_home star space percent_s utf8 big_64k)
value_of() { # LABEL MARKER
	local m=$2
	case $1 in
	dollar_paren) printf '%s' "\$(touch $m)" ;;
	backtick) printf '%s' "\`touch $m\`" ;;
	quote_semicolon) printf '%s' "';touch $m;#" ;;
	backslash_quote_semicolon) printf '%s' "\\';touch $m;#" ;;
	backslash) printf '%s' '\' ;;
	quote) printf '%s' "'" ;;
	dquote) printf '%s' '"' ;;
	bang) printf '%s' '!' ;;
	dollar_home) printf '%s' '$HOME' ;;
	star) printf '%s' '*' ;;
	space) printf '%s' 'a b' ;;
	percent_s) printf '%s' '%s' ;;
	utf8) printf '%s' 'héllo wörld — ☃ 日本語 ‘quoted’' ;;
	big_64k)
		# 64 KiB of every kind of trouble, the marker included
		local piece="\\';touch $m;# \$(touch $m) \`touch $m\` \"\$HOME\" * ! %s \\ ' é "
		local v=""
		while [ ${#v} -lt 65536 ]; do v+=$piece; done
		printf '%s' "${v:0:65536}" ;;
	esac
}

i=0
for e in "${SHELLS[@]}"; do
	name=${e%%:*} u=wrsh-${e%%:*} i=$((i + 1))
	if ! ready "$u"; then
		fail "login_shell_$name" "account $u not set up: $SSHD_SHELL_SKIP"
		continue
	fi
	M=$MARK_DIR/inj-$name
	bad=""
	for l in "${LABELS[@]}"; do
		tag=$name-$l
		value_of "$l" "$M" >"$T_TMP/$tag.want"
		echo >>"$T_TMP/$tag.want"
		printf "printf '%%s\\\\n' %s" "$(q "$(value_of "$l" "$M")")" >"$T_TMP/$tag.cmd"
		exu "$tag" "$u" --posix-sh
		if [ "$RC" = 0 ] && cmp -s "$T_TMP/$tag.out" "$T_TMP/$tag.want"; then
			ok "posix_sh_${name}_prints_${l}"
		else
			fail "posix_sh_${name}_prints_${l}" "rc $RC; got $(head -c 120 "$T_TMP/$tag.out" | od -An -c | tr -s ' \n' ' ' | head -c 200); stderr $(head -c 200 "$T_TMP/$tag.err")"
		fi
	done
	no_mark "posix_sh_${name}_no_injection_on_target" "inj-$name"

	echo 'echo before; exit 7' >"$T_TMP/$name-exit.cmd"
	exu "$name-exit" "$u" --posix-sh
	fields "posix_sh_${name}_exit_status" "$name-exit" rc=7 phase=done exit=7 signal=null
	# a signal reaches sshd as a signal: the login shell and /bin/sh exec
	echo 'kill -9 $$' >"$T_TMP/$name-sig.cmd"
	exu "$name-sig" "$u" --posix-sh
	fields "posix_sh_${name}_signal" "$name-sig" rc=255 phase=done exit=null signal=KILL
	echo "exec timeout 5 sh -c 'kill -TERM \$\$'" >"$T_TMP/$name-sigw.cmd"
	exu "$name-sigw" "$u" --posix-sh
	fields "posix_sh_${name}_signal_through_timeout_wrapper" "$name-sigw" rc=255 exit=null signal=TERM

	# stdin: ours has data, the remote command reads none of it, nor the script
	printf 'LEAKED\n' >"$T_TMP/stdin.data"
	echo 'cat; echo eof-seen; wc -c' >"$T_TMP/$name-stdin.cmd"
	timeout -k 5 20 "$EX" --status-fd 3 -k "$KNOWN_HOSTS" -i "$KEY_ED25519" -p "$SSHD_PORT" \
		--posix-sh --command-fd 4 "$u@127.0.0.1" 4<"$T_TMP/$name-stdin.cmd" 3>"$T_TMP/$name-stdin.st" \
		<"$T_TMP/stdin.data" >"$T_TMP/$name-stdin.out" 2>"$T_TMP/$name-stdin.err"
	expect_eq "posix_sh_${name}_stdin_is_empty" "$(tr -s ' ' <"$T_TMP/$name-stdin.out")" "$(printf 'eof-seen\n0')"

	# the run timeout, at the deadline; the remote sleep then ends at the
	# runner-style timeout(1) wrapping (sshd closes the command's streams
	# but signals nothing), and not before the deadline
	S=$(printf '5.0%s%d' "$TOKEN" "$i")
	echo "echo \$\$ >$MARK_DIR/to-$name.pid; exec timeout 2 sleep $S" >"$T_TMP/$name-to.cmd"
	exu "$name-to" "$u" --posix-sh -t 1
	fields "posix_sh_${name}_timeout" "$name-to" rc=255 phase=exec error=timeout exit=null
	within "posix_sh_${name}_timeout_at_deadline" 1000 1300
	if pgrep -u "$u" -f "^sleep $S\$" >/dev/null; then ok "posix_sh_${name}_remote_sleep_ran"; else
		fail "posix_sh_${name}_remote_sleep_ran" "no remote sleep $S at the deadline"; fi
	if wait_until 3 bash -c "! pgrep -u $u -f '^sleep $S\$' >/dev/null"; then
		ok "posix_sh_${name}_remote_sleep_gone"
	else
		fail "posix_sh_${name}_remote_sleep_gone" "sleep $S still runs as $u"
		pkill -9 -u "$u" -f "^sleep $S\$"
	fi

	# over the kernel's 128 KiB for one argument: refused by the target's
	# /bin/sh, clearly, and nothing of it runs
	{ printf 'touch %s/big-%s; : ' "$MARK_DIR" "$name"; head -c 200000 /dev/zero | tr '\0' x; } \
		>"$T_TMP/$name-big.cmd"
	exu "$name-big" "$u" --posix-sh
	fields "posix_sh_${name}_over_arg_max" "$name-big" rc=126 phase=done exit=126
	has_text "posix_sh_${name}_over_arg_max_says_so" "$T_TMP/$name-big.err" "Argument list too long"
	no_mark "posix_sh_${name}_over_arg_max_nothing_ran" "big-$name"
done

# The same attack in plain mode, with the runner's former wrapping
# (exec timeout N sh -c '<quoted>'): fish reads \' inside '...' as an escape
# and runs the injected touch; bash does not. So the matrix above can tell.
plain_wrapped() { # NAME USER VALUE_LABEL
	local tag=plain-$1 m=$MARK_DIR/plain-$1 inner
	inner="printf '%s\\n' $(q "$(value_of "$3" "$m")")"
	printf 'exec timeout 5 sh -c %s' "$(q "$inner")" >"$T_TMP/$tag.cmd"
	exu "$tag" "$2"
}
if ready wrsh-fish && ready wrsh-bash; then
	plain_wrapped fish wrsh-fish backslash_quote_semicolon
	if [ -e "$MARK_DIR/plain-fish" ]; then ok plain_mode_fish_runs_injected_command; else
		fail plain_mode_fish_runs_injected_command "no marker: fish did not run it (rc $RC; $(head -c 200 "$T_TMP/plain-fish.out"))"; fi
	plain_wrapped bash wrsh-bash backslash_quote_semicolon
	no_mark plain_mode_bash_safe plain-bash
	# and that wrapping through --posix-sh, on fish: safe
	cp "$T_TMP/plain-fish.cmd" "$T_TMP/wrapped-fish.cmd"
	sed -i "s|$MARK_DIR/plain-fish|$MARK_DIR/wrapped-fish|g" "$T_TMP/wrapped-fish.cmd"
	exu wrapped-fish wrsh-fish --posix-sh
	fields posix_sh_fish_runner_wrapping wrapped-fish rc=0 exit=0
	expect_eq posix_sh_fish_runner_wrapping_output "$(cat "$T_TMP/wrapped-fish.out")" \
		"$(value_of backslash_quote_semicolon "$MARK_DIR/wrapped-fish")"
	no_mark posix_sh_fish_runner_wrapping_no_injection wrapped-fish
else
	fail plain_mode_fish_runs_injected_command "accounts wrsh-fish/wrsh-bash not set up: $SSHD_SHELL_SKIP"
fi

# nologin: its message and status come back, nothing runs, no hang, even
# with a script far beyond the channel window (1 MiB of quotes: 4 MiB),
# which a side that does not read never opens again
if ready wrsh-nologin; then
	echo "touch $MARK_DIR/nologin" >"$T_TMP/nologin.cmd"
	exu nologin wrsh-nologin --posix-sh
	fields posix_sh_nologin_refused nologin rc=1 phase=done exit=1
	has_text posix_sh_nologin_says_so "$T_TMP/nologin.out" "not available"
	no_mark posix_sh_nologin_nothing_ran nologin
	{ printf 'touch %s/nologin-big #' "$MARK_DIR"; head -c 1048000 /dev/zero | tr '\0' "'"; } \
		>"$T_TMP/nologin-big.cmd"
	exu nologin-big wrsh-nologin --posix-sh -t 15
	fields posix_sh_nologin_big_script nologin-big rc=1 phase=done exit=1
	within posix_sh_nologin_big_script_no_hang 0 10000
	no_mark posix_sh_nologin_big_nothing_ran nologin-big
else
	fail posix_sh_nologin_refused "account wrsh-nologin not set up: $SSHD_SHELL_SKIP"
fi
# /bin/false says nothing at all: the EOF alone must end the write
if ready wrsh-false; then
	cp "$T_TMP/nologin-big.cmd" "$T_TMP/false-big.cmd"
	exu false-big wrsh-false --posix-sh -t 15
	fields posix_sh_false_big_script false-big rc=1 phase=done exit=1 bytes_out=0 bytes_err=0
	within posix_sh_false_big_script_no_hang 0 10000
else
	fail posix_sh_false_big_script "account wrsh-false not set up: $SSHD_SHELL_SKIP"
fi
exit 0
