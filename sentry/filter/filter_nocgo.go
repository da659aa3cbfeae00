//go:build !cgo

package filter

import "errors"

// Install refuses: the filter is built with libseccomp, which needs cgo.
// A moat built with CGO_ENABLED=0 (as a plain `GOARCH=arm64 go build`
// is) compiles, but must not run application code without its wall.
func Install(extra []Rule) error {
	return errors.New("sentry filter: moat was built without cgo, so without libseccomp; rebuild with CGO_ENABLED=1")
}
