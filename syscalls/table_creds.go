package syscalls

// credsSyscalls change a task's identity: user and group IDs,
// supplementary groups, capabilities, and the UTS names of the sandbox's
// own UTS namespace. Handlers in sys_creds.go; the calls that only read
// ids are in sys_identity.go.
var credsSyscalls = []entry{
	supported("setuid", sysSetuid, "int"),
	supported("setgid", sysSetgid, "int"),
	supported("setreuid", sysSetreuid, "int,int"),
	supported("setregid", sysSetregid, "int,int"),
	supported("setresuid", sysSetresuid, "int,int,int"),
	supported("setresgid", sysSetresgid, "int,int,int"),
	supported("setfsuid", sysSetfsuid, "int"),
	supported("setfsgid", sysSetfsgid, "int"),
	supported("setgroups", sysSetgroups, "int,ptr"),
	partial("capget", sysCapget, "ptr,ptr", "uid 0 holds every capability, other uids none; file capabilities do not exist"),
	partial("capset", sysCapset, "ptr,ptr", "only the calling thread; capabilities can be dropped, never gained"),
	partial("sethostname", sysSethostname, "str,int", "changes the sandbox's own UTS namespace (the sentry), for uid 0"),
	partial("setdomainname", sysSetdomainname, "str,int", "changes the sandbox's own UTS namespace (the sentry), for uid 0"),
}
