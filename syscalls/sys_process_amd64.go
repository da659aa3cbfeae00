package syscalls

import "moat/platform/arch"

// cloneTIDArgs returns clone's child TID pointer and thread pointer:
// x86-64 passes (flags, stack, parent_tid, child_tid, tls).
func cloneTIDArgs(a arch.SyscallArguments) (ctid, tls uintptr) { return a[3], a[4] }
