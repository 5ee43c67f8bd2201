package lane

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newSession makes a session over l with debounce off (tests that want it
// pass WithDebounce after), closed at the end of the test.
func newSession(t testing.TB, l *Lane, opts ...SessionOption) *Session {
	t.Helper()
	s, err := NewSession(l, t.Name(), append([]SessionOption{WithDebounce(0)}, opts...)...)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func gateRun(g *gate) func(context.Context, *Run) error {
	return func(ctx context.Context, _ *Run) error { return g.run(ctx) }
}

func noopRun(context.Context, *Run) error { return nil }

func mustEnqueue(t testing.TB, s *Session, m Message) *Pending {
	t.Helper()
	p, err := s.Enqueue(context.Background(), m)
	if err != nil {
		t.Fatalf("Enqueue(%s): %v", m.ID, err)
	}
	return p
}

// result waits (bounded) for a pending message's outcome.
func (p *Pending) result(t testing.TB) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		t.Fatalf("message %s: no outcome", p.ID())
	}
	return err
}

// recorder notes what each run saw.
type recorder struct {
	mu      sync.Mutex
	batches [][]string
	dropped [][]string
	active  int
	peak    int
}

func (rc *recorder) run(body func(ctx context.Context, r *Run) error) func(context.Context, *Run) error {
	return func(ctx context.Context, r *Run) error {
		ids := []string{}
		for _, it := range r.Batch() {
			ids = append(ids, it.ID)
		}
		rc.mu.Lock()
		rc.batches = append(rc.batches, ids)
		rc.dropped = append(rc.dropped, r.Dropped())
		rc.active++
		if rc.active > rc.peak {
			rc.peak = rc.active
		}
		rc.mu.Unlock()
		defer func() {
			rc.mu.Lock()
			rc.active--
			rc.mu.Unlock()
		}()
		if body == nil {
			return nil
		}
		return body(ctx, r)
	}
}

func (rc *recorder) snapshot() (batches, dropped [][]string, peak int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]string(nil), rc.batches...), append([][]string(nil), rc.dropped...), rc.peak
}

func TestSessionQueueCapDropsTheOldest(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(2))
	s := newSession(t, l, WithCap(2))
	g := newGate()
	run := mustEnqueue(t, s, Message{ID: "run", Run: gateRun(g)})
	g.waitStarted(t)
	q1 := mustEnqueue(t, s, Message{ID: "q1", Run: noopRun})
	q2 := mustEnqueue(t, s, Message{ID: "q2", Run: noopRun})
	q3 := mustEnqueue(t, s, Message{ID: "q3", Run: noopRun})
	wantIs(t, q1.result(t), ErrDropped)
	if n := s.Queued(); n != 2 {
		t.Fatalf("Queued = %d, want 2", n)
	}
	g.open()
	for _, p := range []*Pending{run, q2, q3} {
		if err := p.result(t); err != nil {
			t.Fatalf("%s: %v", p.ID(), err)
		}
	}
	var le *Error
	if !errors.As(q1.Err(), &le) || le.Status != StatusDropped || le.Op != "message" {
		t.Fatalf("q1 error %#v", q1.Err())
	}
}

func TestSessionDropNewRefusesAndTheIDIsFreeLater(t *testing.T) {
	l := newLane(t)
	s := newSession(t, l, WithCap(1), WithDrop(DropNew))
	g := newGate()
	run := mustEnqueue(t, s, Message{ID: "run", Run: gateRun(g)})
	g.waitStarted(t)
	q1 := mustEnqueue(t, s, Message{ID: "q1", Run: noopRun})
	_, err := s.Enqueue(context.Background(), Message{ID: "q2", Run: noopRun})
	wantIs(t, err, ErrQueueFull)
	_, err = s.Enqueue(context.Background(), Message{ID: "q1", Run: noopRun})
	wantIs(t, err, ErrDuplicate)
	g.open()
	if err := run.result(t); err != nil {
		t.Fatal(err)
	}
	if err := q1.result(t); err != nil {
		t.Fatal(err)
	}
	q2 := mustEnqueue(t, s, Message{ID: "q2", Run: noopRun})
	if err := q2.result(t); err != nil {
		t.Fatal(err)
	}
}

