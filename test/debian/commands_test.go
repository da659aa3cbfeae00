//go:build debian

package debian

import (
	"strings"
	"testing"

	"moat/test/harness"
	"moat/test/rootfs"
)

// treeCheck says how the /mnt trees the two runs leave are compared.
type treeCheck int

const (
	treeNone    treeCheck = iota // the case writes nothing
	treeNoTimes                  // the case creates files: their times differ between runs
	treeTimes                    // every entry's time is kept (seeded, tar -x, cp -a)
)

// A cmdCase is one command run in the read-only Debian root under chroot
// and in moat.
type cmdCase struct {
	name string
	args []string
	l    layout
	// exit is the exit status the oracle must give: a case whose command
	// fails for a reason of its own must not pass by failing in both.
	exit int
	// sortStdout compares stdout lines as a set: for output in directory
	// order, which no standard fixes.
	sortStdout bool
	tree       treeCheck
	// check, when set, asserts more about the oracle's result, so a case
	// that prints nothing useful cannot pass by printing nothing in both.
	check func(t *testing.T, e *env, r harness.Result)
}

// statFormat is every field of stat(1) but the access time (reading the
// files changes it), the birth time (statx may leave it out), and the
// device numbers %d/%D/%m: the sandbox's mounts are its own devices.
const statFormat = "%n|%F|%a|%A|%h|%u|%U|%g|%G|%s|%b|%B|%i|%t:%T|%y|%z|%N"

const pyFileIO = `
import hashlib, os
base = '/mnt/py'
os.makedirs(base + '/a/b', exist_ok=True)
with open(base + '/a/f.txt', 'w') as f:
    for i in range(2000):
        f.write('line %d\n' % i)
with open(base + '/a/f.txt', 'rb') as f:
    data = f.read()
print(len(data), hashlib.sha256(data).hexdigest())
with open(base + '/a/f.txt', 'a') as f:
    f.write('tail\n')
with open(base + '/a/f.txt', 'r+b') as f:
    f.seek(5)
    f.write(b'XX')
    f.seek(-5, 2)
    print(f.read())
os.rename(base + '/a/f.txt', base + '/a/b/g.txt')
os.symlink('b/g.txt', base + '/a/link')
print(os.readlink(base + '/a/link'), os.path.getsize(base + '/a/link'), os.path.islink(base + '/a/link'))
os.chmod(base + '/a/b/g.txt', 0o640)
print(oct(os.stat(base + '/a/b/g.txt').st_mode))
for bad in [lambda: os.mkdir(base + '/a'), lambda: open('/nonexistent/x'),
            lambda: os.rmdir(base + '/a'), lambda: open(base + '/a', 'w'),
            lambda: os.listdir(base + '/a/b/g.txt'), lambda: open('/etc/os-release', 'a')]:
    try:
        bad()
        print('no error')
    except OSError as e:
        print(type(e).__name__, e.errno, e.strerror)
os.unlink(base + '/a/link')
for root, dirs, files in os.walk('/mnt'):
    dirs.sort()
    for n in sorted(files):
        st = os.lstat(os.path.join(root, n))
        print(os.path.join(root, n), st.st_size, oct(st.st_mode))
n = 0
for root, dirs, files in os.walk('/usr/lib/python3.11'):
    dirs.sort()
    for name in sorted(files):
        p = os.path.join(root, name)
        st = os.lstat(p)
        n += 1
        print(p, st.st_size, oct(st.st_mode), st.st_nlink, st.st_mtime_ns)
print('walked', n)
`

