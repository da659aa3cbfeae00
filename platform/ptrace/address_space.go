package ptrace

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"moat/platform"
)

// AddressSpace is one stub process: its memory is the application's, and
// its initial thread (the control thread) only ever runs injected calls.
// Application threads are separate processes sharing its memory (see
// NewContext).
type AddressSpace struct {
	p *Platform
	// ctl is the control thread, driven only on the injector thread.
	ctl *tracee
	// pid is ctl.pid, readable from any goroutine (ReadAt, WriteAt).
	pid int

	// mu guards released and contexts.
	mu       sync.Mutex
	released bool
	contexts map[*Context]struct{}
}

var _ platform.AddressSpace = (*AddressSpace)(nil)

// NewAddressSpace forks the zygote: the child holds nothing but the stub
// pages, vDSO and vvar.
func (p *Platform) NewAddressSpace() (platform.AddressSpace, error) {
	var child *tracee
	err := p.inj.run(func() error {
		var err error
		child, err = p.zygote.fork(uintptr(unix.SIGCHLD))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ptrace: new address space: %w", err)
	}
	return p.newAddressSpace(child), nil
}

func (p *Platform) newAddressSpace(ctl *tracee) *AddressSpace {
	as := &AddressSpace{p: p, ctl: ctl, pid: ctl.pid, contexts: map[*Context]struct{}{}}
	p.mu.Lock()
	p.spaces[as] = struct{}{}
	p.mu.Unlock()
	return as
}

// checkRange refuses ranges that wrap, leave user space or touch the
// platform's reserved pages: a sentry bug must not be able to unmap the
// stub's own code.
func (as *AddressSpace) checkRange(addr, length uintptr) error {
	end := addr + length
	if length == 0 || end < addr || end > maxUserAddress || addr%pageSize != 0 {
		return unix.EINVAL
	}
	for _, r := range as.p.reserved {
		if addr < r.End && r.Start < end {
			return unix.EINVAL
		}
	}
	return nil
}

// inject runs one call in the control thread on the injector thread.
func (as *AddressSpace) inject(what string, nr uintptr, args ...uintptr) (uintptr, error) {
	var a [6]uintptr
	copy(a[:], args)
	var ret uintptr
	err := as.p.inj.run(func() error {
		var err error
		ret, err = as.ctl.call(nr, a[:]...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("ptrace: stub %d: %s: %w", as.pid, what, err)
	}
	return ret, nil
}

func mapFlags(shared bool) uintptr {
	if shared {
		return unix.MAP_SHARED | unix.MAP_FIXED
	}
	return unix.MAP_PRIVATE | unix.MAP_FIXED
}

// MapAnon maps zero-filled memory at exactly addr.
func (as *AddressSpace) MapAnon(addr, length uintptr, prot int, shared bool) error {
	if err := as.checkRange(addr, length); err != nil {
		return fmt.Errorf("ptrace: stub %d: map %#x+%#x: %w", as.pid, addr, length, err)
	}
	flags := mapFlags(shared) | unix.MAP_ANONYMOUS
	ret, err := as.inject("mmap", sysMmap, addr, length, uintptr(prot), flags, ^uintptr(0), 0)
	if err != nil {
		return err
	}
	if ret != addr {
		return fmt.Errorf("ptrace: stub %d: mmap %#x returned %#x", as.pid, addr, ret)
	}
	return nil
}

// MapFile passes fd to the stub over the fd-passing socket, maps it there
// and closes the stub's copy.
func (as *AddressSpace) MapFile(addr, length uintptr, prot int, fd int, offset int64, shared bool) error {
	if err := as.checkRange(addr, length); err != nil {
		return fmt.Errorf("ptrace: stub %d: map fd %d at %#x+%#x: %w", as.pid, fd, addr, length, err)
	}
	if offset < 0 || offset%pageSize != 0 {
		return fmt.Errorf("ptrace: stub %d: map fd %d offset %d: %w", as.pid, fd, offset, unix.EINVAL)
	}
	err := as.p.inj.run(func() error {
		sfd, err := as.p.passFD(as.ctl, fd)
		if err != nil {
			return err
		}
		ret, err := as.ctl.call(sysMmap, addr, length, uintptr(prot), mapFlags(shared), uintptr(sfd), uintptr(offset))
		// Close the stub's copy whatever happened: the mapping holds the
		// file now.
		if _, cerr := as.ctl.call(sysClose, uintptr(sfd)); cerr != nil && err == nil {
			err = fmt.Errorf("close passed fd %d: %w", sfd, cerr)
		}
		if err != nil {
			return err
		}
		if ret != addr {
			return fmt.Errorf("mmap %#x returned %#x", addr, ret)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ptrace: stub %d: map fd %d at %#x+%#x: %w", as.pid, fd, addr, length, err)
	}
	return nil
}

// passFD sends fd with a fresh sequence number on the sentry end of the
// socket and injects recvmsg into t until the message with that number
// arrives (a message left behind by a stub killed mid-transfer is dropped
// and its fd closed). It returns the fd number in the stub.
//
// Preconditions: on the injector thread.
func (p *Platform) passFD(t *tracee, fd int) (int, error) {
	p.seq++
	var payload [8]byte
	binary.LittleEndian.PutUint64(payload[:], p.seq)
	if err := unix.Sendmsg(p.sock, payload[:], unix.UnixRights(fd), nil, 0); err != nil {
		return -1, fmt.Errorf("send fd %d to stubs: %w", fd, err)
	}
	// msghdr, iovec and cmsg buffer in the scratch page.
	var hdr [scratchCmsg + scratchCmsgLen]byte
	le := binary.LittleEndian
	le.PutUint64(hdr[scratchMsghdr+16:], scratchBase+scratchIovec) // msg_iov
	le.PutUint64(hdr[scratchMsghdr+24:], 1)                        // msg_iovlen
	le.PutUint64(hdr[scratchMsghdr+32:], scratchBase+scratchCmsg)  // msg_control
	le.PutUint64(hdr[scratchMsghdr+40:], scratchCmsgLen)           // msg_controllen
	le.PutUint64(hdr[scratchIovec:], scratchBase+scratchPayload)   // iov_base
	le.PutUint64(hdr[scratchIovec+8:], 8)                          // iov_len
	for tries := 0; tries < 16; tries++ {
		if err := t.writeScratch(0, hdr[:]); err != nil {
			return -1, err
		}
		if _, err := t.call(sysRecvmsg, stubSocketFD, scratchBase+scratchMsghdr, unix.MSG_DONTWAIT); err != nil {
			return -1, fmt.Errorf("recvmsg in stub: %w", err)
		}
		var got [scratchCmsg + scratchCmsgLen]byte
		if n, err := processVM(t.pid, got[:], scratchBase, false); err != nil || n != len(got) {
			return -1, fmt.Errorf("read back passed fd: %w", unix.EFAULT)
		}
		// struct cmsghdr: len u64, level i32, type i32, then the fd.
		cm := got[scratchCmsg:]
		if le.Uint32(cm[8:]) != unix.SOL_SOCKET || le.Uint32(cm[12:]) != unix.SCM_RIGHTS || le.Uint64(cm[0:]) < 20 {
			return -1, fmt.Errorf("recvmsg in stub: no fd received")
		}
		sfd := int(int32(le.Uint32(cm[16:])))
		// The scratch page is app memory: another app thread may have
		// rewritten the number (or the msghdr) to make the stub map a
		// descriptor an earlier, sabotaged transfer left open there.
		// Only the kernel's word that sfd in the stub is fd's own open
		// file description counts; the sequence number only tells a
		// stale message from a forged one for the error.
		same, err := sameFile(t.pid, sfd, fd)
		if err != nil {
			return -1, err
		}
		if same {
			return sfd, nil
		}
		if le.Uint64(got[scratchPayload:]) == p.seq {
			return -1, fmt.Errorf("recvmsg in stub: fd %d received as %d, which is another file (scratch page altered)", fd, sfd)
		}
		if sfd == stubSocketFD {
			continue
		}
		if _, err := t.call(sysClose, uintptr(sfd)); err != nil && err != unix.EBADF {
			return -1, fmt.Errorf("close stale fd %d in stub: %w", sfd, err)
		}
	}
	return -1, fmt.Errorf("recvmsg in stub: fd %d not received", fd)
}

// kcmpFile is KCMP_FILE (linux/kcmp.h).
const kcmpFile = 0

// sameFile reports whether descriptor sfd of stub process pid is the
// sentry's descriptor fd: the same open file description, as kcmp(2)
// compares them. A descriptor the stub does not have is not the same.
func sameFile(pid, sfd, fd int) (bool, error) {
	if sfd < 0 {
		return false, nil
	}
	r, _, errno := unix.Syscall6(unix.SYS_KCMP, uintptr(unix.Getpid()), uintptr(pid), kcmpFile, uintptr(fd), uintptr(sfd), 0)
	if errno == unix.EBADF {
		return false, nil
	}
	if errno != 0 {
		return false, fmt.Errorf("kcmp of fd %d with stub %d fd %d: %w", fd, pid, sfd, errno)
	}
	return r == 0, nil
}

// Unmap removes the mappings in [addr, addr+length).
func (as *AddressSpace) Unmap(addr, length uintptr) error {
	if err := as.checkRange(addr, length); err != nil {
		return fmt.Errorf("ptrace: stub %d: unmap %#x+%#x: %w", as.pid, addr, length, err)
	}
	_, err := as.inject("munmap", sysMunmap, addr, length)
	return err
}

// Protect changes the protection of [addr, addr+length).
func (as *AddressSpace) Protect(addr, length uintptr, prot int) error {
	if err := as.checkRange(addr, length); err != nil {
		return fmt.Errorf("ptrace: stub %d: mprotect %#x+%#x: %w", as.pid, addr, length, err)
	}
	_, err := as.inject("mprotect", sysMprotect, addr, length, uintptr(prot))
	return err
}

// ReadAt copies application memory at addr into b.
func (as *AddressSpace) ReadAt(b []byte, addr uintptr) (int, error) {
	return as.copy(b, addr, false)
}

// WriteAt copies b into application memory at addr, whatever the page
// protection (see platform.AddressSpace).
func (as *AddressSpace) WriteAt(b []byte, addr uintptr) (int, error) {
	return as.copy(b, addr, true)
}

// copy tries process_vm_readv/writev first (no stop, any goroutine). Those
// honour page protection, so on EFAULT the rest is copied with
// PTRACE_PEEKDATA/POKEDATA on the injector thread, which force access to
// mapped pages the way a debugger does; unmapped pages still fail.
func (as *AddressSpace) copy(b []byte, addr uintptr, write bool) (int, error) {
	if addr+uintptr(len(b)) < addr {
		return 0, unix.EFAULT
	}
	done := 0
	for done < len(b) {
		n, err := processVM(as.pid, b[done:], addr+uintptr(done), write)
		if err == unix.EFAULT || (err == nil && n == 0) {
			break
		}
		if err != nil {
			return done, fmt.Errorf("ptrace: stub %d: copy at %#x: %w", as.pid, addr, err)
		}
		done += n
	}
	if done == len(b) {
		return done, nil
	}
	var n int
	rest := b[done:]
	at := addr + uintptr(done)
	err := as.p.inj.run(func() error {
		var err error
		if write {
			n, err = unix.PtracePokeData(as.ctl.pid, at, rest)
		} else {
			n, err = unix.PtracePeekData(as.ctl.pid, at, rest)
		}
		return err
	})
	done += n
	if err != nil || done < len(b) {
		return done, unix.EFAULT
	}
	return done, nil
}

// Fork forks the control thread: the host kernel makes the copy-on-write
// copy. Application threads are not copied.
func (as *AddressSpace) Fork() (platform.AddressSpace, error) {
	var child *tracee
	err := as.p.inj.run(func() error {
		var err error
		child, err = as.ctl.fork(uintptr(unix.SIGCHLD))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ptrace: fork address space of stub %d: %w", as.pid, err)
	}
	return as.p.newAddressSpace(child), nil
}

// Release kills every application thread of the address space and its
// control thread.
func (as *AddressSpace) Release() {
	as.mu.Lock()
	if as.released {
		as.mu.Unlock()
		return
	}
	as.released = true
	ctxs := as.contexts
	as.contexts = nil
	for c := range ctxs {
		c.markDead()
	}
	as.mu.Unlock()

	for c := range ctxs {
		c.killAndReap()
	}
	as.p.mu.Lock()
	delete(as.p.spaces, as)
	as.p.mu.Unlock()
	if err := as.p.inj.run(func() error { as.ctl.kill(); return nil }); err != nil {
		// The platform is closed: the zygote's death took the stub along.
		return
	}
}
