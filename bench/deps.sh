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
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# nginx-light or the full nginx: either gives /usr/sbin/nginx.
if [ -x /usr/sbin/nginx ]; then
	missing=$(echo "$missing" | sed 's/ nginx-light//')
fi
if [ -z "$missing" ]; then
	echo "bench deps: all present"
	exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "bench deps: installing$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
