package syscalls

// mountSyscalls: the mount tree as the application sees it. Handlers in
// sys_mount.go.
var mountSyscalls = []entry{
	partial("memfd_create", sysMemfdCreate, "path,hex", "a tmpfs file in the sentry whose data is a host memfd; seals are enforced (mirrored on the host memfd for mappings); MFD_HUGETLB is EINVAL"),
}
