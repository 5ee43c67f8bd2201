package lane

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

// A FAIR_SHARE lane of 3 slots: alice submits twelve 30 ms jobs, then bob
// and carol three each. Every job blocks until the test releases it, on a
// ManualClock the test moves, so each job lasts exactly 30 ms of lane time
// however loaded the machine is and the start order is the scheduler's.
func TestFairShareNewcomersStartBeforeAlicesFourthRound(t *testing.T) {
	clock := NewManualClock(time.Unix(1_700_000_000, 0))
	l := newLane(t, WithMaxConcurrent(3), WithPolicy(FairShare), WithClock(clock))

	type job struct {
		id      string
		index   int
		release chan struct{}
		done    chan struct{}
		endsAt  time.Time
	}
	var (
		mu      sync.Mutex
		order   []byte
		started = make(chan *job, 32)
		jobs    []*job
	)
	add := func(tenant string, n int) {
		for i := 0; i < n; i++ {
			j := &job{id: fmt.Sprintf("%c%d", tenant[0], i), index: len(jobs),
				release: make(chan struct{}), done: make(chan struct{})}
			jobs = append(jobs, j)
			_, err := l.Submit(context.Background(), Job{
				ID:     j.id,
				Tenant: tenant,
				Run: func(ctx context.Context) error {
					mu.Lock()
					order = append(order, j.id[0])
					mu.Unlock()
					started <- j
					select {
					case <-j.release:
					case <-ctx.Done():
					}
					return nil
				},
				OnDone: func(error) { close(j.done) },
			})
			if err != nil {
				t.Fatalf("submit %s: %v", j.id, err)
			}
		}
	}
	add("alice", 12)
	add("bob", 3)
	add("carol", 3)

	var running []*job
	take := func() {
		select {
		case j := <-started:
			j.endsAt = clock.Now().Add(30 * time.Millisecond)
			running = append(running, j)
		case <-time.After(10 * time.Second):
			t.Fatal("no job started")
		}
	}
	for i := 0; i < 3; i++ {
		take()
	}
	for finished := 0; finished < len(jobs); finished++ {
		sort.Slice(running, func(a, b int) bool {
			if !running[a].endsAt.Equal(running[b].endsAt) {
				return running[a].endsAt.Before(running[b].endsAt)
			}
			return running[a].index < running[b].index
		})
		j := running[0]
		running = running[1:]
		if j.endsAt.After(clock.Now()) {
			clock.Set(j.endsAt)
		}
		close(j.release)
		select {
		case <-j.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never ended", j.id)
		}
		if finished+3 < len(jobs) {
			take()
		}
	}
	mu.Lock()
	got := string(order)
	mu.Unlock()
	if got != "aaabcbcbcaaaaaaaaa" {
		t.Fatalf("start order %s, want aaabcbcbcaaaaaaaaa", got)
	}
}

func TestManualClockMovesOnlyWhenTold(t *testing.T) {
	at := time.Unix(1_800_000_000, 5)
	c := NewManualClock(at)
	if !c.Now().Equal(at) {
		t.Fatalf("Now %v, want %v", c.Now(), at)
	}
	c.Advance(time.Second)
	if !c.Now().Equal(at.Add(time.Second)) {
		t.Fatalf("Now %v after Advance", c.Now())
	}
}
