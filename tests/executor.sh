# tests/executor.sh — helpers for the remote-executor e2e scripts
# (tests/e2e/executor*.sh). Source after tests/lib.sh and tests/sshd.sh and
# after sshd_start: sets EX PEER STD DEST BG_PIDS TOKEN and defines
#   ex TAG ARGS... / exbg TAG ARGS...  run the executor (status on fd 3)
#   st TAG KEY / fields NAME TAG K=V... the status line, checked
#   within NAME LO HI / has_text / no_mark / long_cmd / start_peer / stop_peer
# Remote commands that may outlive their session record their pid and are
# killed at exit (see long_cmd), as are background children.
EX=$BUILD/remote-executor
PEER=$BUILD/tools/tcp_peer
STD=(-k "$KNOWN_HOSTS" -i "$KEY_ED25519" -p "$SSHD_PORT")
DEST=$SSH_USER@127.0.0.1
BG_PIDS=()

# Remote processes that may outlive their session write "$$" into
# $MARK_DIR/<tag>.pid and then exec "sleep N.0<TOKEN>", a command line
# unique to this run; at exit they are killed by pid, and only if that pid
# still runs exactly that command (pids are reused quickly on a busy host,
# and other suites run commands as the same user). Background children are
# killed only while they are still our children.
TOKEN=$(printf '%05d%05d' "$$" "$RANDOM")
child_of_us() { [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2)" = "$$" ]; }
kill_remote_leftovers() {
	local f p
	for f in "$MARK_DIR"/*.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		[ -n "$p" ] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "^sleep [0-9]*\.0$TOKEN $" &&
			kill -9 "$p"
	done
	for p in "${BG_PIDS[@]}"; do child_of_us "$p" && kill -9 "$p"; done
}
at_exit kill_remote_leftovers
# a remote command that announces its pid, then sleeps
long_cmd() { echo "echo \$\$ >$MARK_DIR/$1.pid; exec sleep $2.0$TOKEN"; }

# ex TAG ARGS... : run the executor (status on fd 3) with stdin from
# /dev/null; sets RC and ELAPSED (ms); output in $T_TMP/TAG.{out,err,st}.
ex() {
	local tag=$1 t0
	shift
	t0=$(now_ms)
	timeout -k 5 20 "$EX" --status-fd 3 "$@" 3>"$T_TMP/$tag.st" >"$T_TMP/$tag.out" \
		2>"$T_TMP/$tag.err" </dev/null
	RC=$?
	ELAPSED=$(($(now_ms) - t0))
}
# exbg TAG ARGS... : the same in the background; BG_PID is timeout(1)'s pid.
exbg() {
	local tag=$1
	shift
	BG_T0=$(now_ms)
	timeout -k 5 40 "$EX" --status-fd 3 "$@" 3>"$T_TMP/$tag.st" >"$T_TMP/$tag.out" \
		2>"$T_TMP/$tag.err" </dev/null &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}
# bg_exec_pid : the executor under BG_PID (waits up to 5 s for it)
bg_exec_pid() {
	local i p
	for i in $(seq 1 100); do
		p=$(pgrep -P "$BG_PID" 2>/dev/null | head -n 1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.05
	done
	return 1
}
# bg_fail NAME TAG : the background run did not get going; reap it and say why
bg_fail() {
	kill -TERM "$(pgrep -P "$BG_PID" | head -n 1)" 2>/dev/null
	bg_wait
	fail "$1" "the remote command did not start (rc $RC; stderr: $(head -c 300 "$T_TMP/$2.err" 2>/dev/null | tr '\n' '|'); status: $(head -c 300 "$T_TMP/$2.st" 2>/dev/null))"
}
bg_wait() {
	wait "$BG_PID"
	RC=$?
	ELAPSED=$(($(now_ms) - BG_T0))
}
# wait_file FILE [SECONDS] : poll until FILE exists and is non-empty
wait_file() {
	local i n=$((${2:-10} * 20))
	for ((i = 0; i < n; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# st TAG KEY : a field of the status line (dotted for nested: ms.total);
# the line is parsed by python3, independently of our C code. Also
# __lines (line count) and __json (1 when it is one valid JSON object).
st() {
	local f=$T_TMP/$1.st
	[ -f "$f.kv" ] || "$PY" "$TOP/tests/tools/status_flatten.py" "$f" >"$f.kv"
	sed -n "s/^$2=//p" "$f.kv" | head -n 1
}
# fields NAME TAG KEY=VALUE... : one ok/FAIL for all of them; "rc" is the
# exit status, everything else a status-line key. Also requires the status
# to be exactly one valid JSON line.
fields() {
	local name=$1 tag=$2 kv k v got bad=""
	shift 2
	for kv in __lines=1 __json=1 "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		if [ "$k" = rc ]; then got=$RC; else got=$(st "$tag" "$k"); fi
		[ "$got" == "$v" ] || bad+="$k=$got (want $v); "
	done
	if [ -z "$bad" ]; then
		ok "$name"
	else
		fail "$name" "$bad stderr: $(head -c 400 "$T_TMP/$tag.err" 2>/dev/null | tr '\n' '|') status: $(head -c 400 "$T_TMP/$tag.st")"
	fi
}
# within NAME MS_LO MS_HI : ELAPSED in [LO, HI]
within() {
	info "$1: ${ELAPSED} ms"
	if [ "$ELAPSED" -ge "$2" ] && [ "$ELAPSED" -le "$3" ]; then
		ok "$1"
	else
		fail "$1" "took ${ELAPSED} ms, want ${2}..${3} ms"
	fi
}
# has_text NAME FILE TEXT : FILE contains TEXT literally
has_text() {
	if grep -qF -- "$3" "$2"; then ok "$1"; else fail "$1" "'$3' not in: $(head -c 300 "$2" | tr '\n' '|')"; fi
}
fp_of() { ssh-keygen -lf "$1" | awk '{print $2}'; }
no_mark() { if [ -e "$MARK_DIR/$2" ]; then fail "$1" "the remote command ran ($2 exists)"; else ok "$1"; fi; }
# kh_line PUBFILE [PATTERN] : a known_hosts line for the test sshd
kh_line() { echo "${2:-[127.0.0.1]:$SSHD_PORT} $(cut -d' ' -f1,2 "$1")"; }
# start_peer MODE : tcp_peer in the background, its stdin a fifo we hold
# open; sets PEER_PID, PEER_PORT, PEER_ERR. stop_peer closes the fifo (the
# peer exits) and reaps it.
start_peer() {
	local out=$T_TMP/peer.$1
	mkfifo "$out.in"
	"$PEER" "$1" <"$out.in" >"$out" 2>"$out.err" &
	PEER_PID=$!
	BG_PIDS+=("$PEER_PID")
	exec {PEER_IN}>"$out.in"
	PEER_ERR=$out.err
	wait_file "$out" 5 || return 1
	PEER_PORT=$(head -n 1 "$out")
}
stop_peer() {
	exec {PEER_IN}>&-
	kill "$PEER_PID" 2>/dev/null
	wait "$PEER_PID" 2>/dev/null
}
