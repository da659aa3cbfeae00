//go:build !cgo

package gofer

import "errors"

// installFilter cannot work without libseccomp; a gofer built without
// cgo refuses to serve rather than serve unfiltered.
func installFilter(bool) error {
	return errors.New("gofer: seccomp filter needs cgo (libseccomp); this binary was built without it")
}
