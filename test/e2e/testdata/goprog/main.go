// goprog is a static Go program the end-to-end tests run inside moat: the
// Go runtime at start (threads, signals, the netpoller's epoll and
// eventfd), goroutines, timers, a pipe between goroutines (non-blocking
// descriptors the netpoller waits on) and reading a file. It prints one
// line per check and exits 0 only if all passed.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"
)

func main() {
	failed := false
	check := func(name string, err error) {
		if err != nil {
			fmt.Printf("%s: FAIL: %v\n", name, err)
			failed = true
			return
		}
		fmt.Printf("%s: ok\n", name)
	}
	check("goroutines", goroutines())
	check("sleep", sleep())
	check("timers", timers())
	check("pipe", pipe())
	check("readfile", readFile())
	if failed {
		os.Exit(1)
	}
}

// goroutines runs more goroutines than threads and sums their results.
func goroutines() error {
	runtime.GOMAXPROCS(4)
	var wg sync.WaitGroup
	results := make(chan int, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.Gosched()
			results <- i
		}()
	}
	wg.Wait()
	close(results)
	sum := 0
	for v := range results {
		sum += v
	}
	if sum != 4950 {
		return fmt.Errorf("sum %d, want 4950", sum)
	}
	return nil
}

// sleep checks time.Sleep sleeps about as long as asked.
func sleep() error {
	start := time.Now()
	time.Sleep(50 * time.Millisecond)
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		return fmt.Errorf("slept %v for 50ms", d)
	}
	return nil
}

// timers checks timers fire in order and a stopped one does not.
func timers() error {
	// Timers, not AfterFunc callbacks, carry the order check: two
	// callbacks due in the same instant run in goroutines of their own,
	// in no guaranteed order, natively as in moat. A timer's channel
	// carries the time it fired, which must not be before it was due.
	start := time.Now()
	durations := []time.Duration{30 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}
	var pending []*time.Timer
	for _, d := range durations {
		pending = append(pending, time.NewTimer(d))
	}
	stopped := time.NewTimer(15 * time.Millisecond)
	if !stopped.Stop() {
		return fmt.Errorf("timer fired before Stop")
	}
	for i, tm := range pending {
		select {
		case fired := <-tm.C:
			if early := fired.Sub(start); early < durations[i] {
				return fmt.Errorf("timer of %v fired after %v", durations[i], early)
			}
		case <-time.After(5 * time.Second):
			return fmt.Errorf("timer of %v did not fire", durations[i])
		}
	}
	ran := make(chan struct{})
	time.AfterFunc(time.Millisecond, func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		return fmt.Errorf("AfterFunc did not run")
	}
	tick := time.NewTicker(5 * time.Millisecond)
	for range 3 {
		<-tick.C
	}
	tick.Stop()
	return nil
}

// pipe sends data through an os.Pipe from one goroutine to another: the
// reader blocks in the netpoller until the writer, which starts late,
// writes.
func pipe() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	want := bytes.Repeat([]byte("moat "), 20000) // more than a pipe holds
	go func() {
		time.Sleep(20 * time.Millisecond)
		w.Write(want)
		w.Close()
	}()
	if err := r.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return fmt.Errorf("SetReadDeadline: %w", err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("read %d bytes, want %d", len(got), len(want))
	}
	// A deadline that passes: the netpoller's timer ends the read.
	r2, w2, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r2.Close()
	defer w2.Close()
	r2.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := r2.Read(make([]byte, 1)); !os.IsTimeout(err) {
		return fmt.Errorf("read past deadline: %v, want a timeout", err)
	}
	return nil
}

// readFile reads the program's own binary (argv[0] is its path).
func readFile() error {
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		return err
	}
	if len(b) < 4 || string(b[1:4]) != "ELF" {
		return fmt.Errorf("%s is no ELF file", os.Args[0])
	}
	return nil
}
