# tests/redis.sh — a throwaway redis-server for a test script: loopback, a
# free port, a data directory under $T_TMP, no persistence (--save ''
# --appendonly no), stopped at exit. Sourced after tests/lib.sh.
#   redis_start            start it; sets REDIS_PORT, REDIS_PID, REDIS_URL
#   redis_stop             kill it (the port is kept for redis_start again)
#   redis_cli ARGS...      redis-cli against it
REDIS_PID=
REDIS_PORT=
REDIS_DIR=$T_TMP/redis
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" PING 2>/dev/null | grep -q PONG; }
redis_start() {
	local try i port
	need_tools redis-server redis-cli
	mkdir -p "$REDIS_DIR"
	for try in 1 2 3 4 5 6; do
		port=${REDIS_PORT:-$((20000 + (RANDOM * 7 + try * 1031) % 40000))}
		redis-server --bind 127.0.0.1 --port "$port" --dir "$REDIS_DIR" --save '' \
			--appendonly no --daemonize no --protected-mode yes \
			>>"$REDIS_DIR/redis.log" 2>&1 &
		REDIS_PID=$!
		REDIS_PORT=$port
		for i in $(seq 1 100); do
			kill -0 "$REDIS_PID" 2>/dev/null || break
			if redis_up; then
				REDIS_URL=redis://127.0.0.1:$REDIS_PORT
				[ "$try" -gt 0 ] && at_exit redis_stop
				return 0
			fi
			sleep 0.05
		done
		kill "$REDIS_PID" 2>/dev/null
		wait "$REDIS_PID" 2>/dev/null
		REDIS_PORT=
	done
	fail redis_start "redis-server did not start: $(tail -n 5 "$REDIS_DIR/redis.log")"
	exit 1
}
redis_stop() {
	[ -n "$REDIS_PID" ] || return 0
	kill -9 "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}
redis_cli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
