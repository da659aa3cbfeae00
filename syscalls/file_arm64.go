package syscalls

// oLargefile is O_LARGEFILE on arm64 (x/sys/unix defines it as 0 on
// 64-bit hosts, but the kernel sets and reports this bit).
const oLargefile = 0o400000
