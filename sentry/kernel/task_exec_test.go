package kernel

import "testing"

func TestParseInterpreterLine(t *testing.T) {
	cases := []struct {
		in           string
		interp, arg  string
		script, fail bool
	}{
		{in: "\x7fELF", script: false},
		{in: "#!/bin/sh\n", interp: "/bin/sh", script: true},
		{in: "#! /usr/bin/env  python3 \nrest", interp: "/usr/bin/env", arg: "python3", script: true},
		{in: "#!/bin/awk -f -x\n", interp: "/bin/awk", arg: "-f -x", script: true},
		{in: "#!\t\n", fail: true},
		{in: "#!/no/newline", interp: "/no/newline", script: true},
	}
	for _, c := range cases {
		interp, arg, script, err := parseInterpreter([]byte(c.in))
		if c.fail {
			if err == nil {
				t.Errorf("%q: no error", c.in)
			}
			continue
		}
		if err != nil || script != c.script || interp != c.interp || arg != c.arg {
			t.Errorf("%q = %q, %q, %v, %v", c.in, interp, arg, script, err)
		}
	}
}
