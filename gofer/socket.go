package gofer

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// sendRetry sends one datagram, with fds attached when fds is non-empty.
// MSG_NOSIGNAL turns a dead peer into EPIPE instead of a signal.
func sendRetry(fd int, b []byte, fds []int) error {
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for {
		err := unix.Sendmsg(fd, b, oob, nil, unix.MSG_NOSIGNAL)
		if err != unix.EINTR {
			return err
		}
	}
}

// recvRetry receives one datagram; descriptors that come with it are
// marked close-on-exec atomically.
func recvRetry(fd int, b, oob []byte) (n, oobn, flags int, err error) {
	for {
		n, oobn, flags, _, err = unix.Recvmsg(fd, b, oob, unix.MSG_CMSG_CLOEXEC)
		if err != unix.EINTR {
			return n, oobn, flags, err
		}
	}
}

// parseRights returns every descriptor passed in oob. It returns what it
// found even with an error, so the caller can close them.
func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("control message: %v", err)
	}
	var all []int
	var bad error
	for i := range msgs {
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			bad = fmt.Errorf("control message level %d type %d: %v", msgs[i].Header.Level, msgs[i].Header.Type, err)
			continue
		}
		all = append(all, fds...)
	}
	return all, bad
}

// closeAll closes descriptors nobody will use.
func closeAll(fds []int) {
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
}
