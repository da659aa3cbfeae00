package gofer

import (
	"bytes"
	"errors"
	"testing"
)

func TestRequestRoundTrip(t *testing.T) {
	tests := []request{
		{op: opTversion, tag: 1, flags: Version, msize: MaxMessage},
		{op: opTattach, tag: 2, fid: 7},
		{op: opTwalk, tag: 3, fid: 7, newID: 8, name: "etc"},
		{op: opTwalk, tag: 4, fid: 1<<64 - 1, newID: 1 << 63, name: "\xff\x01ünïcode"},
		{op: opTstat, tag: 5, fid: 8},
		{op: opTreadlink, tag: 6, fid: 9},
		{op: opTopen, tag: 7, fid: 10, flags: 0x10000},
		{op: opTclunk, tag: 1<<32 - 1, fid: 11},
	}
	var e encoder
	for _, want := range tests {
		t.Run(want.op.String(), func(t *testing.T) {
			e.request(&want)
			got, err := decodeRequest(e.b)
			if err != nil {
				t.Fatalf("decode % x: %v", e.b, err)
			}
			if got != want {
				t.Fatalf("round trip: got %+v, want %+v", got, want)
			}
			// Every strict prefix is a short message, never a panic
			// or a success.
			for i := 0; i < len(e.b); i++ {
				if _, err := decodeRequest(e.b[:i]); err == nil {
					t.Fatalf("prefix of %d bytes decoded", i)
				}
			}
			if _, err := decodeRequest(append(bytes.Clone(e.b), 0)); !errors.Is(err, errLong) {
				t.Fatalf("trailing byte: %v, want errLong", err)
			}
		})
	}
}

func TestReplyRoundTrip(t *testing.T) {
	attr := Attr{
		Dev: 1, Ino: 2, Nlink: 3, Rdev: 4, Mode: 0o100644, UID: 5, GID: 6,
		Size: -7, Blksize: 4096, Blocks: 8,
		AtimeSec: 9, AtimeNsec: 10, MtimeSec: 11, MtimeNsec: 12, CtimeSec: 13, CtimeNsec: 999999999,
	}
	tests := []reply{
		{op: opRerror, tag: 1, errno: 2},
		{op: opRversion, tag: 2, vers: 1, msize: 4096},
		{op: opRattach, tag: 3, attr: attr},
		{op: opRwalk, tag: 4, attr: attr},
		{op: opRstat, tag: 5, attr: attr},
		{op: opRreadlink, tag: 6, target: "../lib/x.so"},
		{op: opRopen, tag: 7},
		{op: opRclunk, tag: 8},
	}
	var e encoder
	for _, want := range tests {
		t.Run(want.op.String(), func(t *testing.T) {
			e.reply(&want)
			got, err := decodeReply(e.b)
			if err != nil {
				t.Fatalf("decode % x: %v", e.b, err)
			}
			if got != want {
				t.Fatalf("round trip: got %+v, want %+v", got, want)
			}
			for i := 0; i < len(e.b); i++ {
				if _, err := decodeReply(e.b[:i]); err == nil {
					t.Fatalf("prefix of %d bytes decoded", i)
				}
			}
		})
	}
}

// TestWireLayout pins the byte layout README.md documents, so a change
// to it is a deliberate protocol change.
func TestWireLayout(t *testing.T) {
	var e encoder
	e.request(&request{op: opTwalk, tag: 0x01020304, fid: 5, newID: 6, name: "ab"})
	want := []byte{
		7, 4, 3, 2, 1, // op, tag
		5, 0, 0, 0, 0, 0, 0, 0, // dir fid
		6, 0, 0, 0, 0, 0, 0, 0, // new fid
		2, 0, 'a', 'b', // name
	}
	if !bytes.Equal(e.b, want) {
		t.Errorf("Twalk = % x, want % x", e.b, want)
	}
	e.reply(&reply{op: opRstat})
	if len(e.b) != headerSize+attrSize {
		t.Errorf("Rstat is %d bytes, want %d", len(e.b), headerSize+attrSize)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown op", []byte{99, 0, 0, 0, 0}},
		{"reply op as request", []byte{byte(opRclunk), 0, 0, 0, 0}},
		{"string longer than message", []byte{byte(opTwalk), 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 'a'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeRequest(tt.b); err == nil {
				t.Errorf("decodeRequest(% x) succeeded", tt.b)
			}
		})
	}
	// An Rerror must carry a plausible errno: 0 would read as success.
	if _, err := decodeReply([]byte{byte(opRerror), 0, 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Error("Rerror with errno 0 decoded")
	}
}

// FuzzDecode feeds arbitrary bytes to both decoders: they must never
// panic, and whatever decodes must encode back to the same bytes.
func FuzzDecode(f *testing.F) {
	var e encoder
	e.request(&request{op: opTwalk, tag: 1, fid: 2, newID: 3, name: "usr"})
	f.Add(bytes.Clone(e.b))
	e.request(&request{op: opTopen, tag: 1, fid: 2, flags: 1})
	f.Add(bytes.Clone(e.b))
	e.reply(&reply{op: opRstat, tag: 1, attr: Attr{Ino: 5}})
	f.Add(bytes.Clone(e.b))
	e.reply(&reply{op: opRreadlink, tag: 1, target: "/x"})
	f.Add(bytes.Clone(e.b))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e encoder
		if r, err := decodeRequest(b); err == nil {
			e.request(&r)
			if !bytes.Equal(e.b, b) {
				t.Fatalf("request % x re-encodes as % x", b, e.b)
			}
		}
		if r, err := decodeReply(b); err == nil {
			e.reply(&r)
			if !bytes.Equal(e.b, b) {
				t.Fatalf("reply % x re-encodes as % x", b, e.b)
			}
		}
	})
}
