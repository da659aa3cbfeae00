package syscalls

// socketSyscalls: sockets: socket, socketpair, bind, connect, listen, accept,
// send and receive, socket options. Handlers in sys_socket*.go; Unix
// sockets live in sentry/socket/unix, inet ones in sentry/socket/hostinet.
var socketSyscalls = []entry{}
