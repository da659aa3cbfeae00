#!/usr/bin/env bash
# deps.sh [--arm64] [--docker]: install with apt what building and testing
# moat needs, and only what is missing, so it is cheap to run before every
# build.
#   always:   make gcc libc6-dev pkg-config libseccomp-dev (cgo + libseccomp,
#             and libseccomp.a for the static build), busybox-static (tests)
#   --arm64:  the arm64 cross-build: gcc-aarch64-linux-gnu and
#             libseccomp-dev:arm64 (adds the arm64 dpkg architecture)
#   --docker: what `make test-docker` needs: the Docker engine, containerd
#             (with its runc shim and ctr) and runc, which the shim
#             package depends on. Their init scripts are not run here (no
#             init system, or policy-rc.d): the tests start their own
#             daemons.
set -euo pipefail

pkgs=(make gcc libc6-dev pkg-config libseccomp-dev busybox-static)
arm64=false
for arg in "$@"; do
	case "$arg" in
	--arm64) arm64=true ;;
	--docker) pkgs+=(docker.io containerd runc) ;;
	*) echo "deps.sh: unknown argument $arg (usage: deps.sh [--arm64] [--docker])" >&2; exit 2 ;;
	esac
done

if $arm64; then
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		if [ "$(id -u)" -ne 0 ]; then
			echo "deps.sh: the arm64 cross-build needs 'dpkg --add-architecture arm64' (run as root)" >&2
			exit 1
		fi
		dpkg --add-architecture arm64
	fi
	pkgs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross libseccomp-dev:arm64)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
