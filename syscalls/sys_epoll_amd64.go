package syscalls

import "moat/sentry/kernel/epoll"

// epollEventSize is sizeof(struct epoll_event): packed on x86-64, so the
// 64-bit data follows the events at offset 4.
const epollEventSize = 12

func decodeEpollEvent(b []byte) epoll.Event {
	return epoll.Event{Events: le.Uint32(b), Data: le.Uint64(b[4:])}
}

func encodeEpollEvent(b []byte, ev epoll.Event) {
	le.PutUint32(b, ev.Events)
	le.PutUint64(b[4:], ev.Data)
}
