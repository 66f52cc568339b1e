#!/usr/bin/env bash
# fresh-machine.sh [SUITE]: the README's two commands, typed once each by a
# newcomer on a fresh Debian (SUITE: bookworm, the default, or trixie).
#
# Builds a minimal Debian root with debootstrap (make, git and
# ca-certificates added, nothing else), mounts what the tests need, clones
# this repository's HEAD into it, then runs `make demo` and `make check`
# as root, in that order, each once.  Prints how long each took and exits
# non-zero if either failed.  Needs root (debootstrap, chroot, mount).
#
# The base root is cached as a tarball in $FRESH_CACHE (default
# /var/cache/rcp-fresh-machine), so a second run skips debootstrap.  All
# mounts live in a private mount namespace, so nothing leaks to the host
# even if the script is killed.  The full logs of both commands are kept
# in $FRESH_CACHE/logs.  FRESH_KEEP=1 leaves the root in place for a look
# afterwards (its path is printed).
set -euo pipefail

suite=${1:-bookworm}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
cache=${FRESH_CACHE:-/var/cache/rcp-fresh-machine}
top=$(cd "$(dirname "$0")/.." && pwd)

say() { printf 'fresh-machine: %s\n' "$*"; }
die() { printf 'fresh-machine: %s\n' "$*" >&2; exit 1; }

case $suite in
bookworm | trixie) ;;
*) die "unknown suite '$suite': bookworm or trixie" ;;
esac
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and mount)"

# Stage 2, inside a private mount namespace: see the end of the file.
if [ "${FRESH_STAGE:-}" = inside ]; then
	root=$FRESH_ROOT
	# The root a mount point, as on a real machine: `ip netns` remounts /.
	mount --bind "$root" "$root"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --bind /dev "$root/dev"
	mount --bind /dev/pts "$root/dev/pts"
	mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
	mount -t tmpfs -o mode=755 tmpfs "$root/run"
	mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
	mkdir -p "$root/mnt/origin"
	mount --bind -o ro "$top" "$root/mnt/origin"
	status=0
	# A login shell with a clean environment: what a newcomer has.
	env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    FRESH_COMMIT="$FRESH_COMMIT" \
	    chroot "$root" /bin/bash -l /root/newcomer.sh || status=$?
	# Whatever the run left behind (a daemon, say) holds the mounts.
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] &&
		    kill -9 "${p#/proc/}" 2>/dev/null
	done
	exit "$status"
fi

command -v debootstrap >/dev/null || {
	say "installing debootstrap"
	apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
}
git -C "$top" diff --quiet HEAD 2>/dev/null ||
    say "warning: uncommitted changes are not tested: HEAD is cloned"
commit=$(git -C "$top" rev-parse HEAD)

mkdir -p "$cache"
base="$cache/$suite-minbase.tar.gz"
work=$(mktemp -d /var/tmp/rcp-fresh.XXXXXX)
root="$work/root"
cleanup() {
	if [ "${FRESH_KEEP:-0}" = 1 ]; then
		say "root kept in $root"
	else
		# --one-file-system: never follow a mount that somehow remained.
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT

t0=$(date +%s)
if [ ! -s "$base" ]; then
	say "debootstrap $suite (minbase, with make, git, ca-certificates)"
	debootstrap --variant=minbase --include=make,git,ca-certificates \
	    "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
		tail -20 "$work/debootstrap.log" >&2
		die "debootstrap $suite failed"
	}
	rm -f /var/cache/apt/archives/*.deb "$root"/var/cache/apt/archives/*.deb
	tar -C "$root" -czf "$base.tmp" . && mv "$base.tmp" "$base"
	say "cached the $suite base in $base ($(($(date +%s) - t0)) s)"
else
	mkdir -p "$root"
	tar -C "$root" -xzf "$base"
	say "unpacked the cached $suite base ($(($(date +%s) - t0)) s)"
fi

# What a container image does: packages installed in a chroot must not
# start their daemons (sshd, redis) on the host's network.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

# The newcomer's session: clone, then the README's two commands.
cat >"$root/root/newcomer.sh" <<'EOF'
set -u
cd /root
git clone -q /mnt/origin rcp-entropy && cd rcp-entropy &&
    git -c advice.detachedHead=false checkout -q "$FRESH_COMMIT" || exit 1
rc=0
for target in demo check; do
	t0=$(date +%s)
	if make "$target" >"/root/make-$target.log" 2>&1; then
		echo "make $target: ok in $(($(date +%s) - t0)) s"
	else
		echo "make $target: FAILED in $(($(date +%s) - t0)) s; its last lines:"
		grep -v '^cc ' "/root/make-$target.log" | tail -40
		rc=1
	fi
	if [ "$target" = check ]; then
		echo "make check: $(grep -c '^ok ' /root/make-check.log) ok," \
		    "$(grep -c '^not ok ' /root/make-check.log) not ok"
	fi
done
exit "$rc"
EOF

say "$suite: cloning $commit and running make demo, then make check"
status=0
FRESH_STAGE=inside FRESH_ROOT="$root" FRESH_COMMIT="$commit" \
    unshare --mount --propagation private "$0" "$suite" |
    sed "s/^/fresh-machine: $suite: /" || status=$?
mkdir -p "$cache/logs"
for f in "$root"/root/make-*.log; do
	[ -f "$f" ] && cp "$f" "$cache/logs/$suite-${f##*/}"
done
say "$suite: done in $(($(date +%s) - t0)) s, status $status; logs in $cache/logs"
exit "$status"
