package hostinet

import (
	"encoding/binary"

	"moat/sentry/filter"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Interface queries by ioctl (netdevice(7)): each takes a struct ifreq
// the sentry copies in, hands to the host, and copies back, so the
// answers are the namespace's own. Only queries: no SIOCS*.

// ifreqSize is sizeof(struct ifreq) on 64-bit Linux: a 16-byte name and
// a 24-byte union.
const ifreqSize = 40

// maxIfconf bounds the buffer SIOCGIFCONF fills (800 interfaces).
const maxIfconf = 800 * ifreqSize

// ifreqQueries are the struct ifreq requests passed to the host: the
// filter's list.
var ifreqQueries = func() map[uintptr]bool {
	m := map[uintptr]bool{}
	for _, r := range filter.InterfaceQueries {
		if r != unix.SIOCGIFCONF {
			m[uintptr(r)] = true
		}
	}
	return m
}()

// ifIoctl serves the interface queries; ok is false for another request.
func (s *sock) ifIoctl(req, arg uintptr, io vfs.IOContext) (ok bool, err error) {
	if req == unix.SIOCGIFCONF {
		return true, s.ifconf(arg, io)
	}
	if !ifreqQueries[req] {
		return false, nil
	}
	var ifr [ifreqSize]byte
	if err := copyInExact(io, arg, ifr[:]); err != nil {
		return true, err
	}
	if err := hostIoctlBuf(s.fd, uint(req), ifr[:]); err != nil {
		return true, err
	}
	return true, copyOutExact(io, arg, ifr[:])
}

// ifconf implements SIOCGIFCONF: struct ifconf is {int ifc_len; (pad);
// char *ifc_buf} on 64 bits. A NULL buffer asks for the length needed.
func (s *sock) ifconf(arg uintptr, io vfs.IOContext) error {
	var ifc [16]byte
	if err := copyInExact(io, arg, ifc[:]); err != nil {
		return err
	}
	n := int32(binary.LittleEndian.Uint32(ifc[0:]))
	appBuf := uintptr(binary.LittleEndian.Uint64(ifc[8:]))
	var buf []byte
	if appBuf != 0 && n > 0 {
		buf = make([]byte, min(int(n), maxIfconf))
	}
	got, err := hostIfconf(s.fd, buf, n)
	if err != nil {
		return err
	}
	if appBuf != 0 && got > 0 {
		if err := copyOutExact(io, appBuf, buf[:min(int(got), len(buf))]); err != nil {
			return err
		}
	}
	binary.LittleEndian.PutUint32(ifc[0:], uint32(got))
	return copyOutExact(io, arg, ifc[:4])
}

func copyInExact(io vfs.IOContext, addr uintptr, b []byte) error {
	n, err := io.CopyIn(addr, b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return unix.EFAULT
	}
	return nil
}

func copyOutExact(io vfs.IOContext, addr uintptr, b []byte) error {
	n, err := io.CopyOut(addr, b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return unix.EFAULT
	}
	return nil
}
