//go:build !cgo

package filter

import "errors"

// Install refuses: the filter is built with libseccomp, which needs cgo.
// A moat built with CGO_ENABLED=0 compiles, but its gofer must not serve
// files without its wall.
func Install(writable bool) error {
	return errors.New("gofer filter: moat was built without cgo, so without libseccomp; rebuild with CGO_ENABLED=1")
}
