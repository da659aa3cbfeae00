#!/usr/bin/env bash
# debian-rootfs.sh: build (once per machine) the Debian bookworm root file
# system the Debian tests run programs in, and print its path on stdout.
#
#   debootstrap --variant=minbase --include=python3-minimal bookworm DIR MIRROR
#
# The tree is cached under $MOAT_TEST_CACHE (default /var/cache/moat-test) as
# bookworm-<hash>, the hash covering everything that decides its contents
# (suite, variant, package list, architecture, recipe version), so changing
# the recipe builds a new tree beside the old one instead of reusing it.
#
# Safety of the cache:
#   - a lock (flock on a file beside the tree) makes concurrent callers wait
#     for the one that builds instead of building twice;
#   - the tree is built in a temporary directory in the same file system and
#     renamed into place only when debootstrap succeeded, so an interrupted
#     build never leaves a half tree under the final name; leftovers of a
#     killed build are removed by the next build, under the lock.
#
# Environment: MOAT_TEST_CACHE (cache folder), MOAT_DEBIAN_MIRROR (default
# http://deb.debian.org/debian; the mirror does not change the contents, so
# it is not part of the hash). debootstrap is installed with apt if missing.
# Needs root. Progress goes to stderr; only the path goes to stdout.
set -euo pipefail

suite=bookworm
variant=minbase
include=python3-minimal
# Bump when the recipe changes in a way the other fields don't show.
recipe=1
mirror=${MOAT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${MOAT_TEST_CACHE:-/var/cache/moat-test}

log() { echo "debian-rootfs: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	log "needs root (debootstrap, and the cache is under $cache)"
	exit 1
fi

arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
hash=$(printf '%s\n' "recipe=$recipe" "suite=$suite" "variant=$variant" "include=$include" "arch=$arch" |
	sha256sum | cut -c1-16)
name=$suite-$hash
final=$cache/$name

# Fast path: the tree exists (it only ever appears complete, by rename).
if [ -d "$final" ]; then
	echo "$final"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.$name.lock"
if ! flock -n 9; then
	log "another process is building $final; waiting for it"
	flock 9
fi
# The holder of the lock before us may have finished the build.
if [ -d "$final" ]; then
	echo "$final"
	exit 0
fi

# Nobody else builds now: what is left of an earlier build was killed.
for old in "$cache/.$name.tmp."*; do
	[ -e "$old" ] || continue
	log "removing the leftover of an interrupted build: $old"
	rm -rf --one-file-system "$old"
done

if ! command -v debootstrap >/dev/null 2>&1; then
	log "installing debootstrap with apt"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends debootstrap >&2
fi

tmp=$(mktemp -d "$cache/.$name.tmp.XXXXXX")
cleanup() {
	# debootstrap mounts /proc and /sys in the target while it works; an
	# interrupted run can leave them, and rm must not walk into them.
	for m in proc sys dev/pts dev; do
		umount -l "$tmp/$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

start=$(date +%s)
log "building $suite ($variant, +$include, $arch) in $tmp from $mirror"
if ! debootstrap --variant="$variant" --include="$include" --arch="$arch" \
	"$suite" "$tmp" "$mirror" >&2; then
	log "debootstrap failed (see above); nothing cached"
	exit 1
fi
# apt's package lists are not part of what the tests look at and are big.
rm -rf "$tmp/var/lib/apt/lists/"* "$tmp/var/cache/apt/"*.bin
chmod 0755 "$tmp"
mv -T "$tmp" "$final"
trap - EXIT
log "built $final in $(($(date +%s) - start))s, $(du -sh --one-file-system "$final" | cut -f1)"
echo "$final"
