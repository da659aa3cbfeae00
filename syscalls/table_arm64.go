package syscalls

// hostNames names the host architecture's system calls by number.
var hostNames = namesAarch64[:]
