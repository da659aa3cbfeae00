package syscalls

// mountSyscalls: the mount tree as the application sees it. Handlers in
// sys_mount.go.
var mountSyscalls = []entry{
	partial("memfd_create", sysMemfdCreate, "path,hex", "a tmpfs file in the sentry; MFD_ALLOW_SEALING is accepted but seals are not enforced; MFD_HUGETLB is EINVAL"),
}
