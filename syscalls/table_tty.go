package syscalls

// ttySyscalls: terminals and job control. Handlers in sys_tty*.go; ioctl
// moved here from table_file.go since most of its requests are
// terminals'.
var ttySyscalls = []entry{
	partial("ioctl", sysIoctl, "fd,hex,hex", "FIOCLEX, FIONCLEX, FIONBIO, FIONREAD; terminals: termios, window size, "+
		"job control, pty (TIOCGPTN, TIOCSPTLCK, TIOCGPTPEER), TIOCSTI refused (EPERM); no TIOCPKT, "+
		"TCGETS2 or ldiscs other than N_TTY; others ENOTTY"),
}
