package syscalls

// minSigStkSz is MINSIGSTKSZ on arm64.
const minSigStkSz = 5120