var cmdCases = []cmdCase{
	{name: "ls-la-usr-lib", args: []string{"ls", "-la", "/usr/lib"},
		check: has("os-release", "python3.11")},
	{name: "ls-la-root", args: []string{"ls", "-la", "/"}, check: has("lib -> usr/lib", "bin -> usr/bin")},
	{name: "cat-os-release", args: []string{"cat", "/etc/os-release"}, check: has(`VERSION_CODENAME=bookworm`)},
	{name: "cat-missing", args: []string{"cat", "/etc/nonexistent", "/etc/hostname"}, exit: 1},
	{name: "stat", args: []string{"stat", "-c", statFormat,
		"/etc/os-release", "/usr/lib/os-release", "/usr/bin", "/bin", "/usr/bin/python3",
		"/etc/shadow", "/dev/null", "/tmp", "/usr/bin/su", "/var/log", "/etc"},
		check: has("/tmp|directory|1777|drwxrwxrwt", "/dev/null|character special file")},
	{name: "stat-L", args: []string{"stat", "-L", "-c", statFormat, "/etc/os-release", "/bin", "/usr/bin/python3", "/usr/bin/sh", "/usr/lib/os-release"}},
	{name: "stat-missing", args: []string{"stat", "/nonexistent", "/etc/passwd/x"}, exit: 1},
	{name: "find-xdev", args: []string{"find", "/", "-xdev", "-printf", "%p %y %#m %n %u %g %s %T@ %l\n"},
		sortStdout: true, check: has("/usr/bin/python3.11 f ", "/etc/apt d ")},
	{name: "sha256sum-64MiB", args: []string{"sha256sum", "/srv/big.bin"}, l: layout{data: true},
		check: func(t *testing.T, e *env, r harness.Result) {
			if want := e.bigSum + "  /srv/big.bin\n"; r.Stdout != want {
				t.Fatalf("oracle sha256sum printed %q, want %q", r.Stdout, want)
			}
		}},
	{name: "cp", args: []string{"sh", "-c", `cp /etc/os-release /mnt/copy && cp -r /etc/apt /mnt/apt &&
cp /mnt/file.txt /mnt/tree/ && cp /mnt/tree/link /mnt/deref && cat /mnt/copy /mnt/deref
cp /nonexistent /mnt/x; echo status=$?
cp /mnt/tree /mnt/x; echo status=$?`},
		l: layout{work: true}, tree: treeNoTimes, check: has("status=1\nstatus=1\n")},
	{name: "cp-a", args: []string{"sh", "-c", `cp -a /usr/share/doc/python3-minimal /etc/apt /mnt/ && cp -a /mnt/tree /mnt/tree2 && cp -a /mnt/tree/link /mnt/link2 && echo done`},
		l: layout{work: true}, tree: treeTimes, check: has("done")},
	{name: "mv", args: []string{"sh", "-c", `mv /mnt/src/a /mnt/a2 && mv /mnt/src/dir /mnt/dir2 && mv /mnt/src /mnt/moved &&
mv /mnt/tree/link /mnt/link && mv /mnt/file.txt /tmp/ && cat /tmp/file.txt &&
mv /tmp/file.txt /mnt/back.txt && mv /mnt/tree/sub /tmp/sub && ls -lR --time-style=+%s /tmp &&
stat -c '%n %s %Y' /mnt/a2 /mnt/dir2/c /mnt/back.txt
mv /mnt/nothere /mnt/x; echo status=$?
mv /mnt/tree /mnt/tree/other/inside; echo status=$?`},
		l: layout{work: true, tmp: true}, tree: treeNoTimes, check: has("status=1\nstatus=1\n")},
	{name: "rm-r", args: []string{"sh", "-c", `rm -r /mnt/tree/sub && rm -rf /mnt/tree/other /mnt/nothere && rm -r /mnt/src/dir/x && ls -R /mnt
rm /mnt/tree; echo status=$?
rm -r /mnt/nothere; echo status=$?
rmdir /mnt/src; echo status=$?
rm -r /mnt/src /mnt/tree /mnt/exec.sh; echo status=$?`},
		l: layout{work: true}, tree: treeNoTimes, check: has("status=1\nstatus=1\nstatus=1\nstatus=0\n")},
	{name: "mkdir-p", args: []string{"sh", "-c", `mkdir -p /mnt/a/b/c/d && mkdir -p -m 0700 /mnt/x/y/z && mkdir -p /mnt/tree/sub &&
mkdir -m 0751 /mnt/m && stat -c '%n %a' /mnt/a/b/c/d /mnt/x /mnt/x/y/z /mnt/m
mkdir /mnt/tree; echo status=$?
mkdir /mnt/file.txt/sub; echo status=$?
mkdir -p /mnt/file.txt/sub; echo status=$?
mkdir /mnt/no/such; echo status=$?
mkdir /usr/new; echo status=$?`},
		l: layout{work: true}, tree: treeNoTimes, check: has("status=1\nstatus=1\nstatus=1\nstatus=1\nstatus=1\n")},
	{name: "ln-s", args: []string{"sh", "-c", `ln -s ../file.txt /mnt/tree/l1 && ln -s /etc/os-release /mnt/l2 && head -1 /mnt/l2 &&
readlink /mnt/tree/l1 && cat /mnt/tree/l1 && ln /mnt/file.txt /mnt/hard && ln -s /nowhere /mnt/dangling &&
stat -c '%n %h %F' /mnt/file.txt /mnt/hard /mnt/dangling && ln -s loop2 /mnt/loop1 && ln -s loop1 /mnt/loop2
ln -s x /mnt/l2; echo status=$?
cat /mnt/dangling; echo status=$?
cat /mnt/loop1; echo status=$?
ln -sf /etc/hostname /mnt/l2 && readlink /mnt/l2
ln /mnt/tree /mnt/hardtree; echo status=$?`},
		l: layout{work: true}, tree: treeNoTimes, check: has("status=1\nstatus=1\nstatus=1\n")},
	{name: "tar", args: []string{"sh", "-c", `tar -C / --sort=name -cf /tmp/t.tar etc usr/lib/python3.11/encodings usr/share/doc/python3-minimal &&
sha256sum /tmp/t.tar && tar -tvf /tmp/t.tar && tar -C /mnt -xpf /tmp/t.tar && echo extracted &&
tar -C /mnt --sort=name -czf /tmp/w.tgz tree src && mkdir /mnt/again && tar -C /mnt/again -xzf /tmp/w.tgz &&
tar -tzvf /tmp/w.tgz && cmp /mnt/tree/sub/deeper/b /mnt/again/tree/sub/deeper/b && echo same`},
		l: layout{work: true, tmp: true}, tree: treeNoTimes, check: has("extracted\n", "same\n", "etc/os-release -> ../usr/lib/os-release")},
	{name: "python3-file-io-walk", args: []string{"python3", "-c", pyFileIO}, l: layout{work: true}, tree: treeNoTimes,
		check: has("FileExistsError 17 File exists", "walked ")},
	{name: "python3-version", args: []string{"python3", "-c", "import sys; print(sys.version)"}, check: has("3.11.")},
	{name: "proc-self", args: []string{"sh", "-c", `echo pid=$$; readlink /proc/self/exe /proc/self/cwd /proc/self/root
cat /proc/sys/kernel/hostname /proc/self/comm; ls /proc/self/fd; cd /usr/lib && readlink /proc/self/cwd`},
		l: layout{proc: true}, check: has("pid=1\n/usr/bin/readlink\n/\n/\ndebian-box\n")},
	{name: "sh-pipeline", args: []string{"sh", "-c", `ls /usr/bin | sort -r | head -5; echo x | tee /dev/null | wc -c; /mnt/exec.sh a b; exit 7`},
		l: layout{dev: true, work: true}, exit: 7, check: has("from exec.sh a b\n")},
}

