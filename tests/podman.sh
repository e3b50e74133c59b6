# tests/podman.sh — a real container engine for end-to-end tests: Debian's
# podman (with runc, slirp4netns), its configuration and storage throwaway
# (under $T_TMP, named by CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and
# CONTAINERS_REGISTRIES_CONF; the machine's /etc/containers is not read for
# them), removed at exit. No registry is reachable from the test machines, so
# `debian:bookworm` is made here: a minbase bookworm by mmdebstrap from this
# machine's own apt sources, imported under the name a Dockerfile's FROM
# means. Source after tests/lib.sh, then:
#   pm_why_not             prints why podman cannot run here (empty: it can)
#   pm_setup               the throwaway configuration and storage; PM=podman
#   pm_image DF TAG        TAG built from DF in a copy of the tree (pm_context),
#                          or loaded from the cache when its key matches;
#                          sets PM_FROM (cache|build) and PM_SECS
#   pm_context DIR         the tree's files as git sees them (tracked, and
#                          untracked but not ignored), symlinks followed
#   pm_healthy NAME        `podman healthcheck run NAME` succeeds
# The cache ($WR_IMAGE_CACHE, default /var/tmp/webhook-runner-images as root)
# keeps the base tarball (keyed by the apt sources and the mmdebstrap options)
# and the last image of each tag (keyed by the Dockerfile, every file of the
# build context and the base key): a second run on a machine loads them in
# seconds instead of bootstrapping Debian and compiling. Entries older than
# 7 days (since they were made) are dropped, so that a Debian update
# reaches the images; so does `rm -rf "$WR_IMAGE_CACHE"`.
#
# The engine's settings, and why:
#   runtime runc, cgroup_manager cgroupfs  crun refuses these machines' mixed
#                                          cgroup layout; no systemd manages
#                                          the cgroups here
#   default_ulimits nofile, nproc          raising a limit is not permitted
#                                          here, so the container keeps its own
#   events_logger file                     no journald
#   --format docker (build)                the OCI format drops HEALTHCHECK
#   --network slirp4netns:allow_host_loopback=true (the tests' run)
#                                          the container has its own loopback
#                                          (so the image's port 8080 and its
#                                          HEALTHCHECK are its own), reaches
#                                          the host's 127.0.0.1 as 10.0.2.2
#                                          (the test sshd), and -p publishes
#                                          its port on the host's loopback
#   the build's --network host             apt inside the build reaches the
#                                          same archive as this machine's apt
PM=podman
PM_SUITE=bookworm
PM_HOST_IP=10.0.2.2 # the host's loopback, seen from a slirp4netns container
if [ "$(id -u)" -eq 0 ]; then
	PM_CACHE=${WR_IMAGE_CACHE:-/var/tmp/webhook-runner-images}
else
	PM_CACHE=${WR_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/webhook-runner-images}
fi

pm_why_not() {
	local t
	for t in podman runc mmdebstrap slirp4netns; do
		command -v "$t" >/dev/null || { echo "$t is not installed (sh tests/deps.sh installs it)"; return; }
	done
	# Rootless podman needs subordinate uid ranges and newuidmap: not set up here.
	[ "$(id -u)" -eq 0 ] || { echo "needs root (rootless podman needs subuid ranges)"; return; }
}

pm_setup() {
	local d=$T_TMP/podman
	mkdir -p "$d/conf" "$d/storage" "$d/run" "$d/tmp" "$d/net" "$PM_CACHE"
	cat >"$d/conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$d/tmp"
[network]
network_config_dir = "$d/net"
EOF
	cat >"$d/conf/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$d/storage"
runroot = "$d/run"
EOF
	echo 'unqualified-search-registries = []' >"$d/conf/registries.conf"
	export CONTAINERS_CONF=$d/conf/containers.conf CONTAINERS_STORAGE_CONF=$d/conf/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$d/conf/registries.conf
	# Stale cache entries go (a Debian update must reach the images).
	find "$PM_CACHE" -maxdepth 1 -type f -mtime +7 -delete 2>/dev/null
	at_exit pm_teardown
}

# Everything lives under $T_TMP (lib.sh removes it): containers and their
# anonymous volumes go first, then the images, so no layer stays mounted.
pm_teardown() {
	podman rm -a -f -v -t 0
	podman rmi -a -f
}

