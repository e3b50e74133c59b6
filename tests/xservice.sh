# tests/xservice.sh — a real `remote-executor serve` for end-to-end tests of
# the runner's executor.socket mode. Source after tests/lib.sh (and
# tests/sshd.sh). Then:
#   xsvc_start DIR NAME KEY KNOWN_HOSTS DEST
#       write DIR/executor.json: one identity NAME (key KEY) allowed for
#       destination DEST, host keys KNOWN_HOSTS, peers of uid XS_UIDS (a
#       comma-separated list; default our own uid), its socket in DIR/sock/;
#       start the service, wait (bounded) for the socket. Sets XS_PID,
#       XS_SOCK, XS_SOCK_DIR, XS_CFG; its log is DIR/service.log. Stopped at
#       exit.
#   xsvc_restart   SIGTERM, wait, write the config again (XS_UIDS and
#                  XS_MAX_JOBS, default 16, as they are now) and start
#   xsvc_stop      SIGTERM and wait (bounded; then SIGKILL)
# XS_SESSIONS, when set, is the pool's max_sessions_per_destination (the
# service's default otherwise).
XS_BIN=${XS_BIN:-$BUILD/remote-executor}

xsvc_config() { # FILE SOCKET NAME KEY KNOWN_HOSTS DEST
	local pool=""
	[ -z "${XS_SESSIONS:-}" ] ||
		pool="\"pool\": { \"max_sessions_per_destination\": $XS_SESSIONS },"
	cat >"$1" <<JSON
{
  "socket": "$2",
  "socket_mode": "0660",
  "allowed_uids": [${XS_UIDS:-$(id -u)}],
  "known_hosts": "$5",
  "max_jobs": ${XS_MAX_JOBS:-16}, $pool
  "identities": {
    "$3": { "key": "$4", "destinations": ["$6"] }
  }
}
JSON
}

xsvc_run() {
	rm -f "$XS_SOCK"
	"$XS_BIN" serve --config "$XS_CFG" >>"$XS_DIR/service.log" 2>&1 &
	XS_PID=$!
	local i
	for i in $(seq 1 100); do
		kill -0 "$XS_PID" 2>/dev/null || return 1
		[ -S "$XS_SOCK" ] && return 0
		sleep 0.05
	done
	return 1
}

xsvc_start() {
	XS_DIR=$1
	mkdir -p "$XS_DIR/sock"
	chmod 755 "$XS_DIR"
	XS_SOCK_DIR=$XS_DIR/sock
	XS_SOCK=$XS_SOCK_DIR/executor.sock
	XS_CFG=$XS_DIR/executor.json
	XS_ARGS=("$2" "$3" "$4" "$5")
	xsvc_config "$XS_CFG" "$XS_SOCK" "${XS_ARGS[@]}"
	at_exit xsvc_stop
	xsvc_run
}

xsvc_stop() {
	[ -n "${XS_PID:-}" ] || return 0
	kill "$XS_PID" 2>/dev/null
	local i
	for i in $(seq 1 100); do
		pid_gone "$XS_PID" && break
		sleep 0.05
	done
	kill -9 "$XS_PID" 2>/dev/null
	wait "$XS_PID" 2>/dev/null
	XS_PID=
}

xsvc_restart() {
	xsvc_stop
	xsvc_config "$XS_CFG" "$XS_SOCK" "${XS_ARGS[@]}"
	xsvc_run
}
