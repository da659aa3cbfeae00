package syscalls

import "moat/platform/arch"

// cloneTIDArgs returns clone's child TID pointer and thread pointer:
// arm64 passes (flags, stack, parent_tid, tls, child_tid).
func cloneTIDArgs(a arch.SyscallArguments) (ctid, tls uintptr) { return a[4], a[3] }
