#!/usr/bin/env bash
# deps.sh: install with apt what `make test-docker` needs beyond the build
# dependencies (scripts/deps.sh), and only what is missing: the Docker
# engine, containerd (with its runc shim and ctr) and runc, which the shim
# package depends on.
set -euo pipefail

pkgs=(docker.io containerd runc busybox-static)
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "test/docker/deps.sh: missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "test/docker/deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The packages' init scripts are not run here (no init system, or
# policy-rc.d): the tests start their own daemons.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
