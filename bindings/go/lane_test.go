package lane

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAFreeSlotDispatchesTheJobAtOnce(t *testing.T) {
	l := newLane(t)
	ran := make(chan struct{})
	tk, err := l.Submit(context.Background(), Job{ID: "a", Run: func(context.Context) error {
		close(ran)
		return nil
	}})
	if err != nil || tk.Position != 0 || tk.ETA != 0 || tk.BlockedBy != BlockedNone || tk.ID != "a" {
		t.Fatalf("Submit = %+v, %v; want position 0, ETA 0, nil", tk, err)
	}
	<-ran
}

func TestAFullLaneQueuesWithPositionAndETA(t *testing.T) {
	l := newLane(t, WithETADefaultRuntime(100*time.Millisecond))
	g := newGate()
	defer g.open()
	mustSubmit(t, l, Job{ID: "running", Run: g.run})
	g.waitStarted(t)
	pos1, eta1 := mustSubmit(t, l, Job{ID: "q1", Run: noop})
	pos2, eta2 := mustSubmit(t, l, Job{ID: "q2", Run: noop})
	if pos1 != 1 || pos2 != 2 {
		t.Fatalf("positions %d, %d; want 1, 2", pos1, pos2)
	}
	if eta1 <= 0 || eta1 > 100*time.Millisecond || eta2 <= eta1 || eta2 > 200*time.Millisecond {
		t.Fatalf("etas %v, %v; want (0,100ms] and (eta1,200ms]", eta1, eta2)
	}
	s := l.Stats()
	if s.Running != 1 || s.Queued != 2 || s.BlockedBy != BlockedFull || s.OldestQueuedAt.IsZero() {
		t.Fatalf("stats %+v", s)
	}
}

