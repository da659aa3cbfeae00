package loader

// elfMachine is EM_AARCH64.
const elfMachine = 183

// archName names the architecture in errors.
const archName = "arm64"

// maxSegmentEnd bounds segment addresses while parsing: arm64 Linux user
// address spaces are at most 48 bits (52 with LVA, not used by moat).
const maxSegmentEnd = 1 << 48