# The base: apt sources are the deb822 files of this machine naming Debian's
# archive (on a stock machine, deb.debian.org); the apt options the machine
# relies on to read them (Check-Valid-Until off, for a snapshot mirror) go
# into the image's /etc/apt/apt.conf.d/99mmdebstrap, so the Dockerfile's
# apt-get in the build reads the same archive, unchanged.
pm_base_sources() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && grep -q "debian" "$f" && grep -q "^Types:.*deb" "$f" && echo "$f"
	done | head -n 1
}
pm_base() {
	local src key tar
	src=$(pm_base_sources)
	[ -n "$src" ] || { echo "pm_base: no deb822 Debian source in /etc/apt/sources.list.d" >&2; return 1; }
	PM_BASE_OPTS=(--variant=minbase --format=tar --aptopt='Acquire::Check-Valid-Until "false"' --quiet)
	key=$({ echo "$PM_SUITE ${PM_BASE_OPTS[*]}"; cat "$src"; } | sha256sum | cut -c1-16)
	PM_BASE_KEY=$key
	tar=$PM_CACHE/base-$PM_SUITE-$key.tar
	if [ ! -s "$tar" ]; then
		mmdebstrap "${PM_BASE_OPTS[@]}" "$PM_SUITE" "$tar.tmp$$" "$src" >"$T_TMP/mmdebstrap.log" 2>&1 ||
			{ tail -n 5 "$T_TMP/mmdebstrap.log" >&2; rm -f "$tar.tmp$$"; return 1; }
		mv "$tar.tmp$$" "$tar"
	fi
	podman image exists docker.io/library/debian:$PM_SUITE ||
		podman import --quiet --change 'CMD ["bash"]' "$tar" "docker.io/library/debian:$PM_SUITE" >/dev/null
}

# Less what .dockerignore leaves out (a path matching an entry, or under one),
# so that the key does not change with files the build never sees (such as a
# third_party/civetweb that is a symlink, which git does not take for the
# ignored directory). tar -h: a symlink's target is copied, since a build
# context does not follow symlinks.
pm_context() {
	local dir=$1
	mkdir -p "$dir"
	(cd "$TOP" && git ls-files -z -c -o --exclude-standard | "$PY" -c '
import fnmatch, sys
pats = [l.strip().rstrip("/") for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
def out(p):
    parts = p.split("/")
    return any(fnmatch.fnmatch("/".join(parts[:i]), q)
               for q in pats for i in range(1, len(parts) + 1))
sys.stdout.write("".join(p + "\0" for p in sys.stdin.read().split("\0") if p and not out(p)))
' | tar --null -T - -c -h -f -) | tar -x -C "$dir"
}

# pm_image DOCKERFILE TAG : see the top. The key covers everything the build
# reads: the Dockerfile, the context's files (names and contents) and the base.
pm_image() {
	local df=$1 tag=$2 ctx key arch t0 src
	t0=$(date +%s)
	ctx=$T_TMP/ctx-$tag
	rm -rf "$ctx"
	pm_context "$ctx" || return 1
	src=$(pm_base_sources)
	key=$({ echo "$PM_SUITE"; cat "$src" "$TOP/$df"; (cd "$ctx" && find . -type f | LC_ALL=C sort | xargs -d '\n' sha256sum); } |
		sha256sum | cut -c1-16)
	arch=$PM_CACHE/image-$tag-$key.tar
	PM_KEY=$key
	if [ -s "$arch" ] && podman load --quiet -i "$arch" >/dev/null 2>"$T_TMP/load.err"; then
		PM_FROM=cache
	else
		pm_base || return 1
		podman build --format docker --network host --pull=never -f "$ctx/$df" \
			-t "localhost/$tag:latest" "$ctx" >"$T_TMP/build-$tag.log" 2>&1 ||
			{ tail -n 20 "$T_TMP/build-$tag.log" >&2; return 1; }
		rm -f "$PM_CACHE/image-$tag-"*.tar
		podman save --quiet -o "$arch.tmp$$" "localhost/$tag:latest" && mv "$arch.tmp$$" "$arch"
		PM_FROM=build
	fi
	PM_SECS=$(($(date +%s) - t0))
}

pm_healthy() { podman healthcheck run "$1" >/dev/null 2>&1; }
