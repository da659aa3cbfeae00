package syscalls_test

import (
	"bytes"
	"strings"
	"testing"

	"moat/gofer"
	"moat/platform/ptrace"
	"moat/sentry/kernel"
	"moat/syscalls"
)

func TestBootStaticProgram(t *testing.T) {
	root := bootProgram(t, "boot")
	var trace bytes.Buffer
	out, st := boot(t, root, []string{"boot", "hello"}, &trace)
	if st.Code != 42 || st.Signal != 0 {
		t.Errorf("exit status %+v, want code 42\noutput:\n%s\nstrace:\n%s", st, out, trace.String())
	}
	for _, want := range []string{
		"argv1=hello\n",
		"pid=1 ppid=0\n",
		"uname=Linux 6.1.0-moat x86_64\n",
		"nofile=1024/4096\n",
		"malloc=ok\n",
		"nanosleep=0\n",
		"mount=-1 errno=1\n",
		"unknown=-1 errno=38\n",
		"sigaction_kill=-1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s\nstrace:\n%s", want, out, trace.String())
		}
	}
	tr := trace.String()
	for _, want := range []string{"[1:1] exit_group(42) = ?", "[1:1] mount(", "= -1 EPERM (Operation not permitted)", "[1:1] syscall_1000() = -1 ENOSYS"} {
		if !strings.Contains(tr, want) {
			t.Errorf("strace lacks %q:\n%s", want, tr)
		}
	}
}

func TestBootMissingProgram(t *testing.T) {
	p, err := ptrace.New()
	if err != nil {
		skipOrFail(t, "ptrace platform unavailable: %v", err)
	}
	defer p.Close()
	client, stop := serveGofer(t, gofer.Tree{Root: t.TempDir(), ReadOnly: true})
	defer stop()
	k, err := kernel.New(kernel.Config{Platform: p, Root: client, Args: []string{"nope"}, Table: syscalls.Table()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = k.ResolveExecutable()
	if err == nil || !strings.Contains(err.Error(), `exec: "nope": executable file not found in $PATH`) {
		t.Errorf("ResolveExecutable error = %v", err)
	}
}
