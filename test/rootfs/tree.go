package rootfs

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// DigestOpts chooses what Digest records besides each entry's path, type,
// permission bits, owner, and (by type) size and content hash, link target
// or device number, and link count.
type DigestOpts struct {
	// Times adds every entry's modification time (nanoseconds), except
	// the top directory's. Use it where the commands compared keep times
	// (tar -x, cp -a, untouched files), not where they create files: two
	// runs create them at different moments.
	Times bool
	// Identity adds inode numbers and change times (top directory
	// included), so that a file replaced by an identical one, or a chmod
	// undone, still shows: the "nothing touched this tree" check.
	Identity bool
}

// Digest describes the tree under dir, one sorted line per entry (paths
// relative to dir, "." for dir itself), without crossing into other file
// systems (a mount point is listed, not entered). Directory sizes are left
// out: they record a file system's history, not its contents.
func Digest(dir string, o DigestOpts) ([]string, error) {
	var top unix.Stat_t
	if err := unix.Lstat(dir, &top); err != nil {
		return nil, fmt.Errorf("digest %s: %w", dir, err)
	}
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return fmt.Errorf("lstat %s: %w", p, err)
		}
		line, err := describe(p, rel, &st, o)
		if err != nil {
			return err
		}
		out = append(out, line)
		if d.IsDir() && rel != "." && st.Dev != top.Dev {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", dir, err)
	}
	sort.Strings(out)
	return out, nil
}

// describe is Digest's line for one entry.
func describe(p, rel string, st *unix.Stat_t, o DigestOpts) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %04o %d:%d nlink=%d", rel, typeName(st.Mode), st.Mode&0o7777, st.Uid, st.Gid, st.Nlink)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		sum, err := fileHash(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, " size=%d sha256=%s", st.Size, sum)
	case unix.S_IFLNK:
		target, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("readlink %s: %w", p, err)
		}
		fmt.Fprintf(&b, " -> %q", target)
	case unix.S_IFCHR, unix.S_IFBLK:
		fmt.Fprintf(&b, " rdev=%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
	}
	if o.Times && rel != "." {
		fmt.Fprintf(&b, " mtime=%d.%09d", st.Mtim.Sec, st.Mtim.Nsec)
	}
	if o.Identity {
		fmt.Fprintf(&b, " ino=%d ctime=%d.%09d", st.Ino, st.Ctim.Sec, st.Ctim.Nsec)
	}
	return b.String(), nil
}

func typeName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "file"
	case unix.S_IFDIR:
		return "dir"
	case unix.S_IFLNK:
		return "symlink"
	case unix.S_IFCHR:
		return "chardev"
	case unix.S_IFBLK:
		return "blockdev"
	case unix.S_IFIFO:
		return "fifo"
	case unix.S_IFSOCK:
		return "socket"
	}
	return "unknown"
}

// fileHash is the SHA-256 of the file at p, opened without following a
// symlink and without updating its access time where the kernel allows.
func fileHash(p string) (string, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		fd, err = unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return "", fmt.Errorf("open %s: %w", p, err)
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Diff describes how got differs from want, two sorted line lists such as
// Digest returns: the lines only one of them has, at most max of each, or
// "" when they are equal.
func Diff(want, got []string, max int) string {
	var missing, extra []string
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && want[i] < got[j]):
			missing = append(missing, want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			extra = append(extra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	var b strings.Builder
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s (%d):\n", title, len(lines))
		for k, l := range lines {
			if k == max {
				fmt.Fprintf(&b, "  … %d more\n", len(lines)-max)
				break
			}
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	section("only in want", missing)
	section("only in got", extra)
	return b.String()
}
