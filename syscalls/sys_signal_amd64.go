package syscalls

// minSigStkSz is MINSIGSTKSZ on amd64.
const minSigStkSz = 2048
