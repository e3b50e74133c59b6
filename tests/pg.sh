# tests/pg.sh — a throwaway PostgreSQL server on a free loopback port, for
# the store's unit and end-to-end tests. Source it, then:
#   pg_start          initdb in a new temp dir, start the server; sets PG_DIR
#                     PG_PORT PG_BIN PG_USER PG_PASSWORD PG_DB PG_DSN
#                     (postgresql://wr:PASSWORD@127.0.0.1:PORT/wr) and
#                     PG_DSN_NOPW (the same without the password), PG_CA
#                     (the CA certificate that verifies the server's TLS
#                     certificate, for 127.0.0.1) and PG_CA_OTHER (one that
#                     does not)
#   pg_psql SQL       run SQL as the superuser over the unix socket (-At output)
#   pg_query SQL      the same in the test database ($PG_DB)
#   pg_server_stop    stop the server, keep its data (a restart test)
#   pg_server_start   start it again on the same port and data
#   pg_stop           stop the server and remove PG_DIR
# PostgreSQL refuses to run as root: as root, initdb and pg_ctl run as the
# package's "postgres" user (runuser), which owns the data directory.
# Listens on 127.0.0.1 only; the unix socket is in the temp dir; fsync stays
# on (the store's durability is what is under test). The role "wr" logs in
# with a SCRAM password over TCP, as a deployed runner would.
# pg_available: 0 when the server binaries are installed.

pg_find_bin() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
	done
	command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
	return 1
}

pg_available() { pg_find_bin >/dev/null; }

pg_as() { # command... as the server's user
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_psql() {
	pg_as "$PG_BIN/psql" -X -q -At -h "$PG_DIR/sock" -p "$PG_PORT" -U postgres -d postgres \
		-v ON_ERROR_STOP=1 -c "$1"
}

pg_query() {
	pg_as "$PG_BIN/psql" -X -q -At -h "$PG_DIR/sock" -p "$PG_PORT" -U postgres -d "$PG_DB" \
		-v ON_ERROR_STOP=1 -c "$1"
}

pg_server_start() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-p $PG_PORT" start >/dev/null
}

pg_server_stop() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null
}

pg_start() {
	local try port
	PG_BIN=$(pg_find_bin) || { echo "pg.sh: no PostgreSQL server binaries" >&2; return 1; }
	PG_DIR=$(mktemp -d /tmp/wrpg.XXXXXX) || return 1
	chmod 755 "$PG_DIR"
	mkdir -p "$PG_DIR/sock"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$PG_DIR" "$PG_DIR/sock"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust --auth-host=scram-sha-256 \
		-E UTF8 --no-instructions >"$PG_DIR/initdb.log" 2>&1 ||
		{ echo "pg.sh: initdb failed: $(tail -n 5 "$PG_DIR/initdb.log")" >&2; return 1; }
	# TLS: a throwaway CA and a server certificate for 127.0.0.1 (sslmode=verify-full)
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=wr-test-ca -keyout "$PG_DIR/ca.key" \
		-out "$PG_DIR/ca.crt" >/dev/null 2>&1 &&
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=wr-other-ca -keyout "$PG_DIR/other.key" \
			-out "$PG_DIR/other.crt" >/dev/null 2>&1 &&
		openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$PG_DIR/server.key" \
			-out "$PG_DIR/server.csr" >/dev/null 2>&1 &&
		printf 'subjectAltName=IP:127.0.0.1\n' >"$PG_DIR/san.ext" &&
		openssl x509 -req -in "$PG_DIR/server.csr" -CA "$PG_DIR/ca.crt" -CAkey "$PG_DIR/ca.key" \
			-CAcreateserial -days 2 -extfile "$PG_DIR/san.ext" -out "$PG_DIR/server.crt" >/dev/null 2>&1 ||
		{ echo "pg.sh: openssl could not make the test certificates" >&2; return 1; }
	chmod 600 "$PG_DIR/server.key"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$PG_DIR/server.key" "$PG_DIR/server.crt"
	PG_CA=$PG_DIR/ca.crt PG_CA_OTHER=$PG_DIR/other.crt
	pg_as sh -c "cat >>'$PG_DIR/data/postgresql.conf'" <<-EOF
		ssl = on
		ssl_cert_file = '$PG_DIR/server.crt'
		ssl_key_file = '$PG_DIR/server.key'
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$PG_DIR/sock'
		fsync = on
		max_connections = 100
		shared_buffers = 16MB
		log_min_messages = warning
	EOF
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + (RANDOM * 7 + try * 131) % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
		PG_PORT=$port
		pg_server_start && break
		PG_PORT=""
	done
	[ -n "${PG_PORT:-}" ] || { echo "pg.sh: server did not start: $(tail -n 5 "$PG_DIR/server.log")" >&2; return 1; }
	PG_USER=wr PG_DB=wr
	PG_PASSWORD=pw$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
	pg_psql "CREATE ROLE wr LOGIN PASSWORD '$PG_PASSWORD'" &&
		pg_psql "CREATE DATABASE wr OWNER wr" || return 1
	PG_DSN="postgresql://wr:$PG_PASSWORD@127.0.0.1:$PG_PORT/wr"
	PG_DSN_NOPW="postgresql://wr@127.0.0.1:$PG_PORT/wr"
	export PG_DIR PG_PORT PG_BIN PG_USER PG_PASSWORD PG_DB PG_DSN PG_DSN_NOPW PG_CA PG_CA_OTHER
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
	pg_server_stop 2>/dev/null || pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$PG_DIR"
	PG_DIR=""
}
