package syscalls

import "moat/sentry/kernel/epoll"

// epollEventSize is sizeof(struct epoll_event): naturally aligned on
// arm64, so the 64-bit data is at offset 8.
const epollEventSize = 16

func decodeEpollEvent(b []byte) epoll.Event {
	return epoll.Event{Events: le.Uint32(b), Data: le.Uint64(b[8:])}
}

func encodeEpollEvent(b []byte, ev epoll.Event) {
	le.PutUint32(b, ev.Events)
	le.PutUint32(b[4:], 0)
	le.PutUint64(b[8:], ev.Data)
}
