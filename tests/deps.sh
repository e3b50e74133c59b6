#!/bin/sh
# Install every build and test dependency on Debian 12 (bookworm). Idempotent:
# packages already present are left alone; apt-get update runs only when needed.
# With arguments, those packages instead (bench/deps.sh uses it). Without,
# also CivetWeb's source (third_party/civetweb.sh), which the build compiles.
set -eu
PKGS="build-essential pkg-config libssh2-1-dev libssl-dev dpkg-dev libjwt-dev
libcjson-dev libsqlite3-dev openssh-server openssh-client curl openssl sqlite3 python3
procps iproute2 passwd python3-jwt python3-cryptography clang libclang-rt-14-dev zsh fish tcsh
libfuzzer-14-dev prometheus systemd strace util-linux git
libcurl4-openssl-dev libhiredis-dev redis-server libpq-dev postgresql
podman runc slirp4netns mmdebstrap mandoc python3-yaml lintian"
[ $# -eq 0 ] || PKGS="$*"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "deps: all present"
else
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "deps: installing$missing"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
[ $# -gt 0 ] || sh "$(dirname "$0")/../third_party/civetweb.sh"
