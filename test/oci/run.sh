#!/bin/sh
# Runs the OCI runtime conformance suite (opencontainers/runtime-tools
# validation tests) against moat and prints pass/fail per test.
#
# The tool is built outside the repository, in $MOAT_OCI_CACHE (default
# /var/cache/moat-oci): the runtime-tools v0.9.0 module is fetched with
# `go mod download` (it predates Go modules, so a go.mod pinning the
# dependency versions it was written against is added to a copy), then
# runtimetest (static) and every validation/*/*.go test are built.
# Needs root. Usage:
#   test/oci/run.sh [-v] [TEST...]     e.g. test/oci/run.sh state kill
# -v prints each test's full TAP output. MOAT=path uses that binary
# instead of building ./cmd/moat; TIMEOUT=seconds per test (default 120).
set -eu

VERBOSE=0
if [ "${1:-}" = "-v" ]; then VERBOSE=1; shift; fi

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${MOAT_OCI_CACHE:-/var/cache/moat-oci}
VERSION=v0.9.0
SRC=$CACHE/src-$VERSION
TIMEOUT=${TIMEOUT:-120}

if [ "$(id -u)" != 0 ]; then
	echo "test/oci: the validation tests need root" >&2
	exit 1
fi

build_tool() {
	mod=$(go mod download -json github.com/opencontainers/runtime-tools@$VERSION |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$mod" ] || { echo "test/oci: cannot download runtime-tools $VERSION" >&2; exit 1; }
	rm -rf "$SRC.tmp"
	cp -r "$mod" "$SRC.tmp"
	chmod -R u+w "$SRC.tmp"
	(
		cd "$SRC.tmp"
		# Newer runtime-spec and selinux releases changed types the
		# v0.9.0 code uses; these are the closest versions that build.
		go mod init github.com/opencontainers/runtime-tools >/dev/null 2>&1
		go mod edit -require=github.com/opencontainers/runtime-spec@v1.0.2 \
			-require=github.com/opencontainers/selinux@v1.8.2
		go mod tidy >/dev/null 2>&1
		CGO_ENABLED=0 go build -o runtimetest ./cmd/runtimetest
		for f in validation/*/*.go; do
			case $f in validation/util/*) continue ;; esac
			go build -o "${f%.go}.t" "$f"
		done
	)
	mv "$SRC.tmp" "$SRC"
}

[ -x "$SRC/runtimetest" ] || build_tool

if [ -z "${MOAT:-}" ]; then
	MOAT=$CACHE/moat
	(cd "$REPO" && go build -o "$MOAT" ./cmd/moat)
fi

if [ $# -eq 0 ]; then
	set -- $(cd "$SRC/validation" && ls -d */ | tr -d / | grep -v '^util$')
fi

LOG=$CACHE/logs
mkdir -p "$LOG"
total_pass=0 total_fail=0 total_skip=0 crashed=0
printf '%-40s %5s %5s %5s  %s\n' TEST PASS FAIL SKIP RESULT
for t in "$@"; do
	bin=validation/$t/$t.t
	if [ ! -x "$SRC/$bin" ]; then
		printf '%-40s %s\n' "$t" "no such validation test"
		continue
	fi
	out=$LOG/$t.tap
	rc=0
	(cd "$SRC" && RUNTIME=$MOAT timeout "$TIMEOUT" "./$bin") >"$out" 2>&1 || rc=$?
	skip=$(grep -cE '^ok [0-9]+.*# (SKIP|skip)' "$out" || true)
	pass=$(( $(grep -cE '^ok [0-9]+' "$out" || true) - skip ))
	fail=$(grep -cE '^not ok [0-9]+' "$out" || true)
	planned=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$out" | head -1)
	ran=$((pass + fail + skip))
	result=PASS
	if [ "$fail" -gt 0 ]; then result=FAIL; fi
	if [ "$rc" -ne 0 ] || [ -z "$planned" ] || [ "$ran" -ne "${planned:-0}" ]; then
		result="FAIL(exit $rc, $ran/${planned:-?} run)"
		crashed=$((crashed + 1))
	elif [ "$pass" -eq 0 ] && [ "$skip" -gt 0 ]; then
		result=SKIP
	fi
	printf '%-40s %5d %5d %5d  %s\n' "$t" "$pass" "$fail" "$skip" "$result"
	total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail)) total_skip=$((total_skip + skip))
	if [ "$VERBOSE" = 1 ]; then sed 's/^/    /' "$out"; fi
done
printf '%-40s %5d %5d %5d  (%d tests did not finish cleanly; TAP logs in %s)\n' \
	TOTAL "$total_pass" "$total_fail" "$total_skip" "$crashed" "$LOG"
[ "$total_fail" -eq 0 ] && [ "$crashed" -eq 0 ]
