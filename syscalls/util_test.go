package syscalls

import (
	"testing"
	"time"
)

func TestTimespecDuration(t *testing.T) {
	cases := []struct {
		ts   timespec
		want time.Duration
	}{
		{timespec{0, 0}, 0},
		{timespec{1, 5}, time.Second + 5},
		{timespec{9223372035, 999999999}, 9223372035*time.Second + 999999999},
		// Large enough to wrap a naive sec*1e9 negative.
		{timespec{9223372037, 0}, maxDuration},
		{timespec{1 << 62, 0}, maxDuration},
		{timespec{1<<63 - 1, 999999999}, maxDuration},
	}
	for _, c := range cases {
		if got := c.ts.duration(); got != c.want {
			t.Errorf("%+v.duration() = %v, want %v", c.ts, got, c.want)
		}
	}
}
