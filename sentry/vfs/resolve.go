package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Limits of path resolution, as Linux has them.
const (
	// PathMax is PATH_MAX: a path of PathMax bytes or more (counting
	// its NUL, so len(path) >= PathMax) fails with ENAMETOOLONG.
	PathMax = 4096
	// NameMax is NAME_MAX: a longer component fails with ENAMETOOLONG.
	NameMax = 255
	// MaxSymlinks is how many symlinks one resolution may follow
	// (MAXSYMLINKS); one more fails with ELOOP.
	MaxSymlinks = 40
)

// walkResult is the outcome of a path walk.
type walkResult struct {
	// loc is the file the path names; invalid when the final component
	// does not exist and the caller allowed that.
	loc Location
	// parent is the directory holding the final component; name is the
	// final component, "" when the path ends in "/", "." or "..", which
	// can never be created.
	parent Location
	name   string
}

// walk resolves path relative to dir (or root when path is absolute),
// never climbing above root. A final symlink is followed when follow is
// set or the path ends with "/". With allowMissing, a missing final
// component is not an error: the result has an invalid loc and the
// parent and name where it would be. A path that ends with "/" must name
// a directory (ENOTDIR).
func (v *VFS) walk(c *Creds, root, dir Location, path string, follow, allowMissing bool) (walkResult, error) {
	return v.walkResolve(c, root, dir, path, follow, allowMissing, 0)
}

// walkResolve is walk restricted by openat2's RESOLVE_* flags rf (see
// resolve_flags.go); with rf zero it is walk. For the scoping flags
// (ResolveBeneath, ResolveInRoot) the caller passes the starting
// directory as root.
func (v *VFS) walkResolve(c *Creds, root, dir Location, path string, follow, allowMissing bool, rf ResolveFlags) (walkResult, error) {
	if path == "" {
		return walkResult{}, unix.ENOENT
	}
	if len(path) >= PathMax {
		return walkResult{}, unix.ENAMETOOLONG
	}
	if !root.Valid() || !dir.Valid() {
		return walkResult{}, unix.ENOENT
	}
	cur := dir
	// rootSet is whether Linux would have looked root up by now (see
	// checkJumpRoot).
	rootSet := path[0] == '/' || rf&(ResolveBeneath|ResolveInRoot) != 0
	if path[0] == '/' {
		if rf&ResolveBeneath != 0 {
			return walkResult{}, unix.EXDEV
		}
		cur = root
	}
	comps := splitPath(path)
	mustDir := strings.HasSuffix(path, "/")
	res := walkResult{parent: cur}
	links := 0
	for len(comps) > 0 {
		name := comps[0]
		comps = comps[1:]
		last := len(comps) == 0
		if !cur.IsDir() {
			return walkResult{}, unix.ENOTDIR
		}
		if !permitted(c, cur.d.attrs(), MayExec) {
			return walkResult{}, unix.EACCES
		}
		if len(name) > NameMax {
			return walkResult{}, unix.ENAMETOOLONG
		}
		res.parent, res.name = cur, ""
		switch name {
		case ".":
			continue
		case "..":
			rootSet = true
			var err error
			if cur, err = v.dotdotResolve(root, cur, rf); err != nil {
				return walkResult{}, err
			}
			continue
		}
		next, err := v.stepResolve(cur, name, rf)
		if err != nil {
			if err == unix.ENOENT && last && allowMissing {
				if rf&(ResolveBeneath|ResolveInRoot) != 0 && !v.isBelow(root, cur) {
					return walkResult{}, unix.EXDEV
				}
				return walkResult{parent: cur, name: name}, nil
			}
			return walkResult{}, err
		}
		if next.d.isSymlink() && (!last || follow || mustDir) {
			links++
			if links > MaxSymlinks {
				return walkResult{}, unix.ELOOP
			}
			if err := rf.checkSymlink(); err != nil {
				return walkResult{}, err
			}
			var target string
			if ml, ok := next.d.inode.(MagicLink); ok {
				to, text, err := v.followMagic(c, next, ml)
				if err != nil {
					return walkResult{}, err
				}
				if to.Valid() {
					if err := rf.checkJump(cur, to); err != nil {
						return walkResult{}, err
					}
					// A magic link jumps to its object, whatever its
					// path: the result may lie outside root, but never
					// outside the tree.
					res.parent, res.name = v.dotdot(Location{}, to), to.d.name
					cur = to
					continue
				}
				target = text
			} else if target, err = next.d.inode.Readlink(); err != nil {
				return walkResult{}, err
			}
			if target == "" {
				return walkResult{}, unix.ENOENT
			}
			if last && strings.HasSuffix(target, "/") {
				mustDir = true
			}
			if target[0] == '/' {
				if err := rf.checkJumpRoot(cur, root, rootSet); err != nil {
					return walkResult{}, err
				}
				rootSet = true
				cur = root
				res.parent = root
			}
			// The target's components replace the link, resolved from
			// the directory that holds it.
			comps = append(splitPath(target), comps...)
			continue
		}
		res.name = name
		cur = next
	}
	res.loc = cur
	if mustDir && !cur.IsDir() {
		return walkResult{}, unix.ENOTDIR
	}
	if rf&(ResolveBeneath|ResolveInRoot) != 0 && !v.isBelow(root, cur) {
		// A rename that raced the walk may have moved a directory out
		// from under root: Linux's complete_walk checks the same.
		return walkResult{}, unix.EXDEV
	}
	return res, nil
}

// dotdot returns the parent of cur: cur itself at the task's root (".."
// never leaves it) and at the root of the whole tree; the mount point's
// parent at the root of a mount.
func (v *VFS) dotdot(root, cur Location) Location {
	for {
		if cur == root {
			return cur
		}
		if !cur.isMountRoot() {
			v.renameMu.RLock()
			p := cur.d.parent
			v.renameMu.RUnlock()
			return Location{m: cur.m, d: p}
		}
		if cur.m.parent == nil {
			return cur
		}
		cur = Location{m: cur.m.parent, d: cur.m.point}
	}
}

// splitPath returns the non-empty components of path.
func splitPath(path string) []string {
	n := 0
	for _, s := range strings.Split(path, "/") {
		if s != "" {
			n++
		}
	}
	out := make([]string, 0, n)
	for _, s := range strings.Split(path, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
