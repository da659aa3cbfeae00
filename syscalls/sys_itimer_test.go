package syscalls

import (
	"testing"
	"time"
)

func TestAlarmSeconds(t *testing.T) {
	for _, c := range []struct {
		old  time.Duration
		want uint64
	}{
		{0, 0},
		{time.Nanosecond, 1},
		{300 * time.Millisecond, 1},
		{time.Second, 1},
		{1499 * time.Millisecond, 1},
		{1500 * time.Millisecond, 2},
		{4999 * time.Millisecond, 5},
	} {
		if got := alarmSeconds(c.old); got != c.want {
			t.Errorf("alarmSeconds(%v) = %d, want %d", c.old, got, c.want)
		}
	}
}

func TestItimervalValid(t *testing.T) {
	for _, c := range []struct {
		v    itimerval
		want bool
	}{
		{itimerval{}, true},
		{itimerval{value: timespec{1, 999999}}, true},
		{itimerval{value: timespec{0, 1000000}}, false},
		{itimerval{value: timespec{-1, 0}}, false},
		{itimerval{interval: timespec{0, -1}}, false},
	} {
		if got := c.v.valid(); got != c.want {
			t.Errorf("%+v.valid() = %v, want %v", c.v, got, c.want)
		}
	}
}
