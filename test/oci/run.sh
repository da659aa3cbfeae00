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
# -v prints each test's full TAP output; -s LOGDIR only summarises the
# TAP logs of an earlier run. MOAT=path uses that binary instead of
# building ./cmd/moat; TIMEOUT=seconds per test (default 120).
#
# A test passes when it ran its whole plan, exited 0 and no test point
# failed. Several tests (the hook ones, pidfile, ...) plan 0 points and
# only print a YAML diagnostic with an "error" key when they fail: those
# count as one failure. Tests that run runtimetest inside the container
# and pass a TAP object print its output as YAML and then "ok" whenever
# that output holds no "not ok", even when runtimetest printed nothing
# at all (it crashed): each such hollow "ok" counts as a failure here.
set -eu

VERBOSE=0 SUMMARY=
while [ $# -gt 0 ]; do
	case $1 in
	-v) VERBOSE=1; shift ;;
	-s) SUMMARY=$2; shift 2 ;;
	*) break ;;
	esac
done

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
		go mod tidy >/dev/null
		CGO_ENABLED=0 go build -o runtimetest ./cmd/runtimetest
		for f in validation/*/*.go; do
			case $f in validation/util/*) continue ;; esac
			go build -o "${f%.go}.t" "$f"
		done
	)
	mv "$SRC.tmp" "$SRC"
}

[ -n "$SUMMARY" ] || [ -x "$SRC/runtimetest" ] || build_tool

if [ -n "$SUMMARY" ]; then
	:
elif [ -z "${MOAT:-}" ]; then
	MOAT=$CACHE/moat
	(cd "$REPO" && go build -o "$MOAT" ./cmd/moat)
fi

LOG=${SUMMARY:-$CACHE/logs}
if [ $# -eq 0 ] && [ -n "$SUMMARY" ]; then
	set -- $(cd "$LOG" && ls *.tap | sed 's/\.tap$//')
elif [ $# -eq 0 ]; then
	set -- $(cd "$SRC/validation" && ls -d */ | tr -d / | grep -v '^util$')
fi
mkdir -p "$LOG"
total_pass=0 total_fail=0 total_skip=0 crashed=0
printf '%-40s %5s %5s %5s  %s\n' TEST PASS FAIL SKIP RESULT
for t in "$@"; do
	out=$LOG/$t.tap
	rc=0
	if [ -n "$SUMMARY" ]; then
		rc=$(sed -n 's/^# exit status \([0-9]*\)$/\1/p' "$out")
		rc=${rc:-0}
	else
		bin=validation/$t/$t.t
		if [ ! -x "$SRC/$bin" ]; then
			printf '%-40s %s\n' "$t" "no such validation test"
			continue
		fi
		(cd "$SRC" && RUNTIME=$MOAT timeout "$TIMEOUT" "./$bin") >"$out" 2>&1 || rc=$?
		echo "# exit status $rc" >>"$out"
	fi
	skip=$(grep -cE '^ok [0-9]+.*# (SKIP|skip)' "$out" || true)
	pass=$(( $(grep -cE '^ok [0-9]+' "$out" || true) - skip ))
	fail=$(grep -cE '^not ok [0-9]+' "$out" || true)
	planned=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$out" | head -1)
	ran=$((pass + fail + skip))
	if [ "$ran" -eq 0 ] && grep -q '^ *"error":' "$out"; then
		fail=1 planned=1 ran=1
	fi
	hollow=$(grep -cE '^ *"stdout": ""$' "$out" || true)
	if [ "$hollow" -gt "$pass" ]; then hollow=$pass; fi
	pass=$((pass - hollow)) fail=$((fail + hollow))
	result=PASS
	if [ "$fail" -gt 0 ]; then result=FAIL; fi
	if [ "$hollow" -gt 0 ]; then result="FAIL($hollow hollow: runtimetest printed nothing)"; fi
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
