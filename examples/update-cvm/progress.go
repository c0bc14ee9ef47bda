package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// printer numbers the steps. Its lines may come from a wait's events and
// its heartbeat at once, hence the lock.
type printer struct {
	mu  sync.Mutex
	out io.Writer
	n   int
}

func (p *printer) step(title string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	fmt.Fprintf(p.out, "\n==> %d. %s\n", p.n, title)
}

func (p *printer) kv(key string, v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, "    %-15s %v\n", key+":", v)
}

// heartbeat prints msg() every interval until stop is called, so that a
// restart of minutes on the real cloud does not leave the screen still
// between two status changes. every <= 0 prints nothing.
func (p *printer) heartbeat(every time.Duration, msg func() string) (stop func()) {
	if every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.kv("waiting", msg())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// elapsed is the time since start for a progress line: milliseconds under
// a second (the fake), tenths of a second above (the cloud).
func elapsed(start time.Time) string {
	d := time.Since(start)
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}
