//go:build cgo

package gofer

import "moat/gofer/filter"

// installFilter loads the gofer's seccomp filter (libseccomp, so cgo).
func installFilter(writable bool) error { return filter.Install(writable) }
