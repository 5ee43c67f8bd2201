package lane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRateLimitHoldsTheQueueFrontAndCountsItsWaits(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(4))
	// Two requests at once, then one every 1000 s: the third waits.
	if err := l.SetRateLimit(RateRequests, 1, 1000*time.Second, 2); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2"} {
		if pos, _ := mustSubmit(t, l, Job{ID: id, Run: noop}); pos != 0 {
			t.Fatalf("%s: position %d, want 0", id, pos)
		}
	}
	tk, err := l.Submit(context.Background(), Job{ID: "r3", Run: noop})
	if err != nil {
		t.Fatal(err)
	}
	if tk.BlockedBy != BlockedRate || tk.ETA < 900*time.Second {
		t.Fatalf("r3: blocked by %v, ETA %v; want BlockedRate and about 1000 s", tk.BlockedBy, tk.ETA)
	}
	// MaxWait refuses what the limit would hold too long.
	_, err = l.Submit(context.Background(), Job{ID: "r4", Run: noop, MaxWait: time.Second})
	wantIs(t, err, ErrBusy)
	waitFor(t, "r1 and r2 to finish", func() bool { return l.Stats().Completed == 2 })
	s := l.Stats()
	if s.RateWaits != 1 || s.RateReadyAt.IsZero() || s.BlockedBy != BlockedRate {
		t.Fatalf("stats: %+v", s)
	}
	// Off again: r3 runs.
	if err := l.SetRateLimit(RateRequests, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := tk.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkInvariant(t, l.Stats())
}

func TestTenantAtItsLimitDoesNotBlockOthers(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(4), WithPolicy(FIFO))
	if err := l.SetTenantLimit("alice", 1); err != nil {
		t.Fatal(err)
	}
	a1, a2, b1 := newGate(), newGate(), newGate()
	mustSubmit(t, l, Job{ID: "a1", Tenant: "alice", Run: a1.run})
	a1.waitStarted(t)
	tk, err := l.Submit(context.Background(), Job{ID: "a2", Tenant: "alice", Run: a2.run})
	if err != nil {
		t.Fatal(err)
	}
	if tk.BlockedBy != BlockedTenantLimit {
		t.Fatalf("a2 blocked by %v, want BlockedTenantLimit", tk.BlockedBy)
	}
	if pos, _ := mustSubmit(t, l, Job{ID: "b1", Tenant: "bob", Run: b1.run}); pos != 0 {
		t.Fatalf("b1 waits (position %d) behind alice's limit", pos)
	}
	b1.waitStarted(t)
	if n, err := l.TenantRunning("alice"); err != nil || n != 1 {
		t.Fatalf("TenantRunning(alice) = %d, %v; want 1", n, err)
	}
	a1.open()
	a2.waitStarted(t)
	a2.open()
	b1.open()
	if err := tk.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestAJobOfTwoSlotsWaitsForTwoFreeSlots(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(3))
	g1, g2, big := newGate(), newGate(), newGate()
	mustSubmit(t, l, Job{ID: "one", Run: g1.run})
	mustSubmit(t, l, Job{ID: "two", Run: g2.run})
	g1.waitStarted(t)
	g2.waitStarted(t)
	tk, err := l.Submit(context.Background(), Job{ID: "big", Slots: 2, Run: big.run})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Position == 0 || tk.BlockedBy != BlockedFull {
		t.Fatalf("big: position %d, blocked by %v; want it queued behind the full lane", tk.Position, tk.BlockedBy)
	}
	if s := l.Stats(); s.SlotsInUse != 2 {
		t.Fatalf("slots in use %d, want 2", s.SlotsInUse)
	}
	g1.open()
	big.waitStarted(t)
	if s := l.Stats(); s.SlotsInUse != 3 || s.Running != 2 {
		t.Fatalf("slots in use %d, running %d; want 3 and 2", s.SlotsInUse, s.Running)
	}
	g2.open()
	big.open()
	if err := tk.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRunTimeoutEndsTheJobWithErrTimeout(t *testing.T) {
	l := newLane(t)
	g := newGate()
	tk, err := l.Submit(context.Background(), Job{ID: "slow", RunTimeout: 20 * time.Millisecond, Run: g.run})
	if err != nil {
		t.Fatal(err)
	}
	wantIs(t, tk.Wait(context.Background()), ErrTimeout)
	wantIs(t, g.seenCause(), ErrTimeout)
	if s := l.Stats(); s.TimedOut != 1 {
		t.Fatalf("timed out %d, want 1", s.TimedOut)
	}
}