func TestCancelRemovesAQueuedJob(t *testing.T) {
	l := newLane(t)
	g := newGate()
	defer g.open()
	mustSubmit(t, l, Job{ID: "running", Run: g.run})
	g.waitStarted(t)
	out := newOutcome()
	ran := atomic.Bool{}
	mustSubmit(t, l, Job{ID: "queued", Run: func(context.Context) error { ran.Store(true); return nil }, OnDone: out.onDone})
	if err := l.Cancel("queued"); err != nil {
		t.Fatal(err)
	}
	wantIs(t, out.wait(t), ErrCancelled)
	err := l.Cancel("queued")
	wantIs(t, err, ErrNotQueued)
	if !strings.Contains(err.Error(), "no queued job 'queued'") {
		t.Fatalf("message %q does not carry lane_last_error", err)
	}
	wantIs(t, l.Cancel("running"), ErrNotQueued) // running: needs CancelRunning
	g.open()
	if err := l.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ran.Load() {
		t.Fatal("a cancelled queued job ran")
	}
	if s := l.Stats(); s.Cancelled != 1 || s.Completed != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCancelRunningCancelsTheJobsContext(t *testing.T) {
	l := newLane(t)
	g := newGate()
	out := newOutcome()
	mustSubmit(t, l, Job{ID: "r", Run: g.run, OnDone: out.onDone})
	g.waitStarted(t)
	if err := l.CancelRunning("r"); err != nil {
		t.Fatal(err)
	}
	wantIs(t, out.wait(t), ErrCancelled)
	if g.seenCause() != ErrCancelled {
		t.Fatalf("cause %v, want ErrCancelled", g.seenCause())
	}
}

func TestSubmitWaitBlocksUntilRunReturns(t *testing.T) {
	l := newLane(t)
	g := newGate()
	done := make(chan error)
	go func() { done <- l.SubmitWait(context.Background(), Job{ID: "w", Run: g.run}) }()
	g.waitStarted(t)
	select {
	case err := <-done:
		t.Fatalf("SubmitWait returned %v while Run was running", err)
	case <-time.After(50 * time.Millisecond):
	}
	g.open()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The job's own error comes back as is.
	mine := errors.New("model overloaded")
	if err := l.SubmitWait(context.Background(), Job{ID: "f", Run: func(context.Context) error { return mine }}); err != mine {
		t.Fatalf("SubmitWait = %v, want the job's own error", err)
	}
	// The id is free again as soon as SubmitWait returned.
	if err := l.SubmitWait(context.Background(), Job{ID: "f", Run: noop}); err != nil {
		t.Fatal(err)
	}
}

func TestStatsCountEveryOutcome(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(2), WithETAWindow(8))
	for i := 0; i < 5; i++ {
		if err := l.SubmitWait(context.Background(), Job{ID: fmt.Sprint("ok", i), Run: func(context.Context) error {
			time.Sleep(2 * time.Millisecond)
			return nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	_ = l.SubmitWait(context.Background(), Job{ID: "fail", Run: func(context.Context) error { return errors.New("x") }})
	g := newGate()
	mustSubmit(t, l, Job{ID: "a", Run: g.run})
	mustSubmit(t, l, Job{ID: "b", Run: g.run})
	g.waitStarted(t)
	g.waitStarted(t)
	mustSubmit(t, l, Job{ID: "c", Run: noop})
	_ = l.Cancel("c")
	s := l.Stats()
	checkInvariant(t, s)
	if s.Name != t.Name() || s.MaxConcurrent != 2 || s.Running != 2 || s.Queued != 0 || s.Submitted != 9 ||
		s.Completed != 5 || s.Failed != 1 || s.Cancelled != 1 || s.ETAWindow != 8 {
		t.Fatalf("stats %+v", s)
	}
	if s.RunP50 < 2*time.Millisecond || s.MeanRuntime <= 0 || s.Throughput1m != 7 {
		t.Fatalf("times %+v", s)
	}
	g.open()
	_ = l.WaitIdle(context.Background())
	s = l.Stats()
	checkInvariant(t, s)
	if s.Completed != 7 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRaisingMaxConcurrentDispatchesTheBacklog(t *testing.T) {
	l := newLane(t)
	g := newGate()
	defer g.open()
	for i := 0; i < 3; i++ {
		mustSubmit(t, l, Job{ID: fmt.Sprint(i), Run: g.run})
	}
	g.waitStarted(t)
	if s := l.Stats(); s.Running != 1 || s.Queued != 2 {
		t.Fatalf("stats %+v", s)
	}
	if err := l.SetMaxConcurrent(3); err != nil {
		t.Fatal(err)
	}
	g.waitStarted(t)
	g.waitStarted(t)
	if s := l.Stats(); s.Running != 3 || s.Queued != 0 || s.MaxConcurrent != 3 {
		t.Fatalf("stats %+v", s)
	}
	wantIs(t, l.SetMaxConcurrent(0), ErrInvalid)
}

func TestAHigherPriorityJobPreemptsAndTheCapStaysStrict(t *testing.T) {
	l := newLane(t)
	if err := l.SetPreemption(true, 0); err != nil {
		t.Fatal(err)
	}
	var running, peak atomic.Int32
	track := func(f func(context.Context) error) func(context.Context) error {
		return func(ctx context.Context) error {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			defer running.Add(-1)
			return f(ctx)
		}
	}
	victim := newGate()
	victimOut := newOutcome()
	mustSubmit(t, l, Job{ID: "low", Priority: 1, Preemptible: true, Run: track(func(ctx context.Context) error {
		err := victim.run(ctx)
		time.Sleep(20 * time.Millisecond) // still holds the slot: the preemptor must wait
		return err
	}), OnDone: victimOut.onDone})
	victim.waitStarted(t)
	highRan := make(chan struct{})
	tk, err := l.Submit(context.Background(), Job{ID: "high", Priority: 9, Run: track(func(context.Context) error {
		close(highRan)
		return nil
	})})
	if err != nil || tk.Position != 1 {
		t.Fatalf("preemptor: %+v, err %v; want queued at 1 behind its victim", tk, err)
	}
	wantIs(t, victimOut.wait(t), ErrPreempted)
	if victim.seenCause() != ErrPreempted {
		t.Fatalf("victim's context.Cause = %v, want ErrPreempted", victim.seenCause())
	}
	<-highRan
	_ = l.WaitIdle(context.Background())
	if peak.Load() != 1 {
		t.Fatalf("%d jobs ran at once in a lane of 1", peak.Load())
	}
	if s := l.Stats(); s.Preempted != 1 || s.Preemptions != 1 || s.Completed != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestAPreemptedJobWithRequeueRunsAgain(t *testing.T) {
	l := newLane(t, WithPreemptMinRuntime(0))
	victim := newGate()
	out := newOutcome()
	mustSubmit(t, l, Job{ID: "low", Preemptible: true, RequeueOnPreempt: true, Run: victim.run, OnDone: out.onDone})
	victim.waitStarted(t)
	if err := l.SubmitWait(context.Background(), Job{ID: "high", Priority: 5, Run: noop}); err != nil {
		t.Fatal(err)
	}
	victim.waitStarted(t) // granted a second time
	victim.open()
	if err := out.wait(t); err != nil {
		t.Fatalf("requeued job ended %v", err)
	}
	if victim.runCount() != 2 {
		t.Fatalf("runs %d, want 2", victim.runCount())
	}
}

func TestFairShareServesTheTenantWithLeastSlotTime(t *testing.T) {
	l := newLane(t, WithPolicy(FairShare))
	g := newGate()
	mustSubmit(t, l, Job{ID: "block", Tenant: "z", Run: g.run})
	g.waitStarted(t)
	var mu sync.Mutex
	var order []string
	rec := func(id string, d time.Duration) func(context.Context) error {
		return func(context.Context) error {
			mu.Lock()
			order = append(order, id)
			mu.Unlock()
			time.Sleep(d)
			return nil
		}
	}
	// alice's jobs are long, bob's short: after one of alice's, bob has
	// had less slot-time until all three of his have run.
	for _, id := range []string{"a1", "a2", "a3"} {
		mustSubmit(t, l, Job{ID: id, Tenant: "alice", Run: rec(id, 40*time.Millisecond)})
	}
	for _, id := range []string{"b1", "b2", "b3"} {
		mustSubmit(t, l, Job{ID: id, Tenant: "bob", Run: rec(id, time.Millisecond)})
	}
	g.open()
	_ = l.WaitIdle(context.Background())
	got := strings.Join(order, ",")
	if got != "a1,b1,b2,b3,a2,a3" {
		t.Fatalf("order %s, want a1,b1,b2,b3,a2,a3", got)
	}
	if err := l.SetTenantWeight("alice", 3); err != nil {
		t.Fatal(err)
	}
	err := newLane(t).SetTenantWeight("alice", 2)
	wantIs(t, err, ErrInvalid)
	if !strings.Contains(err.Error(), "FAIR_SHARE") {
		t.Fatalf("message %q does not carry lane_last_error", err)
	}
}

func TestMaxWaitRefusesWithBusyAndQueuesNothing(t *testing.T) {
	l := newLane(t, WithETADefaultRuntime(time.Second))
	g := newGate()
	defer g.open()
	mustSubmit(t, l, Job{ID: "running", Run: g.run})
	g.waitStarted(t)
	tk, err := l.Submit(context.Background(), Job{ID: "hurry", MaxWait: 10 * time.Millisecond, Run: noop})
	wantIs(t, err, ErrBusy)
	pos, eta := tk.Position, tk.ETA
	wantIs(t, tk.Wait(context.Background()), ErrBusy)
	var le *Error
	if !errors.As(err, &le) || le.Status != StatusBusy || !strings.Contains(le.Message, "max_wait_ns") {
		t.Fatalf("error %#v", err)
	}
	if pos != 1 || eta < 500*time.Millisecond {
		t.Fatalf("busy ticket %d, %v; want position 1 and an ETA near 1 s", pos, eta)
	}
	if s := l.Stats(); s.Queued != 0 || s.Refused != 1 || s.Submitted != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCallerContextCancelledWhileQueuedRemovesTheJob(t *testing.T) {
	l := newLane(t)
	g := newGate()
	defer g.open()
	mustSubmit(t, l, Job{ID: "running", Run: g.run})
	g.waitStarted(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	ran := atomic.Bool{}
	go func() {
		done <- l.SubmitWait(ctx, Job{ID: "q", Run: func(context.Context) error { ran.Store(true); return nil }})
	}()
	waitFor(t, "the job to queue", func() bool { return l.Stats().Queued == 1 })
	cancel()
	err := <-done
	wantIs(t, err, ErrCancelled, context.Canceled)
	if ran.Load() {
		t.Fatal("the removed job ran")
	}
	if s := l.Stats(); s.Queued != 0 || s.Cancelled != 1 {
		t.Fatalf("stats %+v", s)
	}
	// An already-cancelled context submits nothing, says so like a
	// cancellation, and counts as refused.
	before := l.Stats()
	_, err = l.Submit(ctx, Job{ID: "late", Run: noop})
	wantIs(t, err, ErrCancelled, context.Canceled)
	wantIs(t, l.SubmitWait(ctx, Job{ID: "late", Run: noop}), ErrCancelled, context.Canceled)
	if s := l.Stats(); s.Refused != before.Refused+2 || s.Submitted != before.Submitted {
		t.Fatalf("stats after two submissions with a done ctx: %+v", s)
	}
}

func TestCallerContextCancelledWhileRunningCancelsTheJobsContext(t *testing.T) {
	l := newLane(t)
	g := newGate()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := l.SubmitWait(ctx, Job{ID: "r", Run: g.run})
	wantIs(t, err, ErrCancelled, context.DeadlineExceeded)
	wantIs(t, g.seenCause(), ErrCancelled, context.DeadlineExceeded)
	if s := l.Stats(); s.Cancelled != 1 || s.Running != 0 {
		t.Fatalf("stats %+v", s)
	}
	// Submit (not waiting) is cancelled through its ctx too.
	g2 := newGate()
	out := newOutcome()
	ctx2, cancel2 := context.WithCancel(context.Background())
	if _, err := l.Submit(ctx2, Job{ID: "r2", Run: g2.run, OnDone: out.onDone}); err != nil {
		t.Fatal(err)
	}
	g2.waitStarted(t)
	cancel2()
	wantIs(t, out.wait(t), ErrCancelled, context.Canceled)
	wantIs(t, g2.seenCause(), ErrCancelled, context.Canceled)
}

// The caller's ctx of job A ends at the moment A ends, and job B takes A's
// id as soon as A's outcome is delivered: A's ctx must never cancel B, in
// whichever order the ctx watch, A's end and B's submission come. Every
// fourth round forces the worst order: A's ctx watch has seen A unsettled
// and is held (callerCancelHook) until B has been submitted.
func TestACallerCancelRacingTheJobsEndNeverReachesTheNextJobWithItsID(t *testing.T) {
	l := newLane(t)
	var round atomic.Pointer[heldWatch]
	hook := func() func() {
		w := round.Load()
		if w == nil {
			return nil
		}
		select {
		case <-w.bSubmitted:
		case <-time.After(10 * time.Second):
		}
		return func() { w.once.Do(func() { close(w.watchDone) }) }
	}
	callerCancelHook.Store(&hook)
	t.Cleanup(func() { callerCancelHook.Store(nil) })
	rounds := 1500
	if testing.Short() {
		rounds = 200
	}
	held := 0
	for i := 0; i < rounds; i++ {
		w := &heldWatch{bSubmitted: make(chan struct{}), watchDone: make(chan struct{})}
		hold := i%4 == 0
		if hold {
			round.Store(w)
		} else {
			round.Store(nil)
		}
		ctxA, cancelA := context.WithCancel(context.Background())
		bOut := newOutcome()
		submitB := func() {
			_, err := l.Submit(context.Background(), Job{ID: "x", OnDone: bOut.onDone, Run: func(ctx context.Context) error {
				<-ctxA.Done() // then give A's ctx watch time to act
				wait := 200 * time.Microsecond
				if hold {
					wait = 100 * time.Millisecond // unless the watch says it is done
				}
				select {
				case <-ctx.Done():
					return context.Cause(ctx)
				case <-w.watchDone:
				case <-time.After(wait):
				}
				select {
				case <-ctx.Done():
					return context.Cause(ctx)
				default:
					return nil
				}
			}})
			if err != nil {
				bOut <- fmt.Errorf("B refused: %w", err)
			}
			close(w.bSubmitted)
		}
		yields := i % 7
		if hold {
			yields = 0
		}
		runA := func(context.Context) error {
			if yields == 0 {
				cancelA() // the watch starts while A is still running
			} else {
				go func() { // lands anywhere around A's end
					for k := 0; k < yields; k++ {
						runtime.Gosched()
					}
					cancelA()
				}()
			}
			return nil
		}
		var errA error
		if i%2 == 0 { // B from A's OnDone: the earliest moment
			aOut := newOutcome()
			_, err := l.Submit(ctxA, Job{ID: "x", Run: runA, OnDone: func(err error) {
				submitB()
				aOut <- err
			}})
			if err != nil {
				t.Fatalf("round %d: A refused: %v", i, err)
			}
			errA = aOut.wait(t)
		} else { // B once SubmitWait has returned A's outcome
			errA = l.SubmitWait(ctxA, Job{ID: "x", Run: runA})
			submitB()
		}
		if errA != nil && !(errors.Is(errA, ErrCancelled) && errors.Is(errA, context.Canceled)) {
			t.Fatalf("round %d: A's outcome %v, want nil or cancelled by its ctx", i, errA)
		}
		if err := bOut.wait(t); err != nil {
			t.Fatalf("round %d: B (same id, submitted after A's outcome) ended %v", i, err)
		}
		select {
		case <-w.watchDone:
			held++
		default:
		}
		cancelA()
	}
	round.Store(nil)
	if held == 0 {
		t.Fatal("no round held A's ctx watch until B was submitted")
	}
	t.Logf("%d of %d rounds held A's ctx watch until B was submitted", held, rounds)
	if s := l.Stats(); s.Completed+s.Cancelled != uint64(2*rounds) || s.Running != 0 || s.Queued != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// heldWatch is one round of the test above.
type heldWatch struct {
	bSubmitted chan struct{}
	watchDone  chan struct{}
	once       sync.Once
}

func TestAPanickingRunFailsTheJobAndTheProcessLives(t *testing.T) {
	l := newLane(t)
	err := l.SubmitWait(context.Background(), Job{ID: "boom", Run: func(context.Context) error { panic("kaboom") }})
	wantIs(t, err, ErrJobFailed)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "kaboom" || pe.JobID != "boom" || len(pe.Stack) == 0 {
		t.Fatalf("error %#v", err)
	}
	// runtime.Goexit (t.FailNow in a job) also gives the slot back.
	err = l.SubmitWait(context.Background(), Job{ID: "exit", Run: func(context.Context) error { runtime.Goexit(); return nil }})
	wantIs(t, err, ErrJobFailed)
	if err := l.SubmitWait(context.Background(), Job{ID: "after", Run: noop}); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.Failed != 2 || s.Completed != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFiveThousandConcurrentJobsEachEndExactlyOnce(t *testing.T) {
	const n = 5000
	l := newLane(t, WithMaxConcurrent(8), WithPolicy(FairShare))
	var runs, dones [n]atomic.Int32
	var wg sync.WaitGroup
	wg.Add(n)
	for w := 0; w < 50; w++ {
		go func(w int) {
			for i := w; i < n; i += 50 {
				i := i
				job := Job{
					ID:     fmt.Sprint("job-", i),
					Tenant: fmt.Sprint("t", i%7),
					Run: func(context.Context) error {
						runs[i].Add(1)
						if i%10 == 0 {
							return errors.New("odd one")
						}
						return nil
					},
					OnDone: func(error) { dones[i].Add(1); wg.Done() },
				}
				if i%3 == 0 {
					// Half of these wait; the rest fire and forget.
					go func() { _ = l.SubmitWait(context.Background(), job) }()
				} else if _, err := l.Submit(context.Background(), job); err != nil {
					t.Errorf("Submit %d: %v", i, err)
					wg.Done()
				}
			}
		}(w)
	}
	wg.Wait()
	if err := l.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if runs[i].Load() != 1 || dones[i].Load() != 1 {
			t.Fatalf("job %d: %d runs, %d outcomes", i, runs[i].Load(), dones[i].Load())
		}
	}
	s := l.Stats()
	checkInvariant(t, s)
	if s.Submitted != n || s.Completed != n-n/10 || s.Failed != n/10 {
		t.Fatalf("stats %+v", s)
	}
	if liveHandles.Load() != 0 {
		t.Fatalf("%d handles live after all jobs ended", liveHandles.Load())
	}
}

func TestCloseEndsEveryJobAndIsIdempotent(t *testing.T) {
	l, err := New("closing", WithMaxConcurrent(1))
	if err != nil {
		t.Fatal(err)
	}
	g := newGate()
	running, queued := newOutcome(), newOutcome()
	mustSubmit(t, l, Job{ID: "r", Run: g.run, OnDone: running.onDone})
	g.waitStarted(t)
	mustSubmit(t, l, Job{ID: "q", Run: noop, OnDone: queued.onDone})
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); _ = l.Close() }()
	}
	wg.Wait()
	wantIs(t, running.wait(t), ErrClosed)
	wantIs(t, queued.wait(t), ErrClosed)
	if g.seenCause() != ErrClosed {
		t.Fatalf("cause %v", g.seenCause())
	}
	_, err = l.Submit(context.Background(), Job{ID: "x", Run: noop})
	wantIs(t, err, ErrClosed)
	wantIs(t, l.Pause(), ErrClosed)
	wantIs(t, l.SubmitWait(context.Background(), Job{ID: "y", Run: noop}), ErrClosed)
	s := l.Stats()
	if s.Closed != 2 || s.Name != "closing" || s.Refused != 2 {
		t.Fatalf("stats after close %+v", s)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestShutdownDrainsThenEscalates(t *testing.T) {
	l, err := New("draining")
	if err != nil {
		t.Fatal(err)
	}
	ran := atomic.Int32{}
	for i := 0; i < 3; i++ {
		mustSubmit(t, l, Job{ID: fmt.Sprint(i), Run: func(context.Context) error {
			time.Sleep(5 * time.Millisecond)
			ran.Add(1)
			return nil
		}})
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ran.Load() != 3 {
		t.Fatalf("drain ran %d of 3", ran.Load())
	}

	l2, _ := New("escalating")
	g := newGate()
	mustSubmit(t, l2, Job{ID: "stuck", Run: g.run})
	g.waitStarted(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	wantIs(t, l2.Shutdown(ctx), context.DeadlineExceeded)
	if g.seenCause() != ErrClosed {
		t.Fatalf("cause %v", g.seenCause())
	}
}

func TestQueueTimeoutEndsAWaitingJob(t *testing.T) {
	l := newLane(t)
	g := newGate()
	defer g.open()
	mustSubmit(t, l, Job{ID: "running", Run: g.run})
	g.waitStarted(t)
	err := l.SubmitWait(context.Background(), Job{ID: "impatient", QueueTimeout: 20 * time.Millisecond, Run: noop})
	wantIs(t, err, ErrTimeout)
	if s := l.Stats(); s.TimedOut != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestADuplicateIDIsRefused(t *testing.T) {
	l := newLane(t)
	g := newGate()
	defer g.open()
	mustSubmit(t, l, Job{ID: "same", Run: g.run})
	_, err := l.Submit(context.Background(), Job{ID: "same", Run: noop})
	wantIs(t, err, ErrDuplicate)
}

func TestSubmitWaitFromInsideAFullLaneIsADeadlock(t *testing.T) {
	l := newLane(t)
	err := l.SubmitWait(context.Background(), Job{ID: "outer", Run: func(ctx context.Context) error {
		return l.SubmitWait(ctx, Job{ID: "inner", Run: noop})
	}})
	wantIs(t, err, ErrDeadlock)
	if err := l.SetMaxConcurrent(2); err != nil {
		t.Fatal(err)
	}
	err = l.SubmitWait(context.Background(), Job{ID: "outer2", Run: func(ctx context.Context) error {
		return l.SubmitWait(ctx, Job{ID: "inner2", Run: noop})
	}})
	if err != nil {
		t.Fatalf("with a free slot: %v", err)
	}
}

func TestPauseResumeAndCooldownGateDispatch(t *testing.T) {
	l := newLane(t)
	if err := l.Pause(); err != nil {
		t.Fatal(err)
	}
	out := newOutcome()
	pos, _ := mustSubmit(t, l, Job{ID: "p", Run: noop, OnDone: out.onDone})
	if s := l.Stats(); pos != 1 || !s.Paused || s.BlockedBy != BlockedPaused {
		t.Fatalf("pos %d, stats %+v", pos, s)
	}
	if err := l.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := out.wait(t); err != nil {
		t.Fatal(err)
	}
	if err := l.Cooldown(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if s := l.Stats(); s.CooldownUntil.IsZero() {
		t.Fatalf("stats %+v", s)
	}
	if err := l.SubmitWait(context.Background(), Job{ID: "c", Run: noop}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Fatalf("dispatched after %v during a 50ms cooldown", waited)
	}
	wantIs(t, l.Cooldown(-time.Second), ErrInvalid)
}

func TestBadInputIsRefusedWithAMessage(t *testing.T) {
	_, err := New("")
	wantIs(t, err, ErrInvalid)
	if !strings.Contains(err.Error(), "name is NULL or empty") {
		t.Fatalf("message %q", err)
	}
	for _, o := range []Option{WithMaxConcurrent(0), WithPolicy(7), WithETAWindow(0), WithMaxQueued(-1), WithAging(-1), WithPreemptMinRuntime(-1), WithETADefaultRuntime(0), WithFairHalfLife(-1), WithClock(nil)} {
		if _, err := New("x", o); !errors.Is(err, ErrInvalid) {
			t.Fatalf("option accepted: %v", err)
		}
	}
	l := newLane(t, WithMaxQueued(1))
	_, err = l.Submit(context.Background(), Job{ID: "nul\x00cut", Run: noop})
	wantIs(t, err, ErrInvalid)
	if !strings.Contains(err.Error(), "NUL") {
		t.Fatalf("NUL id refused with %q", err)
	}
	_, err = l.Submit(context.Background(), Job{ID: "t", Tenant: "a\x00b", Run: noop})
	wantIs(t, err, ErrInvalid)
	wantIs(t, l.Cancel("nul\x00cut"), ErrInvalid)
	wantIs(t, l.CancelRunning("nul\x00"), ErrInvalid)
	//lint:ignore SA1012 a nil ctx is the bad input under test
	wantIs(t, l.SubmitWait(nil, Job{ID: "noctx", Run: noop}), ErrInvalid)
	_, err = l.Submit(context.Background(), Job{ID: "norun"})
	wantIs(t, err, ErrInvalid)
	g := newGate()
	defer g.open()
	mustSubmit(t, l, Job{ID: "r", Run: g.run})
	g.waitStarted(t)
	mustSubmit(t, l, Job{ID: "q", Run: noop})
	_, err = l.Submit(context.Background(), Job{ID: "full", Run: noop})
	wantIs(t, err, ErrQueueFull)
	wantIs(t, l.SetPreemption(true, -1), ErrInvalid)
	if Version() == "" || StatusBusy.String() != "LANE_ERR_BUSY" || StatusDeadlock.Sentinel() != ErrDeadlock {
		t.Fatal("version or status names")
	}
}

func TestManyLanesOpenAndCloseWithoutLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		l, err := New(fmt.Sprint("lane-", i), WithMaxConcurrent(2))
		if err != nil {
			t.Fatal(err)
		}
		g := newGate()
		for j := 0; j < 4; j++ {
			mustSubmit(t, l, Job{ID: fmt.Sprint(j), Run: g.run})
		}
		g.waitStarted(t)
		if i%2 == 0 {
			g.open()
			_ = l.Shutdown(context.Background())
		} else {
			_ = l.Close()
		}
	}
	if err := waitGoroutines(before); err != nil {
		t.Fatal(err)
	}
	if n := liveHandles.Load(); n != 0 {
		t.Fatalf("%d handles live", n)
	}
}

// By default the poller waits for the port's readiness signal (Linux: the
// eventfd in the netpoller; Windows: the port's event) rather than in a
// blocking lane_port_poll.
func TestTheDefaultPollerWaitsForReadiness(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(2))
	if !l.pollsReadiness() {
		t.Fatal("the lane fell back to the blocking poller")
	}
	for i := 0; i < 50; i++ {
		if err := l.SubmitWait(context.Background(), Job{ID: fmt.Sprint(i), Run: noop}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTheBlockingPollerWorksToo(t *testing.T) {
	useNetpoller = false
	defer func() { useNetpoller = true }()
	l := newLane(t, WithMaxConcurrent(4))
	if l.pollsReadiness() {
		t.Fatal("the readiness poller is in use")
	}
	var wg sync.WaitGroup
	var failures atomic.Int32
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := l.SubmitWait(context.Background(), Job{ID: fmt.Sprint(i), Run: noop}); err != nil {
				failures.Add(1)
			}
		}(i)
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d failures", failures.Load())
	}
	g := newGate()
	out := newOutcome()
	mustSubmit(t, l, Job{ID: "r", Run: g.run, OnDone: out.onDone})
	g.waitStarted(t)
	_ = l.Close()
	wantIs(t, out.wait(t), ErrClosed)
}
