package main

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"moat/sentry/kernel"
)

func TestSpecCaps(t *testing.T) {
	if caps, err := specCaps(nil); caps != nil || err != nil {
		t.Fatalf("no capabilities: %v %v, want nil", caps, err)
	}
	caps, err := specCaps(&specs.LinuxCapabilities{
		Bounding:  []string{"CAP_CHOWN", "cap_sys_admin", "CAP_CHECKPOINT_RESTORE"},
		Effective: []string{"CAP_DAC_OVERRIDE"},
		Ambient:   []string{"CAP_AUDIT_WRITE"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := kernel.CapSets{
		Bounding:  1<<kernel.CapChown | 1<<kernel.CapSysAdmin | 1<<40,
		Effective: 1 << kernel.CapDACOverride,
		Ambient:   1 << 29,
	}
	if *caps != want {
		t.Errorf("sets %+v, want %+v", *caps, want)
	}
	_, err = specCaps(&specs.LinuxCapabilities{Permitted: []string{"CAP_CHOWN", "CAP_BOGUS"}})
	if err == nil || !strings.Contains(err.Error(), "process.capabilities.permitted") || !strings.Contains(err.Error(), "CAP_BOGUS") {
		t.Errorf("unknown name: %v", err)
	}
}

func TestSpecRlimits(t *testing.T) {
	cases := []struct {
		name string
		in   []specs.POSIXRlimit
		want map[int]kernel.Rlimit
		err  string
	}{
		{"none", nil, nil, ""},
		{"nofile and rttime", []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}, {Type: "RLIMIT_RTTIME", Soft: 1, Hard: 2}},
			map[int]kernel.Rlimit{7: {Cur: 1024, Max: 2048}, 15: {Cur: 1, Max: 2}}, ""},
		{"unknown", []specs.POSIXRlimit{{Type: "RLIMIT_FOO", Soft: 1, Hard: 1}}, nil, `unknown type "RLIMIT_FOO"`},
		{"soft above hard", []specs.POSIXRlimit{{Type: "RLIMIT_CORE", Soft: 2, Hard: 1}}, nil, "RLIMIT_CORE): soft limit 2 above hard limit 1"},
		{"twice", []specs.POSIXRlimit{{Type: "RLIMIT_AS", Soft: 1, Hard: 1}, {Type: "RLIMIT_AS", Soft: 1, Hard: 1}}, nil, "given twice"},
	}
	for _, c := range cases {
		got, err := specRlimits(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || len(got) != len(c.want) {
			t.Errorf("%s: %v %v, want %v", c.name, got, err, c.want)
			continue
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: resource %d = %v, want %v", c.name, k, got[k], v)
			}
		}
	}
}
