package ptrace

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPassFDForgedByApp plays an application that rewrites, from another
// thread, the fd number recvmsg leaves in the (app-writable) scratch
// page. With a bogus number it makes MapFile leak a descriptor into the
// stub; with that leaked number it tries to make a later MapFile map the
// leaked file instead of the one the sentry passed, with the later
// call's protection. The platform must never map a file it was not
// given.
func TestPassFDForgedByApp(t *testing.T) {
	p := testPlatform(t)
	dir := t.TempDir()
	secretData := bytes.Repeat([]byte("S"), pageSize)
	mineData := bytes.Repeat([]byte("m"), pageSize)
	open := func(name string, data []byte) *os.File {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	secret, mine := open("secret", secretData), open("mine", mineData)
	as, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer as.Release()

	// hammer writes the fd slot of the cmsg in the scratch page as fast
	// as it can, as an app thread spinning on it would.
	var forged atomic.Int32
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var b [4]byte
		for !stop.Load() {
			binary.LittleEndian.PutUint32(b[:], uint32(forged.Load()))
			_, _ = as.WriteAt(b[:], scratchBase+scratchCmsg+16)
		}
	}()
	defer func() { stop.Store(true); wg.Wait() }()

	// Phase 1: a bogus number; the passed secret stays open in the stub
	// at the lowest free descriptor (the stub holds only its socket).
	forged.Store(1000)
	for i := 0; i < 50; i++ {
		_ = as.MapFile(0x30000000, pageSize, unix.PROT_READ, int(secret.Fd()), 0, true)
	}
	// Phase 2: point the fd slot at the leaked descriptors while mapping
	// the app's own file shared and writable.
	got := make([]byte, 16)
	for i := 0; i < 200; i++ {
		forged.Store(int32(i % 4))
		if i%4 == 3 {
			continue // the stub's socket
		}
		addr := uintptr(0x40000000 + i*0x10000)
		if err := as.MapFile(addr, pageSize, unix.PROT_READ|unix.PROT_WRITE, int(mine.Fd()), 0, true); err != nil {
			continue // refusing is fine
		}
		if _, err := as.ReadAt(got, addr); err != nil {
			t.Fatalf("ReadAt %#x: %v", addr, err)
		}
		if !bytes.Equal(got, mineData[:16]) {
			t.Fatalf("MapFile of %q at %#x maps %q: the app chose the mapped file", mine.Name(), addr, got)
		}
	}
}
