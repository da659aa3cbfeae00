// Package sys is the sandbox's minimal, read-only /sys: the CPU lists
// glibc reads for sysconf(_SC_NPROCESSORS_*), the transparent huge page
// mode, and an empty fs/cgroup to mount on.
package sys

import (
	"fmt"
	"strconv"

	"moat/sentry/fs/pseudo"
	"moat/sentry/vfs"

	"golang.org/x/sys/unix"
)

// New returns /sys for a sandbox that reports ncpu CPUs.
func New(ncpu int) vfs.FilesystemImpl {
	if ncpu < 1 {
		ncpu = 1
	}
	cpus := "0\n"
	if ncpu > 1 {
		cpus = fmt.Sprintf("0-%d\n", ncpu-1)
	}
	// tree maps a directory to its entries: a name ending in "/" is a
	// directory, anything else a file with that content.
	tree := map[string][][2]string{
		"/":               {{"devices/", ""}, {"fs/", ""}, {"kernel/", ""}},
		"/devices":        {{"system/", ""}},
		"/devices/system": {{"cpu/", ""}},
		"/fs":             {{"cgroup/", ""}},
		"/kernel":         {{"mm/", ""}},
		"/kernel/mm":      {{"transparent_hugepage/", ""}},
		"/kernel/mm/transparent_hugepage": {
			// The sentry maps no huge pages of its own.
			{"enabled", "always madvise [never]\n"},
			{"defrag", "always defer defer+madvise madvise [never]\n"},
		},
	}
	cpu := [][2]string{{"online", cpus}, {"possible", cpus}, {"present", cpus}}
	for i := 0; i < ncpu; i++ {
		cpu = append(cpu, [2]string{"cpu" + strconv.Itoa(i) + "/", ""})
	}
	tree["/devices/system/cpu"] = cpu
	return pseudo.NewFS(func(fs *pseudo.FS) vfs.Inode { return dir(fs, tree, "/") })
}

func dir(fs *pseudo.FS, tree map[string][][2]string, path string) vfs.Inode {
	return &pseudo.Dir{
		Node: pseudo.Node{FS: fs, Path: path, Mode: unix.S_IFDIR | 0o755},
		Entries: func() ([]pseudo.Entry, error) {
			var es []pseudo.Entry
			for _, e := range tree[path] {
				name, content := e[0], e[1]
				if name[len(name)-1] == '/' {
					child := pseudo.Child(path, name[:len(name)-1])
					es = append(es, pseudo.Entry{Name: name[:len(name)-1], Type: unix.S_IFDIR, New: func() (vfs.Inode, error) {
						return dir(fs, tree, child), nil
					}})
					continue
				}
				child := pseudo.Child(path, name)
				es = append(es, pseudo.Entry{Name: name, Type: unix.S_IFREG, New: func() (vfs.Inode, error) {
					return &pseudo.File{
						Node:        pseudo.Node{FS: fs, Path: child, Mode: unix.S_IFREG | 0o444},
						Content:     func() ([]byte, error) { return []byte(content), nil },
						NoWriteOpen: true,
						Size:        4096,
					}, nil
				}})
			}
			return es, nil
		},
	}
}
