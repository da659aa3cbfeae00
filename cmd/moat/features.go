package main

import (
	"encoding/json"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/urfave/cli/v2"

	"moat/sentry/seccomp"
	"moat/spec"
)

// featuresCommand answers `runc features`, which containerd (1.7 and
// later) and other engines ask before they write a config.json: the OCI
// features document (runtime-spec features.md). A field moat leaves out
// means "unknown" to the reader; moat states only what it knows is true.
var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print the OCI runtime features moat supports, as JSON",
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() != 0 {
			return fmt.Errorf("features: expected no arguments, got %d", ctx.NArg())
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(moatFeatures())
	},
}

// moatFeatures is what `moat features` prints.
func moatFeatures() *features.Features {
	no, yes := false, true
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		// The hooks hooks.go runs; startContainer is refused (see
		// spec.validateHooks). Mount options are left out: the ones
		// moat honours are still growing.
		Hooks: []string{
			string(spec.HookPrestart), string(spec.HookCreateRuntime),
			string(spec.HookCreateContainer), string(spec.HookPoststart),
			string(spec.HookPoststop),
		},
		Linux: &features.Linux{
			// The namespaces a sandbox gets: the sentry is the
			// container's PID, IPC, UTS and mount namespace by
			// construction, and the network one is made per the spec.
			Namespaces: []string{
				string(specs.PIDNamespace), string(specs.NetworkNamespace),
				string(specs.IPCNamespace), string(specs.UTSNamespace),
				string(specs.MountNamespace),
			},
			// No cgroups are set up yet; AppArmor and SELinux profiles
			// apply to host processes, and the application runs none.
			// linux.seccomp is enforced by the sentry on the
			// application's calls (sentry/seccomp), without
			// notification (SCMP_ACT_NOTIFY).
			Cgroup: &features.Cgroup{V1: &no, V2: &no, Systemd: &no, SystemdUser: &no},
			Seccomp: &features.Seccomp{
				Enabled:        &yes,
				Actions:        seccomp.SupportedActions,
				Operators:      seccomp.SupportedOperators,
				Archs:          seccomp.SupportedArches,
				KnownFlags:     seccomp.SupportedFlags,
				SupportedFlags: seccomp.SupportedFlags,
			},
			Apparmor: &features.Apparmor{Enabled: &no},
			Selinux:  &features.Selinux{Enabled: &no},
		},
	}
}
