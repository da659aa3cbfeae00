package vfs

import (
	"golang.org/x/sys/unix"
)

// ResolveFlags are openat2(2)'s RESOLVE_* flags: restrictions on how a
// path may be resolved. The walk (resolve.go) consults them at each step
// where Linux's namei does.
type ResolveFlags uint64

// The RESOLVE_* flags (linux/openat2.h).
const (
	// ResolveNoXdev refuses (EXDEV) to cross a mount: into a mount
	// point, out of a mount root by "..", by an absolute symlink from
	// another mount than the root's, or by a magic link to another mount.
	ResolveNoXdev ResolveFlags = 0x01
	// ResolveNoMagicLinks refuses (ELOOP) to follow a magic link (proc's
	// [pid]/{exe,cwd,root,fd/N}: a link that jumps to an object rather
	// than naming a path). /proc/self names a path and is not magic.
	ResolveNoMagicLinks ResolveFlags = 0x02
	// ResolveNoSymlinks refuses (ELOOP) to follow any symlink, the final
	// one included; it implies ResolveNoMagicLinks.
	ResolveNoSymlinks ResolveFlags = 0x04
	// ResolveBeneath refuses (EXDEV) any resolution that would leave the
	// starting directory: an absolute path or symlink, ".." at the
	// starting directory, any magic link.
	ResolveBeneath ResolveFlags = 0x08
	// ResolveInRoot resolves as if the starting directory were the
	// root: absolute paths and symlinks start there and ".." stops
	// there. Magic links are refused (EXDEV).
	ResolveInRoot ResolveFlags = 0x10
	// ResolveCached fails (EAGAIN) unless the walk can be done from the
	// sentry's dentry cache alone: any name not yet cached, and any
	// symlink (following one may need the gofer: its target is not
	// cached), make it give up; the caller retries without the flag.
	ResolveCached ResolveFlags = 0x20

	// ValidResolveFlags are all the flags Linux knows; openat2 refuses
	// others with EINVAL.
	ValidResolveFlags = ResolveNoXdev | ResolveNoMagicLinks | ResolveNoSymlinks |
		ResolveBeneath | ResolveInRoot | ResolveCached

	resolveScoped = ResolveBeneath | ResolveInRoot
)

// OpenAt2 is OpenAt restricted by rf (openat2). flags and mode are
// OpenAt's, already validated by the caller (build_open_flags: O_CREAT,
// O_TRUNC and O_TMPFILE with ResolveCached are the caller's EAGAIN). With
// ResolveBeneath or ResolveInRoot, dir is also the root of the walk, so
// root is ignored; dir must then be valid even for an absolute path.
func (v *VFS) OpenAt2(c *Creds, root, dir Location, path string, flags int, mode uint32, rf ResolveFlags) (*File, error) {
	if rf&^ValidResolveFlags != 0 || rf&resolveScoped == resolveScoped {
		return nil, unix.EINVAL
	}
	if rf&ResolveCached != 0 && flags&(unix.O_CREAT|unix.O_TRUNC|unix.O_TMPFILE) != 0 {
		// Creation and truncation need the file system: Linux does not
		// even try.
		return nil, unix.EAGAIN
	}
	if rf&resolveScoped != 0 {
		root = dir
	}
	return v.openAtResolve(c, root, dir, path, flags, mode, rf)
}

// stepResolve looks name up in the directory cur and crosses into
// whatever is mounted on the result. Under rf, with ResolveCached only
// names already in the dentry cache are found (EAGAIN otherwise), and
// with ResolveNoXdev a step onto a mount point is EXDEV.
func (v *VFS) stepResolve(cur Location, name string, rf ResolveFlags) (Location, error) {
	if rf&ResolveCached != 0 {
		d := cur.d.cached(name)
		if d == nil {
			// Linux answers a cached negative dentry with ENOENT; this
			// cache holds no negative entries, so an absent name always
			// needs the file system.
			return Location{}, unix.EAGAIN
		}
		return v.crossMounts(Location{m: cur.m, d: d}, rf)
	}
	d, err := cur.d.child(name)
	if err != nil {
		return Location{}, err
	}
	return v.crossMounts(Location{m: cur.m, d: d}, rf)
}

