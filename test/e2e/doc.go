// Package e2e holds the end-to-end tests of moat: they build the moat
// binary and the C programs of test/programs, and drive the binary exactly
// as a user, Docker or containerd's shim does (moat do, run, create, start,
// state, kill, delete, spec, syscalls), comparing what programs print in a
// sandbox with what they print natively.
//
// The tests need root, ptrace and namespaces. Where the machine lacks one
// they skip with the reason, except when CI=true, where a missing
// prerequisite is a failure: CI must never silently skip the core.
package e2e