func TestSessionDropSummarizeHandsTheDroppedIDsToTheNextRun(t *testing.T) {
	l := newLane(t)
	s := newSession(t, l, WithCap(1), WithDrop(DropSummarize))
	var rc recorder
	g := newGate()
	mustEnqueue(t, s, Message{ID: "run", Run: rc.run(func(ctx context.Context, _ *Run) error { return g.run(ctx) })})
	g.waitStarted(t)
	d1 := mustEnqueue(t, s, Message{ID: "d1", Run: rc.run(nil)})
	d2 := mustEnqueue(t, s, Message{ID: "d2", Run: rc.run(nil)})
	d3 := mustEnqueue(t, s, Message{ID: "d3", Run: rc.run(nil)})
	wantIs(t, d1.result(t), ErrDropped)
	wantIs(t, d2.result(t), ErrDropped)
	g.open()
	if err := d3.result(t); err != nil {
		t.Fatal(err)
	}
	d4 := mustEnqueue(t, s, Message{ID: "d4", Run: rc.run(nil)})
	if err := d4.result(t); err != nil {
		t.Fatal(err)
	}
	batches, dropped, _ := rc.snapshot()
	want := [][]string{{"run"}, {"d3"}, {"d4"}}
	if !reflect.DeepEqual(batches, want) {
		t.Fatalf("batches %v, want %v", batches, want)
	}
	if !reflect.DeepEqual(dropped, [][]string{nil, {"d1", "d2"}, nil}) {
		t.Fatalf("dropped %q", dropped)
	}
}

func TestSessionFollowupRunsOneAfterAnother(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(4))
	s := newSession(t, l, WithMode(ModeFollowup), WithSessionMaxConcurrent(4))
	var rc recorder
	body := rc.run(func(context.Context, *Run) error { time.Sleep(5 * time.Millisecond); return nil })
	var ps []*Pending
	for i := 0; i < 6; i++ {
		ps = append(ps, mustEnqueue(t, s, Message{ID: fmt.Sprint("f", i), Run: body}))
	}
	for _, p := range ps {
		if err := p.result(t); err != nil {
			t.Fatal(err)
		}
	}
	batches, _, peak := rc.snapshot()
	if peak != 1 {
		t.Fatalf("peak %d runs at once, want 1", peak)
	}
	for i, b := range batches {
		if want := []string{fmt.Sprint("f", i)}; !reflect.DeepEqual(b, want) {
			t.Fatalf("run %d carried %v, want %v (FIFO)", i, b, want)
		}
	}
}

func TestSessionQueueRunsUpToMaxConcurrent(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(4))
	s := newSession(t, l, WithSessionMaxConcurrent(2), WithCap(10))
	g := newGate()
	var ps []*Pending
	for i := 0; i < 4; i++ {
		ps = append(ps, mustEnqueue(t, s, Message{ID: fmt.Sprint("m", i), Run: gateRun(g)}))
	}
	g.waitStarted(t)
	g.waitStarted(t)
	waitFor(t, "2 active, 2 queued", func() bool { return s.Active() == 2 && s.Queued() == 2 })
	if err := s.SetMaxConcurrent(3); err != nil {
		t.Fatal(err)
	}
	g.waitStarted(t)
	g.open()
	for _, p := range ps {
		if err := p.result(t); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetMaxConcurrent(0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("SetMaxConcurrent(0) = %v", err)
	}
}

