package syscalls

// pipeSyscalls: pipes, eventfd and readiness (pipe2, eventfd2, poll, ppoll, select).
var pipeSyscalls = []entry{}
