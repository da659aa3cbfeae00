package vfs

// IOOwnerType says what an IOOwner's ID names (struct f_owner_ex's type).
type IOOwnerType int32

// IOOwner types (F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP in <fcntl.h>).
const (
	OwnerTID  IOOwnerType = 0
	OwnerPID  IOOwnerType = 1
	OwnerPGRP IOOwnerType = 2
)

// IOOwner is who receives a file's I/O signals (F_SETOWN, F_SETOWN_EX).
type IOOwner struct {
	Type IOOwnerType
	ID   int32
}

// IOOwner returns f's owner; the zero IOOwner (a thread, ID 0) when none
// was set, which is what F_GETOWN_EX reports then.
func (f *File) IOOwner() IOOwner {
	if o := f.owner.Load(); o != nil {
		return *o
	}
	return IOOwner{}
}

// SetIOOwner records f's owner. The caller has checked the ID names a live
// thread, process or process group.
func (f *File) SetIOOwner(o IOOwner) { f.owner.Store(&o) }

// Sig returns the signal F_SETSIG chose (0: SIGIO).
func (f *File) Sig() int32 { return f.sig.Load() }

// SetSig records F_SETSIG's signal; the caller has checked it.
func (f *File) SetSig(sig int32) { f.sig.Store(sig) }
