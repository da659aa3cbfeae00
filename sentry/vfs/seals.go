package vfs

// Sealable is implemented by a FileImpl whose file can carry memfd seals
// (fcntl F_ADD_SEALS, F_GET_SEALS): Linux's shmem files, which in the
// sentry are tmpfs files. Other files answer EINVAL to both commands.
type Sealable interface {
	// Seals returns the file's seals (F_SEAL_* bits).
	Seals() uint32
	// AddSeals adds seals, with Linux's errors: EPERM once F_SEAL_SEAL
	// is set, EBUSY when F_SEAL_WRITE meets a writable shared mapping.
	// The caller has checked the bits and that f is open for writing.
	AddSeals(f *File, seals uint32) error
}