// crossMounts moves next onto whatever is mounted on it, refusing to
// with ResolveNoXdev.
func (v *VFS) crossMounts(next Location, rf ResolveFlags) (Location, error) {
	for m := v.coveredBy(next); m != nil; m = v.coveredBy(next) {
		if rf&ResolveNoXdev != 0 {
			return Location{}, rf.xdevErr()
		}
		next = Location{m: m, d: m.root}
	}
	return next, nil
}

// dotdotResolve is dotdot under rf: ".." that stays put at root is EXDEV
// with ResolveBeneath (it would leave the starting directory), and ".."
// that leaves a mount is EXDEV with ResolveNoXdev.
func (v *VFS) dotdotResolve(root, cur Location, rf ResolveFlags) (Location, error) {
	next := v.dotdot(root, cur)
	if rf&ResolveBeneath != 0 && next == cur {
		return Location{}, rf.xdevErr()
	}
	if rf&ResolveNoXdev != 0 && next.m != cur.m {
		return Location{}, rf.xdevErr()
	}
	return next, nil
}

// xdevErr is the error for a mount crossing or a ".." that rf forbids:
// EXDEV, but EAGAIN with ResolveCached, as Linux's lockless walk leaves
// these cases to the slow walk it may not take then.
func (rf ResolveFlags) xdevErr() error {
	if rf&ResolveCached != 0 {
		return unix.EAGAIN
	}
	return unix.EXDEV
}

// checkSymlink is called before following any symlink: ELOOP with
// ResolveNoSymlinks, EAGAIN with ResolveCached (the target may need the
// gofer, and a magic link's object is never looked up lazily; Linux's
// proc gives up the same way in an RCU walk).
func (rf ResolveFlags) checkSymlink() error {
	if rf&ResolveNoSymlinks != 0 {
		return unix.ELOOP
	}
	if rf&ResolveCached != 0 {
		return unix.EAGAIN
	}
	return nil
}

// checkJump is called before a magic link found in the directory cur
// jumps to the object to, in Linux's order (nd_jump_link): ELOOP with
// ResolveNoMagicLinks; EXDEV with ResolveNoXdev when to is in another
// mount (a file with no place in the tree, such as a pipe, always is),
// and with either scoping flag whatever the target.
func (rf ResolveFlags) checkJump(cur, to Location) error {
	if rf&ResolveNoMagicLinks != 0 {
		return unix.ELOOP
	}
	if rf&ResolveNoXdev != 0 {
		if _, placeless := to.d.inode.(fileInode); placeless || to.m != cur.m {
			return unix.EXDEV
		}
	}
	if rf&resolveScoped != 0 {
		return unix.EXDEV
	}
	return nil
}

// checkJumpRoot is called before an absolute symlink in the directory
// cur restarts the walk at root (nd_jump_root): EXDEV with
// ResolveBeneath, and with ResolveNoXdev when cur is in another mount
// than root — or when the walk has not needed the root yet (rootSet
// false: a relative path with no ".." and no absolute symlink so far),
// because Linux compares against a root it has not looked up then and
// so refuses the jump. ResolveInRoot needs nothing: root is the starting
// directory.
func (rf ResolveFlags) checkJumpRoot(cur, root Location, rootSet bool) error {
	if rf&ResolveBeneath != 0 {
		return unix.EXDEV
	}
	if rf&ResolveNoXdev != 0 && (!rootSet || cur.m != root.m) {
		return unix.EXDEV
	}
	return nil
}

// isBelow reports whether loc is root or lies below it in the mount
// tree, following parents and mount points as they are now.
func (v *VFS) isBelow(root, loc Location) bool {
	v.renameMu.RLock()
	defer v.renameMu.RUnlock()
	for l := loc; l.Valid(); {
		if l == root {
			return true
		}
		if l.isMountRoot() {
			if l.m.parent == nil {
				return false
			}
			l = Location{m: l.m.parent, d: l.m.point}
			continue
		}
		l = Location{m: l.m, d: l.d.parent}
	}
	return false
}
