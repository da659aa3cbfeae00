package syscalls

// ttySyscalls: terminals and job control. Handlers in sys_tty*.go.
var ttySyscalls = []entry{}
