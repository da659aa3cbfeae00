package syscalls

import (
	"encoding/binary"
	"time"

	"moat/sentry/kernel"

	"golang.org/x/sys/unix"
)

// le is the byte order of both supported architectures.
var le = binary.LittleEndian

// copyOutAll copies b to addr; a short copy is EFAULT.
func copyOutAll(t *kernel.Task, addr uintptr, b []byte) error {
	if _, err := t.CopyOut(addr, b); err != nil {
		return unix.EFAULT
	}
	return nil
}

// copyInAll fills b from addr; a short copy is EFAULT.
func copyInAll(t *kernel.Task, addr uintptr, b []byte) error {
	if _, err := t.CopyIn(addr, b); err != nil {
		return unix.EFAULT
	}
	return nil
}

// copyOutU64 writes one 64-bit value to addr.
func copyOutU64(t *kernel.Task, addr uintptr, v uint64) error {
	b := t.Scratch()[:8]
	le.PutUint64(b, v)
	return copyOutAll(t, addr, b)
}

// copyOutU32 writes one 32-bit value to addr.
func copyOutU32(t *kernel.Task, addr uintptr, v uint32) error {
	b := t.Scratch()[:4]
	le.PutUint32(b, v)
	return copyOutAll(t, addr, b)
}

// copyInU64 reads one 64-bit value at addr.
func copyInU64(t *kernel.Task, addr uintptr) (uint64, error) {
	b := t.Scratch()[:8]
	if err := copyInAll(t, addr, b); err != nil {
		return 0, err
	}
	return le.Uint64(b), nil
}

// timespec is struct timespec on 64-bit Linux: two 64-bit fields.
type timespec struct{ sec, nsec int64 }

// valid reports whether ts is a valid time value (nanoseconds in range,
// seconds not negative), as nanosleep and clock_nanosleep require.
func (ts timespec) valid() bool {
	return ts.sec >= 0 && ts.nsec >= 0 && ts.nsec < 1e9
}

// maxDuration is the longest time.Duration: a wait this long is a wait
// forever.
const maxDuration = time.Duration(1<<63 - 1)

// duration returns ts as a time.Duration, saturated at maxDuration: app
// code may pass any number of seconds, and a product that wrapped
// negative would turn "wait (almost) forever" into "time out at once".
//
// Preconditions: ts.valid().
func (ts timespec) duration() time.Duration {
	if ts.sec > int64(maxDuration/time.Second)-1 {
		return maxDuration
	}
	return time.Duration(ts.sec)*time.Second + time.Duration(ts.nsec)
}

// copyInTimespec reads a struct timespec at addr.
func copyInTimespec(t *kernel.Task, addr uintptr) (timespec, error) {
	b := t.Scratch()[:16]
	if err := copyInAll(t, addr, b); err != nil {
		return timespec{}, err
	}
	return timespec{int64(le.Uint64(b)), int64(le.Uint64(b[8:]))}, nil
}

// copyInValidTimespec reads a struct timespec and checks it as Linux
// checks a timeout or a time to set (timespec64_valid): EFAULT, or EINVAL
// for a negative tv_sec or a tv_nsec outside [0, 1e9).
func copyInValidTimespec(t *kernel.Task, addr uintptr) (timespec, error) {
	ts, err := copyInTimespec(t, addr)
	if err != nil {
		return timespec{}, err
	}
	if !ts.valid() {
		return timespec{}, unix.EINVAL
	}
	return ts, nil
}

// copyOutTimespec writes a struct timespec (or timeval: same layout with
// microseconds) to addr.
func copyOutTimespec(t *kernel.Task, addr uintptr, ts timespec) error {
	b := t.Scratch()[:16]
	le.PutUint64(b, uint64(ts.sec))
	le.PutUint64(b[8:], uint64(ts.nsec))
	return copyOutAll(t, addr, b)
}

// putCString writes s NUL-padded into the fixed-size field b (utsname).
func putCString(b []byte, s string) {
	n := copy(b[:len(b)-1], s)
	clear(b[n:])
}
