package syscalls

// oLargefile is O_LARGEFILE on x86-64 (x/sys/unix defines it as 0 on
// 64-bit hosts, but the kernel sets and reports this bit).
const oLargefile = 0o100000
