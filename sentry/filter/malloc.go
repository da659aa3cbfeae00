package filter

// #include <malloc.h>
import "C"

// limitMallocArenas makes glibc's malloc keep one arena. A thread's first
// malloc otherwise sizes the arena pool by opening
// /sys/devices/system/cpu/online, and opening a path kills the filtered
// sentry: with cgo, every new Go thread is a pthread that mallocs.
func limitMallocArenas() error {
	if C.mallopt(C.M_ARENA_MAX, 1) != 1 {
		return errMallopt
	}
	return nil
}
