#!/bin/sh
# bench/deps.sh — what bench/run.sh needs besides the build and test
# dependencies (tests/deps.sh): the peers and the load generator, from
# Debian's archive. Idempotent: present packages are left alone, and
# apt-get update runs only when something is missing. Nothing is started:
# nginx's package may try to start the system service; run.sh never uses it
# and starts its own nginx on loopback with a config in a temp dir.
set -eu
PKGS="webhook wrk nginx-light openssh-server openssh-client curl openssl sqlite3 python3 procps
valgrind python3-jwt"
# nginx-light or the full nginx: either gives /usr/sbin/nginx.
if [ -x /usr/sbin/nginx ]; then
	PKGS=$(echo "$PKGS" | sed 's/nginx-light//')
fi
# shellcheck disable=SC2086
exec sh "$(dirname "$0")/../tests/deps.sh" $PKGS
