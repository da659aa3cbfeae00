package loader

// elfMachine is EM_X86_64.
const elfMachine = 62

// archName names the architecture in errors.
const archName = "x86-64"

// maxSegmentEnd bounds segment addresses while parsing: the x86-64 user
// address space is 47 bits.
const maxSegmentEnd = 1 << 47
