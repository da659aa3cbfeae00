// Package dev holds the sandbox's character devices, served entirely by
// the sentry: null, zero, full, random, urandom and tty. Drivers opens a
// device node by number (tmpfs device nodes call it: it satisfies
// tmpfs.DeviceOpener, and goferfs sends the rootfs's own device nodes to
// it). /dev itself is a tmpfs the mount code fills with Nodes and Links,
// as runc does; there is no separate /dev file system.
package dev

import (
	"crypto/rand"
	"fmt"

	"moat/sentry/fs/fsutil"
	"moat/sentry/fs/pseudo"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// Node is one default device node of /dev.
type Node struct {
	Name         string
	Major, Minor uint32
}

// Nodes are the device nodes a container's /dev holds (runc's default
// set, less the terminals: /dev/console, /dev/ptmx and /dev/pts/* are
// not provided yet).
var Nodes = []Node{
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
}

// Links are /dev's symlinks: name and target.
var Links = [][2]string{
	{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
}

// Drivers opens the sandbox's devices by number.
type Drivers struct{}

// OpenDevice opens the character device rdev. Block devices and numbers
// without a driver fail with ENXIO, as on Linux; /dev/tty opens as a
// CurrentTTY placeholder.
func (Drivers) OpenDevice(mode uint32, rdev uint64, flags int) (vfs.FileImpl, error) {
	if mode&unix.S_IFMT != unix.S_IFCHR {
		return nil, unix.ENXIO
	}
	if rdev == unix.Mkdev(5, 0) {
		// /dev/tty: the opener's controlling terminal, which only the
		// system-call layer knows; it swaps this for the terminal (or
		// fails with ENXIO).
		return CurrentTTY{}, nil
	}
	k, ok := kindOf(rdev)
	if !ok {
		return nil, unix.ENXIO
	}
	return &File{kind: k, rdev: rdev, mode: mode}, nil
}

// kind is what a device does.
type kind int

const (
	kindNull kind = iota
	kindZero
	kindFull
	kindRandom
)

// kindOf returns the driver of rdev.
func kindOf(rdev uint64) (kind, bool) {
	if unix.Major(rdev) != 1 {
		return 0, false
	}
	switch unix.Minor(rdev) {
	case 3:
		return kindNull, true
	case 5:
		return kindZero, true
	case 7:
		return kindFull, true
	case 8, 9:
		// random and urandom are the same since Linux 5.6: never block
		// once the pool is initialised, which the host's is.
		return kindRandom, true
	}
	return 0, false
}

// devtmpfsDev is st_dev for the device nodes this package makes (Linux's
// devtmpfs is usually 0:6).
var devtmpfsDev = unix.Mkdev(0, 6)

// File is an open device.
type File struct {
	kind kind
	rdev uint64
	mode uint32
}

// Read implements vfs.FileImpl.
func (d *File) Read(_ *vfs.File, dst []byte) (int, error) {
	switch d.kind {
	case kindNull:
		return 0, nil
	case kindRandom:
		// crypto/rand reads getrandom(2) in the sentry.
		n, err := rand.Read(dst)
		if err != nil {
			return n, unix.EIO
		}
		return n, nil
	}
	clear(dst)
	return len(dst), nil
}

// Write implements vfs.FileImpl: null, zero and the random devices take
// everything (writes to random do not credit entropy), full is full.
func (d *File) Write(_ *vfs.File, src []byte) (int, error) {
	if d.kind == kindFull {
		return 0, unix.ENOSPC
	}
	return len(src), nil
}

// PRead implements vfs.FileImpl.
func (d *File) PRead(f *vfs.File, dst []byte, _ int64) (int, error) { return d.Read(f, dst) }

// PWrite implements vfs.FileImpl.
func (d *File) PWrite(f *vfs.File, src []byte, _ int64) (int, error) { return d.Write(f, src) }

// Seek implements vfs.FileImpl: these devices ignore the offset and
// lseek always lands at 0.
func (d *File) Seek(*vfs.File, int64, int) (int64, error) { return 0, nil }

// Stat implements vfs.FileImpl.
func (d *File) Stat(*vfs.File) (unix.Stat_t, error) {
	now := fsutil.Now()
	a := fsutil.Attr{Dev: devtmpfsDev, Ino: pseudo.Ino(fmt.Sprintf("/dev:%d", d.rdev)), Nlink: 1, Rdev: d.rdev,
		Mode: d.mode, Blksize: 4096, Atime: now, Mtime: now, Ctime: now}
	return a.Stat(), nil
}

// Getdents implements vfs.FileImpl.
func (d *File) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// Ioctl implements vfs.FileImpl: these devices have none.
func (d *File) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENOTTY
}

// HostFD implements vfs.FileImpl.
func (d *File) HostFD() int { return -1 }

// MapsAnonymous implements mm.AnonymousFile: mappings of /dev/zero are
// anonymous memory (private or shared, as mmap asks), as on Linux. The
// other devices cannot be mapped (ENODEV).
func (d *File) MapsAnonymous() bool { return d.kind == kindZero }

// Release implements vfs.FileImpl.
func (d *File) Release() {}

// CurrentTTY is what opening /dev/tty (5:0) gives the file system: a
// placeholder the open system call replaces with a new open file of the
// caller's controlling terminal. Used as a file, it fails with ENXIO.
type CurrentTTY struct{}

// Read implements vfs.FileImpl.
func (CurrentTTY) Read(*vfs.File, []byte) (int, error) { return 0, unix.ENXIO }

// Write implements vfs.FileImpl.
func (CurrentTTY) Write(*vfs.File, []byte) (int, error) { return 0, unix.ENXIO }

// PRead implements vfs.FileImpl.
func (CurrentTTY) PRead(*vfs.File, []byte, int64) (int, error) { return 0, unix.ENXIO }

// PWrite implements vfs.FileImpl.
func (CurrentTTY) PWrite(*vfs.File, []byte, int64) (int, error) { return 0, unix.ENXIO }

// Seek implements vfs.FileImpl.
func (CurrentTTY) Seek(*vfs.File, int64, int) (int64, error) { return 0, unix.ESPIPE }

// Stat implements vfs.FileImpl.
func (CurrentTTY) Stat(*vfs.File) (unix.Stat_t, error) {
	return (&File{rdev: unix.Mkdev(5, 0), mode: unix.S_IFCHR | 0o666}).Stat(nil)
}

// Getdents implements vfs.FileImpl.
func (CurrentTTY) Getdents(*vfs.File, []byte) (int, error) { return 0, unix.ENOTDIR }

// Ioctl implements vfs.FileImpl.
func (CurrentTTY) Ioctl(*vfs.File, uintptr, uintptr, vfs.IOContext) (uintptr, error) {
	return 0, unix.ENXIO
}

// HostFD implements vfs.FileImpl.
func (CurrentTTY) HostFD() int { return -1 }

// Release implements vfs.FileImpl.
func (CurrentTTY) Release() {}
