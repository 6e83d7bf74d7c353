package testrig

import (
	"sync"
	"testing"
	"time"
)

// arrivals records what a fake server receives, in order, and lets a test
// wait for the next one without sleeping.
type arrivals[T any] struct {
	mu      sync.Mutex // guards the fields below
	items   []T
	next    int           // the item Next returns next
	changed chan struct{} // closed and replaced on every add
}

func (a *arrivals[T]) add(x T) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.items = append(a.items, x)
	if a.changed != nil {
		close(a.changed)
	}
	a.changed = make(chan struct{})
}

func (a *arrivals[T]) all() []T {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]T(nil), a.items...)
}

// wait returns the item after the one it last returned, waiting at most d,
// and fails the test with "no <what> within d" if none comes.
func (a *arrivals[T]) wait(t testing.TB, d time.Duration, what string) T {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		a.mu.Lock()
		if a.next < len(a.items) {
			x := a.items[a.next]
			a.next++
			a.mu.Unlock()
			return x
		}
		if a.changed == nil {
			a.changed = make(chan struct{})
		}
		changed := a.changed
		a.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("no %s within %s", what, d)
		}
	}
}
