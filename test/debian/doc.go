// Package debian holds the differential tests of issue 3 ("Real programs
// from real images"): programs of a Debian bookworm root file system (ls,
// cat, cp, mv, rm, mkdir, ln, stat, find, sha256sum, tar, python3) run in
// moat from a bundle and, as the oracle, under chroot on the host with the
// same mounts (rootfs.Chroot); exit status, stdout, stderr and the trees
// the commands leave behind must be the same. Escape tests check that
// symlinks, "..", bind-mount edges, /proc/self magic links, O_PATH fds and
// hard links reach no host file outside the container's mounts, and an
// overlay test that a root kept in memory leaves the host tree untouched.
//
// The tests are behind the build tag "debian" so that `go test ./...`
// leaves them out: run them with `make test-debian` (go test -tags debian
// ./test/debian). They need root, ptrace, namespaces and the Debian tree
// (built once per machine by scripts/debian-rootfs.sh, about a minute and
// 190 MB); where the machine lacks one they skip with the reason, except
// with CI=true, where that is a failure.
//
// The test binary re-executes itself under `unshare --mount` so that every
// mount it makes (the cached tree made read-only, overlays) is private to
// it and vanishes with it.
package debian
