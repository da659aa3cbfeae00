package ipc

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestIdentifiers(t *testing.T) {
	tab := newTable[*MsgQueue](4)
	var qs []*MsgQueue
	for i := 0; i < 2; i++ {
		q := &MsgQueue{}
		if err := tab.add(q); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	if qs[0].p.ID != 0 || qs[1].p.ID != 1 {
		t.Fatalf("ids %d %d, want 0 1", qs[0].p.ID, qs[1].p.ID)
	}
	tab.remove(qs[0])
	tab.remove(qs[1])
	q := &MsgQueue{}
	if err := tab.add(q); err != nil {
		t.Fatal(err)
	}
	// Index 0 is reused with the next sequence number.
	if q.p.ID != seqMultiplier {
		t.Fatalf("reused id %d, want %d", q.p.ID, seqMultiplier)
	}
	if _, err := tab.byID(0); err != unix.EINVAL {
		t.Fatalf("stale id: %v, want EINVAL", err)
	}
	if got, err := tab.byID(seqMultiplier); err != nil || got != q {
		t.Fatalf("byID: %v %v", got, err)
	}
	for i := 0; i < 3; i++ {
		_ = tab.add(&MsgQueue{})
	}
	if err := tab.add(&MsgQueue{}); err != unix.ENOSPC {
		t.Fatalf("past max: %v, want ENOSPC", err)
	}
}

func TestGetAndPermits(t *testing.T) {
	ns := &Namespace{msg: newTable[*MsgQueue](MsgMni)}
	root := Cred{UID: 0}
	user := Cred{UID: 1000, GID: 1000}
	if _, err := ns.MsgGet(root, 7, 0); err != unix.ENOENT {
		t.Fatalf("missing key: %v", err)
	}
	id, err := ns.MsgGet(root, 7, IPCCreat|0o640)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ns.MsgGet(root, 7, IPCCreat); err != nil || got != id {
		t.Fatalf("same key: %d %v", got, err)
	}
	if _, err := ns.MsgGet(root, 7, IPCCreat|IPCExcl); err != unix.EEXIST {
		t.Fatalf("excl: %v", err)
	}
	if _, err := ns.MsgGet(user, 7, 0o400); err != unix.EACCES {
		t.Fatalf("other user: %v", err)
	}
	if _, err := ns.MsgGet(Cred{UID: 1000, IPCOwner: true}, 7, 0o600); err != nil {
		t.Fatalf("CAP_IPC_OWNER: %v", err)
	}
	if _, err := ns.MsgCtl(user, id, IPCRmid, nil, false); err != unix.EPERM {
		t.Fatalf("rmid by other: %v", err)
	}
}

func TestMsgOrder(t *testing.T) {
	ns := &Namespace{msg: newTable[*MsgQueue](MsgMni)}
	c := Cred{}
	id, _ := ns.MsgGet(c, IPCPrivate, 0o600)
	for i, mt := range []int64{3, 1, 2, 1} {
		if err := ns.MsgSnd(c, nil, id, mt, []byte{byte('a' + i)}, 0); err != nil {
			t.Fatal(err)
		}
	}
	var got []byte
	for _, want := range []struct{ typ int64 }{{-2}, {0}, {2}, {0}} {
		_, d, err := ns.MsgRcv(c, nil, id, 8, want.typ, IPCNoWait)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d...)
	}
	if string(got) != "bacd" {
		t.Fatalf("order %q, want bacd", got)
	}
	if _, _, err := ns.MsgRcv(c, nil, id, 8, 0, IPCNoWait); err != unix.ENOMSG {
		t.Fatalf("empty: %v", err)
	}
}