func TestOverloadedFinishesHalveAnAdaptiveLane(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(8), WithAdaptive(1, 8, 0))
	if w := l.Stats().Width; w != 8 {
		t.Fatalf("width %d, want 8", w)
	}
	err := l.SubmitWait(context.Background(), Job{ID: "429", Run: func(context.Context) error {
		return fmt.Errorf("provider said: %w", ErrOverloaded)
	}})
	wantIs(t, err, ErrOverloaded)
	if s := l.Stats(); s.Width != 4 || s.Overloads != 1 {
		t.Fatalf("width %d, overloads %d; want 4 and 1", s.Width, s.Overloads)
	}
	// Overloaded(ctx) halves it too, and the job still succeeds.
	err = l.SubmitWait(context.Background(), Job{ID: "mark", Run: func(ctx context.Context) error {
		return Overloaded(ctx)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.Width != 2 || s.Overloads != 2 {
		t.Fatalf("width %d, overloads %d; want 2 and 2", s.Width, s.Overloads)
	}
}

func TestSetCostIsWhatTheLaneCounts(t *testing.T) {
	l := newLane(t)
	if err := l.SetRateLimit(RateCost, 1_000_000, time.Minute, 1_000_000); err != nil {
		t.Fatal(err)
	}
	err := l.SubmitWait(context.Background(), Job{ID: "llm", Cost: 500, Run: func(ctx context.Context) error {
		return SetCost(ctx, 1234)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SubmitWait(context.Background(), Job{ID: "estimate", Cost: 100, Run: noop}); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.CostUsed != 1334 {
		t.Fatalf("cost used %d, want 1234 + 100", s.CostUsed)
	}
}

func TestReleaseLetsAnotherJobRunAndReacquireTakesTheSlotBack(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(1))
	released := make(chan struct{})
	back := make(chan error, 1)
	otherRuns := make(chan struct{})
	other := newGate()
	tk, err := l.Submit(context.Background(), Job{ID: "agent", Run: func(ctx context.Context) error {
		if err := Release(ctx); err != nil {
			return err
		}
		close(released)
		<-otherRuns
		err := Reacquire(ctx)
		back <- err
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	<-released
	mustSubmit(t, l, Job{ID: "other", Run: other.run})
	other.waitStarted(t) // ran in the freed slot
	close(otherRuns)
	waitFor(t, "the reacquire to queue", func() bool { return l.Stats().Reacquiring == 1 })
	select {
	case err := <-back:
		t.Fatalf("Reacquire returned %v while the only slot is taken", err)
	default:
	}
	other.open()
	if err := <-back; err != nil {
		t.Fatal(err)
	}
	if err := tk.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := l.Stats()
	if s.Completed != 2 || s.Released != 0 || s.Reacquiring != 0 || s.SlotsInUse != 0 {
		t.Fatalf("stats: %+v", s)
	}
}

// Reacquire racing a cancel of the job and the lane's close: every job
// gets exactly one outcome, and Reacquire returns.
func TestReacquireRacingCancelAndClose(t *testing.T) {
	for round := 0; round < 20; round++ {
		l, err := New(fmt.Sprintf("race-%d", round), WithMaxConcurrent(1))
		if err != nil {
			t.Fatal(err)
		}
		var outcomes atomic.Int32
		var wg sync.WaitGroup
		tickets := make([]*Ticket, 0, 6)
		for i := 0; i < 6; i++ {
			wg.Add(1)
			tk, err := l.Submit(context.Background(), Job{
				ID: fmt.Sprintf("j%d", i),
				Run: func(ctx context.Context) error {
					if Release(ctx) == nil {
						_ = Reacquire(ctx)
					}
					return nil
				},
				OnDone: func(error) { outcomes.Add(1); wg.Done() },
			})
			if err != nil {
				t.Fatal(err)
			}
			tickets = append(tickets, tk)
		}
		_ = tickets[round%6].Cancel()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if n := outcomes.Load(); n != 6 {
			t.Fatalf("round %d: %d outcomes for 6 jobs", round, n)
		}
	}
}

func TestBudgetBadInputsAreErrorsWithAMessage(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(2))
	for _, c := range []struct {
		what string
		err  error
	}{
		{"negative cost", func() error { _, err := l.Submit(context.Background(), Job{Cost: -1, Run: noop}); return err }()},
		{"negative run timeout", func() error {
			_, err := l.Submit(context.Background(), Job{RunTimeout: -1, Run: noop})
			return err
		}()},
		{"more slots than the lane", func() error { _, err := l.Submit(context.Background(), Job{Slots: 3, Run: noop}); return err }()},
		{"no rate kind", l.SetRateLimit(0, 1, time.Second, 1)},
		{"unknown rate kind", l.SetRateLimit(4, 1, time.Second, 1)},
		{"rate with no period", l.SetRateLimit(RateRequests, 1, 0, 1)},
		{"negative tenant limit", l.SetTenantLimit("a", -1)},
		{"NUL in tenant", l.SetTenantLimit("a\x00b", 1)},
		{"SetCost outside a run", SetCost(context.Background(), 5)},
		{"zero cost", SetCost(context.Background(), 0)},
		{"Overloaded outside a run", Overloaded(context.Background())},
		{"Release outside a run", Release(context.Background())},
		{"Reacquire outside a run", Reacquire(context.Background())},
	} {
		var le *Error
		if !errors.Is(c.err, ErrInvalid) || !errors.As(c.err, &le) || le.Error() == "" {
			t.Errorf("%s: got %v, want ErrInvalid with a message", c.what, c.err)
		}
	}
	if _, err := New("bad-adaptive", WithAdaptive(3, 2, 0)); !errors.Is(err, ErrInvalid) {
		t.Errorf("WithAdaptive(3, 2): %v", err)
	}
	// A reacquire without a release first is refused by the lane.
	err := l.SubmitWait(context.Background(), Job{ID: "greedy", Run: func(ctx context.Context) error {
		return Reacquire(ctx)
	}})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Reacquire while holding the slot: %v", err)
	}
}