func TestSessionCollectMergesAndEveryItemGetsTheRunsOutcome(t *testing.T) {
	l := newLane(t)
	s := newSession(t, l, WithMode(ModeCollect))
	g := newGate()
	first := mustEnqueue(t, s, Message{ID: "m0", Value: "hello", Run: gateRun(g)})
	g.waitStarted(t)
	boom := errors.New("model said no")
	var mu sync.Mutex
	var seen []Item
	collect := func(ctx context.Context, r *Run) error {
		mu.Lock()
		seen = r.Batch()
		mu.Unlock()
		return boom
	}
	var ps []*Pending
	for i := 1; i <= 3; i++ {
		ps = append(ps, mustEnqueue(t, s, Message{ID: fmt.Sprint("m", i), Value: i * 10, Run: collect}))
	}
	waitFor(t, "3 queued", func() bool { return s.Queued() == 3 })
	g.open()
	if err := first.result(t); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if err := p.result(t); err != boom {
			t.Fatalf("%s: %v, want the run's own error", p.ID(), err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []Item{{"m1", 10}, {"m2", 20}, {"m3", 30}}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("batch %v, want %v", seen, want)
	}
}

func TestSessionCollectRunCostsItsMessagesAndTakesTheirMostSlots(t *testing.T) {
	for _, limited := range []bool{false, true} {
		t.Run(fmt.Sprint("limited=", limited), func(t *testing.T) {
			l := newLane(t, WithMaxConcurrent(4))
			if limited {
				// Burst 5: the merged 3 + 4 is capped there, not refused.
				if err := l.SetRateLimit(RateCost, 1000, time.Second, 5); err != nil {
					t.Fatal(err)
				}
			}
			s := newSession(t, l, WithMode(ModeCollect))
			g := newGate()
			first := mustEnqueue(t, s, Message{ID: "m0", Run: gateRun(g)}) // no cost: counts 1
			g.waitStarted(t)
			var slots atomic.Int64
			merged := func(ctx context.Context, r *Run) error {
				slots.Store(int64(l.Stats().SlotsInUse))
				return nil
			}
			ps := []*Pending{
				mustEnqueue(t, s, Message{ID: "m1", Cost: 3, Run: merged}),
				mustEnqueue(t, s, Message{ID: "m2", Cost: 4, Slots: 2, Run: merged}),
				mustEnqueue(t, s, Message{ID: "m3", Run: merged}),
			}
			waitFor(t, "3 queued", func() bool { return s.Queued() == 3 })
			g.open()
			for _, p := range append(ps, first) {
				if err := p.result(t); err != nil {
					t.Fatalf("%s: %v", p.ID(), err)
				}
			}
			want := int64(1 + 7)
			if limited {
				want = 1 + 5
			}
			if got := l.Stats().CostUsed; got != want || slots.Load() != 2 {
				t.Fatalf("cost used %d (want %d), slots held by the merged run %d (want 2)", got, want, slots.Load())
			}
		})
	}
}

func TestSessionMessageBudgetsAreChecked(t *testing.T) {
	s := newSession(t, newLane(t), WithMode(ModeQueue))
	for name, m := range map[string]Message{
		"negative cost":        {ID: "c", Cost: -1, Run: noopRun},
		"negative run timeout": {ID: "r", RunTimeout: -time.Second, Run: noopRun},
	} {
		if _, err := s.Enqueue(context.Background(), m); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestSessionInterruptCancelsTheActiveRunAndEndsTheQueued(t *testing.T) {
	l := newLane(t)
	s := newSession(t, l, WithMode(ModeInterrupt))
	ga, gb := newGate(), newGate()
	a := mustEnqueue(t, s, Message{ID: "a", Run: gateRun(ga)})
	ga.waitStarted(t)
	b := mustEnqueue(t, s, Message{ID: "b", Run: gateRun(gb)})
	c := mustEnqueue(t, s, Message{ID: "c", Run: noopRun})
	wantIs(t, a.result(t), ErrCancelled)
	if ga.seenCause() != ErrCancelled {
		t.Fatalf("a's cause %v", ga.seenCause())
	}
	wantIs(t, b.result(t), ErrCancelled) // queued or, if it had started, cancelled by c
	if err := c.result(t); err != nil {
		t.Fatal(err)
	}
}

func TestSessionSteerDeliversIntoTheMailbox(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(2))
	s := newSession(t, l, WithMode(ModeSteer))
	started := make(chan struct{})
	leave := make(chan struct{})
	var mu sync.Mutex
	var took []Item
	steer := func(ctx context.Context, r *Run) error {
		close(started)
		for {
			mu.Lock()
			n := len(took)
			mu.Unlock()
			if n == 2 {
				break
			}
			if it, ok := r.NextMessage(); ok {
				mu.Lock()
				took = append(took, it)
				mu.Unlock()
				continue
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
		<-leave
		return nil
	}
	var lateRan atomic.Int32
	late := func(ctx context.Context, r *Run) error {
		lateRan.Add(1)
		if b := r.Batch(); len(b) != 1 || b[0].ID != "s3" {
			return fmt.Errorf("late run's batch %v", b)
		}
		return nil
	}
	s0 := mustEnqueue(t, s, Message{ID: "s0", Steerable: true, Run: steer})
	<-started
	s1 := mustEnqueue(t, s, Message{ID: "s1", Value: "left", Run: late})
	s2 := mustEnqueue(t, s, Message{ID: "s2", Value: "right", Run: late})
	waitFor(t, "two taken", func() bool { mu.Lock(); defer mu.Unlock(); return len(took) == 2 })
	if q := s.Queued(); q != 0 {
		t.Fatalf("Queued = %d: mailbox messages are not queued", q)
	}
	// Left in the mailbox when the run ends: queued again, runs on its own.
	s3 := mustEnqueue(t, s, Message{ID: "s3", Run: late})
	close(leave)
	for _, p := range []*Pending{s0, s1, s2, s3} {
		if err := p.result(t); err != nil {
			t.Fatalf("%s: %v", p.ID(), err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []Item{{"s1", "left"}, {"s2", "right"}}; !reflect.DeepEqual(took, want) {
		t.Fatalf("took %v, want %v", took, want)
	}
	if n := lateRan.Load(); n != 1 {
		t.Fatalf("the late Run ran %d times, want 1 (s3 only)", n)
	}
}

func TestSessionCancelAllMakesNeverStartedMessagesStale(t *testing.T) {
	l := newLane(t)
	s := newSession(t, l)
	g := newGate()
	run := mustEnqueue(t, s, Message{ID: "run", Run: gateRun(g)})
	g.waitStarted(t)
	q1 := mustEnqueue(t, s, Message{ID: "q1", Run: noopRun})
	q2 := mustEnqueue(t, s, Message{ID: "q2", Run: noopRun})
	if n := s.CancelAll(); n != 1 {
		t.Fatalf("CancelAll = %d, want 1 run", n)
	}
	wantIs(t, q1.result(t), ErrStale)
	wantIs(t, q2.result(t), ErrStale)
	wantIs(t, run.result(t), ErrCancelled)
	if g.seenCause() != ErrCancelled {
		t.Fatalf("cause %v", g.seenCause())
	}
	if s.CancelOne() {
		t.Fatal("CancelOne with nothing active reported a run")
	}
	after := mustEnqueue(t, s, Message{ID: "after", Run: noopRun})
	if err := after.result(t); err != nil {
		t.Fatal(err)
	}
}

func TestSessionCancelOneCancelsTheOldestRun(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(2))
	s := newSession(t, l, WithSessionMaxConcurrent(2))
	g1, g2 := newGate(), newGate()
	p1 := mustEnqueue(t, s, Message{ID: "p1", Run: gateRun(g1)})
	g1.waitStarted(t)
	p2 := mustEnqueue(t, s, Message{ID: "p2", Run: gateRun(g2)})
	g2.waitStarted(t)
	if !s.CancelOne() {
		t.Fatal("CancelOne found no run")
	}
	wantIs(t, p1.result(t), ErrCancelled)
	g2.open()
	if err := p2.result(t); err != nil {
		t.Fatal(err)
	}
}

func TestSessionResetClearsTheQueue(t *testing.T) {
	l := newLane(t)
	s := newSession(t, l)
	g := newGate()
	run := mustEnqueue(t, s, Message{ID: "run", Run: gateRun(g)})
	g.waitStarted(t)
	q1 := mustEnqueue(t, s, Message{ID: "q1", Run: noopRun})
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	wantIs(t, q1.result(t), ErrCleared)
	if a := s.Active(); a != 0 {
		t.Fatalf("Active = %d after Reset: the old generation still counts", a)
	}
	g.open()
	if err := run.result(t); err != nil {
		t.Fatalf("the old generation's run: %v", err)
	}
}

func TestSessionDebounceWaitsForQuiet(t *testing.T) {
	l := newLane(t)
	const quiet = 150 * time.Millisecond
	s := newSession(t, l, WithMode(ModeCollect), WithDebounce(quiet))
	var mu sync.Mutex
	var startedAt time.Time
	var batch []Item
	run := func(ctx context.Context, r *Run) error {
		mu.Lock()
		startedAt, batch = time.Now(), r.Batch()
		mu.Unlock()
		return nil
	}
	var ps []*Pending
	var last time.Time
	for i := 0; i < 3; i++ {
		if i > 0 {
			time.Sleep(quiet / 5)
		}
		ps = append(ps, mustEnqueue(t, s, Message{ID: fmt.Sprint("m", i), Run: run}))
		last = time.Now()
	}
	for _, p := range ps {
		if err := p.result(t); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(batch) != 3 {
		t.Fatalf("batch %v: the debounce should have merged all three", batch)
	}
	if d := startedAt.Sub(last); d < quiet-10*time.Millisecond {
		t.Fatalf("the run started %v after the last message, want at least about %v", d, quiet)
	}
}

func TestSessionDebounceDefaultIs800ms(t *testing.T) {
	l := newLane(t)
	s, err := NewSession(l, "default-debounce")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	began := time.Now()
	var ranAt atomic.Int64
	p := mustEnqueue(t, s, Message{ID: "m", Run: func(context.Context, *Run) error {
		ranAt.Store(int64(time.Since(began)))
		return nil
	}})
	if err := p.result(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(ranAt.Load()); d < 700*time.Millisecond {
		t.Fatalf("ran after %v, want about 800 ms or more", d)
	}
}

func TestSessionThrottleSerialisesNearTheWindow(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(3))
	s := newSession(t, l, WithSessionMaxConcurrent(3), WithThrottle(0.5))
	if err := s.SetTokens(80, 100); err != nil {
		t.Fatal(err)
	}
	var rc recorder
	body := rc.run(func(context.Context, *Run) error { time.Sleep(10 * time.Millisecond); return nil })
	var ps []*Pending
	for i := 0; i < 5; i++ {
		ps = append(ps, mustEnqueue(t, s, Message{ID: fmt.Sprint("hot", i), Run: body}))
	}
	for _, p := range ps {
		if err := p.result(t); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, peak := rc.snapshot(); peak != 1 {
		t.Fatalf("peak %d runs at 80%% of the window, want 1", peak)
	}
	// Held back while hot; below the ratio the held-back runs start at
	// once, while the first still runs.
	g := newGate()
	ps = ps[:0]
	for i := 0; i < 3; i++ {
		ps = append(ps, mustEnqueue(t, s, Message{ID: fmt.Sprint("cool", i), Run: gateRun(g)}))
	}
	g.waitStarted(t)
	time.Sleep(20 * time.Millisecond)
	if a, q := s.Active(), s.Queued(); a != 1 || q != 2 {
		t.Fatalf("throttled: %d active, %d queued; want 1 and 2", a, q)
	}
	if err := s.SetTokens(10, 100); err != nil {
		t.Fatal(err)
	}
	g.waitStarted(t)
	g.waitStarted(t)
	g.open()
	for _, p := range ps {
		if err := p.result(t); err != nil {
			t.Fatal(err)
		}
	}
	plain := newSessionNamed(t, l, "plain")
	wantIs(t, plain.SetTokens(1, 2), ErrInvalid)
}

func newSessionNamed(t testing.TB, l *Lane, key string, opts ...SessionOption) *Session {
	t.Helper()
	s, err := NewSession(l, key, append([]SessionOption{WithDebounce(0)}, opts...)...)
	if err != nil {
		t.Fatalf("NewSession(%s): %v", key, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSessionCloseWithWorkOutstanding(t *testing.T) {
	l := newLane(t)
	s, err := NewSession(l, "closing", WithDebounce(0))
	if err != nil {
		t.Fatal(err)
	}
	g := newGate()
	run := mustEnqueue(t, s, Message{ID: "run", Run: gateRun(g)})
	g.waitStarted(t)
	q := mustEnqueue(t, s, Message{ID: "q", Run: noopRun})
	var onDone atomic.Int32
	q2 := mustEnqueue(t, s, Message{ID: "q2", Run: noopRun, OnDone: func(error) { onDone.Add(1) }})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ { // concurrent Close calls both return once it is gone
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Close() }()
	}
	wg.Wait()
	// Close returned: every outcome is delivered, OnDone included.
	select {
	case <-run.Done():
	default:
		t.Fatal("Close returned before the run's outcome")
	}
	wantIs(t, run.Err(), ErrCancelled)
	wantIs(t, q.Err(), ErrCancelled)
	wantIs(t, q2.Err(), ErrCancelled)
	if onDone.Load() != 1 {
		t.Fatalf("OnDone called %d times", onDone.Load())
	}
	_, err = s.Enqueue(context.Background(), Message{ID: "late", Run: noopRun})
	wantIs(t, err, ErrClosed)
	wantIs(t, s.Reset(), ErrClosed)
	if s.Active() != 0 || s.Queued() != 0 || s.CancelOne() || s.CancelAll() != 0 {
		t.Fatal("a closed session reports work")
	}
}

func TestLaneCloseClosesItsSessions(t *testing.T) {
	l, err := New("lane-with-sessions")
	if err != nil {
		t.Fatal(err)
	}
	s1, err := NewSession(l, "one", WithDebounce(0))
	if err != nil {
		t.Fatal(err)
	}
	s2, err := NewSession(l, "two") // default debounce: its message is still waiting
	if err != nil {
		t.Fatal(err)
	}
	g := newGate()
	run := mustEnqueue(t, s1, Message{ID: "run", Run: gateRun(g)})
	g.waitStarted(t)
	waiting := mustEnqueue(t, s2, Message{ID: "waiting", Run: noopRun})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wantIs(t, run.Err(), ErrClosed)
	if err := waiting.Err(); !errors.Is(err, ErrCancelled) && !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting: %v", err)
	}
	_, err = s1.Enqueue(context.Background(), Message{ID: "x", Run: noopRun})
	wantIs(t, err, ErrClosed)
	_, err = NewSession(l, "three")
	wantIs(t, err, ErrClosed)
	_ = s2.Close() // already closed by the lane: a no-op
}

func TestLaneShutdownDrainsSessions(t *testing.T) {
	l, err := New("drain-sessions")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(l, "drain", WithDebounce(0), WithMode(ModeFollowup))
	if err != nil {
		t.Fatal(err)
	}
	var ps []*Pending
	for i := 0; i < 3; i++ {
		ps = append(ps, mustEnqueue(t, s, Message{ID: fmt.Sprint("d", i), Run: func(context.Context, *Run) error {
			time.Sleep(5 * time.Millisecond)
			return nil
		}}))
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The first was in the lane and ran; the others either ran or were
	// refused by the closed lane.
	if err := ps[0].Err(); err != nil {
		t.Fatalf("d0: %v", err)
	}
	for _, p := range ps[1:] {
		if err := p.Err(); err != nil && !errors.Is(err, ErrClosed) {
			t.Fatalf("%s: %v", p.ID(), err)
		}
	}
}

func TestSessionPanicAndBadInput(t *testing.T) {
	l := newLane(t)
	s := newSession(t, l, WithMode(ModeCollect))
	p := mustEnqueue(t, s, Message{ID: "p", Run: func(context.Context, *Run) error { panic("oops") }})
	err := p.result(t)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.JobID != "p" || !errors.Is(err, ErrJobFailed) {
		t.Fatalf("panic outcome %v", err)
	}
	for _, m := range []Message{{Run: noopRun}, {ID: "norun"}, {ID: "neg", Run: noopRun, MaxWait: -1}} {
		if _, err := s.Enqueue(context.Background(), m); !errors.Is(err, ErrInvalid) {
			t.Fatalf("Enqueue(%+v) = %v", m, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Enqueue(ctx, Message{ID: "c", Run: noopRun}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Enqueue with a done ctx = %v", err)
	}
	for _, o := range []SessionOption{WithMode(9), WithCap(0), WithDrop(-1), WithDebounce(-1),
		WithSessionMaxConcurrent(0), WithThrottle(0)} {
		if _, err := NewSession(l, "bad", o); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad option: %v", err)
		}
	}
	if _, err := NewSession(l, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty key: %v", err)
	}
	if s.Key() != t.Name() || s.Lane() != l {
		t.Fatal("Key or Lane")
	}
}

func TestSessionEnqueueWaitAndContextValues(t *testing.T) {
	l := newLane(t)
	s := newSession(t, l)
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	err := s.EnqueueWait(ctx, Message{ID: "w", Run: func(ctx context.Context, _ *Run) error {
		if ctx.Value(key{}) != "v" {
			return errors.New("the caller's value is missing")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	g := newGate()
	defer g.open()
	wctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.EnqueueWait(wctx, Message{ID: "slow", Run: gateRun(g)}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("EnqueueWait past its ctx = %v", err)
	}
}

// Many messages across several sessions of one lane, with cancels and
// resets thrown in: every accepted message gets exactly one outcome, a
// message that ended nil was carried by exactly one run, and nothing is
// left behind (TestMain checks handles and goroutines).
func TestSessionConcurrentExactlyOnce(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(3), WithPolicy(FairShare))
	modes := []SessionMode{ModeQueue, ModeFollowup, ModeCollect, ModeSteer, ModeInterrupt}
	type tally struct {
		outcomes atomic.Int32
		carried  atomic.Int32
		err      atomic.Value
	}
	var mu sync.Mutex
	tallies := map[string]*tally{}
	carry := func(id string) {
		mu.Lock()
		tl := tallies[id]
		mu.Unlock()
		tl.carried.Add(1)
	}
	run := func(ctx context.Context, r *Run) error {
		for _, it := range r.Batch() {
			carry(it.ID)
		}
		for i := 0; i < 3; i++ {
			if it, ok := r.NextMessage(); ok {
				carry(it.ID)
			}
			time.Sleep(100 * time.Microsecond)
		}
		return nil
	}
	var sessions []*Session
	for i, m := range modes {
		sessions = append(sessions, newSessionNamed(t, l, fmt.Sprint("conc-", i), WithMode(m),
			WithCap(8), WithDrop(Drop(i%3)), WithSessionMaxConcurrent(2)))
	}
	const perWorker = 150
	var wg sync.WaitGroup
	var accepted atomic.Int32
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := sessions[w%len(sessions)]
			for i := 0; i < perWorker; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				tl := &tally{}
				mu.Lock()
				tallies[id] = tl
				mu.Unlock()
				_, err := s.Enqueue(context.Background(), Message{ID: id, Tenant: fmt.Sprint("t", w%2),
					Steerable: i%2 == 0, Run: run, OnDone: func(err error) {
						if err != nil {
							tl.err.Store(err)
						}
						tl.outcomes.Add(1)
					}})
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, ErrQueueFull):
					mu.Lock()
					delete(tallies, id)
					mu.Unlock()
				default:
					t.Errorf("Enqueue(%s): %v", id, err)
					return
				}
				time.Sleep(200 * time.Microsecond) // let runs keep up, so that many run
				switch i % 50 {
				case 17:
					s.CancelAll()
				case 33:
					_ = s.Reset()
				case 41:
					s.CancelOne()
				}
			}
		}(w)
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, s := range sessions {
		if err := s.WaitIdle(ctx); err != nil {
			t.Fatalf("session %s never idle: %v", s.Key(), err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if int(accepted.Load()) != len(tallies) {
		t.Fatalf("accepted %d, tallied %d", accepted.Load(), len(tallies))
	}
	ok := 0
	for id, tl := range tallies {
		if n := tl.outcomes.Load(); n != 1 {
			t.Fatalf("%s: %d outcomes", id, n)
		}
		e, _ := tl.err.Load().(error)
		c := tl.carried.Load()
		switch {
		case e == nil:
			ok++
			if c != 1 {
				t.Fatalf("%s ended nil but was carried %d times", id, c)
			}
		case errors.Is(e, ErrDropped), errors.Is(e, ErrStale), errors.Is(e, ErrCleared):
			if c != 0 {
				t.Fatalf("%s ended %v but was carried by a run", id, e)
			}
		case errors.Is(e, ErrCancelled):
		default:
			t.Fatalf("%s: unexpected outcome %v", id, e)
		}
	}
	if ok == 0 {
		t.Fatal("no message ran")
	}
	kinds := map[string]int{}
	for _, tl := range tallies {
		e, _ := tl.err.Load().(error)
		var le *Error
		if errors.As(e, &le) {
			kinds[le.Status.String()]++
		} else {
			kinds["ok"]++
		}
	}
	t.Logf("%d accepted: %v", len(tallies), kinds)
}

func TestSessionRunsShareTheLane(t *testing.T) {
	l := newLane(t, WithPreemptMinRuntime(0))
	s := newSession(t, l)
	lg := newGate()
	job := newOutcome()
	mustSubmit(t, l, Job{ID: "lane-job", Run: lg.run, OnDone: job.onDone})
	lg.waitStarted(t)

	// A run waiting in the lane that CancelAll reaches never started: stale.
	waiting := mustEnqueue(t, s, Message{ID: "waiting", Run: noopRun})
	waitFor(t, "the run to wait in the lane", func() bool { return s.Active() == 1 && l.Stats().Queued == 1 })
	if n := s.CancelAll(); n != 1 {
		t.Fatalf("CancelAll = %d", n)
	}
	wantIs(t, waiting.result(t), ErrStale)

	// The first message's QueueTimeout and MaxWait apply to its run.
	timed := mustEnqueue(t, s, Message{ID: "timed", QueueTimeout: 20 * time.Millisecond, Run: noopRun})
	wantIs(t, timed.result(t), ErrTimeout)
	busy := mustEnqueue(t, s, Message{ID: "busy", MaxWait: time.Nanosecond, Run: noopRun})
	wantIs(t, busy.result(t), ErrBusy)
	lg.open()
	if err := job.wait(t); err != nil {
		t.Fatal(err)
	}

	// A preemptible run gives way to a higher-priority lane job.
	g := newGate()
	victim := mustEnqueue(t, s, Message{ID: "victim", Preemptible: true, Run: gateRun(g)})
	g.waitStarted(t)
	urgent := newOutcome()
	mustSubmit(t, l, Job{ID: "urgent", Priority: 10, Run: noop, OnDone: urgent.onDone})
	wantIs(t, victim.result(t), ErrPreempted)
	if g.seenCause() != ErrPreempted {
		t.Fatalf("cause %v", g.seenCause())
	}
	if err := urgent.wait(t); err != nil {
		t.Fatal(err)
	}
}

func TestSessionOnARegistryLane(t *testing.T) {
	reg := newRegistry(t)
	l, err := reg.Lane("sessions")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(l, "chat-1", WithDebounce(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueWait(context.Background(), Message{ID: "hi", Run: noopRun}); err != nil {
		t.Fatal(err)
	}
	// A lane with a session is not idle: the registry keeps it.
	wantIs(t, reg.Remove("sessions"), ErrBusy)
	g := newGate()
	p := mustEnqueue(t, s, Message{ID: "long", Run: gateRun(g)})
	g.waitStarted(t)
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	wantIs(t, p.Err(), ErrCancelled)
	_, err = s.Enqueue(context.Background(), Message{ID: "late", Run: noopRun})
	wantIs(t, err, ErrClosed)
}

func TestSessionRunRefusedByTheLaneEndsItsMessages(t *testing.T) {
	l := newLane(t, WithMaxQueued(1))
	s := newSession(t, l)
	g := newGate()
	first, second := newOutcome(), newOutcome()
	mustSubmit(t, l, Job{ID: "running", Run: g.run, OnDone: first.onDone})
	g.waitStarted(t)
	mustSubmit(t, l, Job{ID: "queued", Run: noop, OnDone: second.onDone})
	p := mustEnqueue(t, s, Message{ID: "m", Run: noopRun}) // accepted by the session...
	wantIs(t, p.result(t), ErrQueueFull)                   // ...its run refused by the lane
	g.open()
	if first.wait(t) != nil || second.wait(t) != nil {
		t.Fatal("lane jobs failed")
	}
	again := mustEnqueue(t, s, Message{ID: "m", Run: noopRun})
	if err := again.result(t); err != nil {
		t.Fatal(err)
	}
}