// has returns a check that the oracle's stdout holds every one of subs.
func has(subs ...string) func(*testing.T, *env, harness.Result) {
	return func(t *testing.T, _ *env, r harness.Result) {
		t.Helper()
		for _, s := range subs {
			if !strings.Contains(r.Stdout, s) {
				t.Fatalf("the oracle's stdout lacks %q: the case tests nothing\n%s", s, short(r))
			}
		}
	}
}

func TestCommands(t *testing.T) {
	e := needEnv(t)
	for _, c := range cmdCases {
		t.Run(c.name, func(t *testing.T) {
			var hostWork, moatWork string
			if c.l.work {
				hostWork, moatWork = newWork(t), newWork(t)
			}
			want := chroot(e.spec(e.debian, true, c.args, c.l, hostWork))
			if want.Exit != c.exit || want.TimedOut || want.Err != nil {
				t.Fatalf("oracle (chroot): want exit %d, got %s", c.exit, short(want))
			}
			if c.check != nil {
				c.check(t, e, want)
			}
			got := e.moatRun(t, e.spec(e.debian, true, c.args, c.l, moatWork), "deb-"+c.name)
			compare(t, want, got, c.sortStdout)
			switch c.tree {
			case treeNoTimes:
				sameTree(t, "/mnt", hostWork, moatWork, rootfs.DigestOpts{})
			case treeTimes:
				sameTree(t, "/mnt", hostWork, moatWork, rootfs.DigestOpts{Times: true})
			}
		})
	}
}
