package lane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type valueKey struct{}

func TestRunsContextCarriesTheCallersDeadlineAndValues(t *testing.T) {
	l := newLane(t)
	parent := context.WithValue(context.Background(), valueKey{}, "request-7")
	ctx, cancel := context.WithTimeout(parent, 100*time.Millisecond)
	defer cancel()
	want, _ := ctx.Deadline()
	var got time.Time
	var hasDeadline bool
	var value any
	var cause, errSeen error
	err := l.SubmitWait(ctx, Job{ID: "http", Run: func(ctx context.Context) error {
		got, hasDeadline = ctx.Deadline()
		value = ctx.Value(valueKey{})
		// What an HTTP client does: derive a context, wait on it.
		sub, stop := context.WithTimeout(ctx, time.Hour)
		defer stop()
		<-sub.Done()
		cause, errSeen = context.Cause(ctx), ctx.Err()
		return errSeen
	}})
	if !hasDeadline || !got.Equal(want) {
		t.Fatalf("Run's ctx deadline %v (%v), want the caller's %v", got, hasDeadline, want)
	}
	if value != "request-7" {
		t.Fatalf("Run's ctx value %v", value)
	}
	wantIs(t, cause, ErrCancelled, context.DeadlineExceeded)
	if errSeen == nil {
		t.Fatal("ctx.Err() is nil after Done")
	}
	wantIs(t, err, ErrCancelled, context.DeadlineExceeded)
	if s := l.Stats(); s.Cancelled != 1 || s.Failed != 0 {
		t.Fatalf("a deadline is a cancellation, not a failure: %+v", s)
	}
}

func TestTheCallersOwnCauseReachesRunAndTheOutcome(t *testing.T) {
	l := newLane(t)
	myCause := errors.New("user hung up")
	ctx, cancel := context.WithCancelCause(context.Background())
	g := newGate()
	tk, err := l.Submit(ctx, Job{Run: g.run})
	if err != nil {
		t.Fatal(err)
	}
	g.waitStarted(t)
	cancel(myCause)
	err = tk.Wait(context.Background())
	wantIs(t, err, ErrCancelled, myCause)
	wantIs(t, g.seenCause(), ErrCancelled, myCause)
}

func TestZeroAndNilValuesReturnErrorsInsteadOfPanicking(t *testing.T) {
	ctx := context.Background()
	var zl Lane
	_, err := zl.Submit(ctx, Job{ID: "x", Run: noop})
	wantIs(t, err, ErrClosed)
	wantIs(t, zl.SubmitWait(ctx, Job{ID: "x", Run: noop}), ErrClosed)
	wantIs(t, zl.Cancel("x"), ErrClosed)
	wantIs(t, zl.SetMaxConcurrent(2), ErrClosed)
	wantIs(t, zl.Pause(), ErrClosed)
	wantIs(t, zl.WaitIdle(ctx), ErrClosed)
	_, err = zl.Acquire(ctx, Job{})
	wantIs(t, err, ErrClosed)
	if err := zl.Close(); err != nil {
		t.Fatalf("Close of a zero Lane: %v", err)
	}
	_ = zl.Stats()
	_, err = NewSession(&zl, "k")
	wantIs(t, err, ErrClosed)

	var nl *Lane
	_, err = nl.Submit(ctx, Job{ID: "x", Run: noop})
	wantIs(t, err, ErrInvalid)
	wantIs(t, nl.SubmitWait(ctx, Job{ID: "x", Run: noop}), ErrInvalid)
	wantIs(t, nl.CancelRunning("x"), ErrInvalid)
	wantIs(t, nl.Close(), ErrInvalid)
	wantIs(t, nl.Shutdown(ctx), ErrInvalid)
	if nl.Name() != "" || nl.Stats().Name != "" {
		t.Fatal("nil lane has a name")
	}
	_, err = NewSession(nil, "k")
	wantIs(t, err, ErrInvalid)

	var zs Session
	_, err = zs.Enqueue(ctx, Message{ID: "m", Run: func(context.Context, *Run) error { return nil }})
	wantIs(t, err, ErrClosed)
	wantIs(t, zs.Reset(), ErrClosed)
	wantIs(t, zs.WaitIdle(ctx), ErrClosed)
	if zs.CancelOne() || zs.CancelAll() != 0 || zs.Active() != 0 || zs.Queued() != 0 {
		t.Fatal("a zero Session did something")
	}
	if err := zs.Close(); err != nil {
		t.Fatal(err)
	}
	var ns *Session
	_, err = ns.Enqueue(ctx, Message{ID: "m"})
	wantIs(t, err, ErrInvalid)
	wantIs(t, ns.Close(), ErrInvalid)
	if ns.CancelOne() || ns.Key() != "" || ns.Lane() != nil {
		t.Fatal("a nil Session did something")
	}

	var zr Registry
	_, err = zr.Lane("x")
	wantIs(t, err, ErrClosed)
	wantIs(t, zr.Reload(), ErrClosed)
	wantIs(t, zr.SetConfig(nil), ErrClosed)
	if err := zr.Close(); err != nil {
		t.Fatal(err)
	}
	var nr *Registry
	_, err = nr.Lane("x")
	wantIs(t, err, ErrInvalid)
	_, err = nr.Metrics()
	wantIs(t, err, ErrInvalid)
	wantIs(t, nr.Close(), ErrInvalid)
	var ns2 *Sampler
	wantIs(t, ns2.SampleOnce(), ErrInvalid)
	var zsm Sampler
	wantIs(t, zsm.SampleOnce(), ErrClosed)
	var nt *Ticket
	wantIs(t, nt.Wait(ctx), ErrInvalid)
	wantIs(t, nt.Cancel(), ErrInvalid)
}

func TestATicketWaitsForAndCancelsItsOwnJob(t *testing.T) {
	l := newLane(t)
	g := newGate()
	first, err := l.Submit(context.Background(), Job{ID: "first", Run: g.run})
	if err != nil {
		t.Fatal(err)
	}
	g.waitStarted(t)
	second, err := l.Submit(context.Background(), Job{Run: noop})
	if err != nil {
		t.Fatal(err)
	}
	if second.Position != 1 || second.BlockedBy != BlockedFull || !strings.HasPrefix(second.ID, "go-") {
		t.Fatalf("queued ticket %+v", second)
	}
	// Wait with a short ctx returns ctx's error and leaves the job alone.
	short, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	wantIs(t, first.Wait(short), context.DeadlineExceeded)
	select {
	case <-first.Done():
		t.Fatal("Done before the job ended")
	default:
	}
	if first.Err() != nil {
		t.Fatal("Err before the job ended")
	}
	wantIs(t, second.Cancel(), nil)
	wantIs(t, second.Wait(context.Background()), ErrCancelled)
	wantIs(t, second.Cancel(), ErrNotQueued)
	g.open()
	if err := first.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-first.Done()
	if first.Err() != nil {
		t.Fatal(first.Err())
	}
	// A later job that takes first's ID is not reached by first's ticket.
	g2 := newGate()
	again, err := l.Submit(context.Background(), Job{ID: "first", Run: g2.run})
	if err != nil {
		t.Fatal(err)
	}
	g2.waitStarted(t)
	wantIs(t, first.Cancel(), ErrNotQueued)
	g2.open()
	if err := again.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestGeneratedIDsAreUniqueAndSkipAHostsName(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(4))
	g := newGate()
	defer g.open()
	// A host already holds the next generated name.
	next := fmt.Sprintf("go-%d", jobSeq.Load()+1)
	mustSubmit(t, l, Job{ID: next, Run: g.run})
	seen := map[string]bool{next: true}
	for i := 0; i < 50; i++ {
		tk, err := l.Submit(context.Background(), Job{Run: noop})
		if err != nil {
			t.Fatal(err)
		}
		if seen[tk.ID] {
			t.Fatalf("generated id %q twice", tk.ID)
		}
		seen[tk.ID] = true
	}
}

func TestErrorStringsSayTheStatusOnceInWords(t *testing.T) {
	l := newLane(t)
	err := l.Cancel("nobody")
	wantIs(t, err, ErrNotQueued)
	msg := err.Error()
	if strings.Contains(msg, "LANE_ERR") || strings.Count(msg, "not queued") != 1 || !strings.HasPrefix(msg, "lane: cancel: not queued: ") {
		t.Fatalf("error string %q", msg)
	}
}

func TestTheDeadlockCheckCountsNoJob(t *testing.T) {
	l := newLane(t)
	before := l.Stats()
	err := l.SubmitWait(context.Background(), Job{ID: "outer", Run: func(ctx context.Context) error {
		return l.SubmitWait(ctx, Job{ID: "inner", Run: noop})
	}})
	wantIs(t, err, ErrDeadlock)
	s := l.Stats()
	if s.Submitted != before.Submitted+1 || s.Cancelled != 0 || s.Failed != 1 || s.Refused != before.Refused+1 {
		t.Fatalf("stats after a deadlock refusal: %+v", s)
	}
}

func TestAcquireAndReleaseHoldASlotOutsideAClosure(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(1))
	ctx := context.Background()
	p, err := l.Acquire(ctx, Job{Tenant: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.Running != 1 {
		t.Fatalf("a permit holds a slot: %+v", s)
	}
	// A second Acquire waits; its ctx ends the wait and withdraws it.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = l.Acquire(short, Job{})
	wantIs(t, err, ErrCancelled, context.DeadlineExceeded)
	if s := l.Stats(); s.Queued != 0 {
		t.Fatalf("a withdrawn request stays queued: %+v", s)
	}
	// A job queued behind the permit runs once it is released.
	done := make(chan error, 1)
	go func() { done <- l.SubmitWait(ctx, Job{ID: "after", Run: noop}) }()
	waitFor(t, "the job to queue", func() bool { return l.Stats().Queued == 1 })
	if err := p.Release(); err != nil {
		t.Fatal(err)
	}
	if err := p.Release(); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_, err = l.Acquire(ctx, Job{Run: noop})
	wantIs(t, err, ErrInvalid)
}

func TestAPreemptedPermitSaysSoInItsContextAndRelease(t *testing.T) {
	l := newLane(t, WithPreemptMinRuntime(0))
	p, err := l.Acquire(context.Background(), Job{Preemptible: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.SubmitWait(context.Background(), Job{ID: "vip", Priority: 9, Run: noop}) }()
	<-p.Context().Done()
	wantIs(t, context.Cause(p.Context()), ErrPreempted)
	wantIs(t, p.Release(), ErrPreempted)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Many goroutines acquire and release at random against a lane of 3, some
// giving up early: never more than 3 held, every request ends once.
func TestAcquireReleaseStress(t *testing.T) {
	const slots, workers, rounds = 3, 16, 60
	l := newLane(t, WithMaxConcurrent(slots))
	var held, maxHeld atomic.Int32
	var granted, withdrawn atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for i := 0; i < rounds; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.Intn(3000))*time.Microsecond)
				p, err := l.Acquire(ctx, Job{Tenant: fmt.Sprint(seed % 4)})
				cancel()
				if err != nil {
					if !errors.Is(err, ErrCancelled) {
						t.Errorf("Acquire: %v", err)
					}
					withdrawn.Add(1)
					continue
				}
				granted.Add(1)
				n := held.Add(1)
				for {
					m := maxHeld.Load()
					if n <= m || maxHeld.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(time.Duration(rng.Intn(300)) * time.Microsecond)
				held.Add(-1)
				if err := p.Release(); err != nil {
					t.Errorf("Release: %v", err)
				}
			}
		}(int64(w))
	}
	wg.Wait()
	if maxHeld.Load() > slots {
		t.Fatalf("%d permits held at once on a lane of %d", maxHeld.Load(), slots)
	}
	if err := l.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := l.Stats()
	if granted.Load()+withdrawn.Load() != workers*rounds || s.Running != 0 || s.Queued != 0 {
		t.Fatalf("granted %d withdrawn %d, stats %+v", granted.Load(), withdrawn.Load(), s)
	}
	if s.Completed+s.Cancelled != s.Submitted {
		t.Fatalf("every request has one outcome: %+v", s)
	}
	if s.Completed != uint64(granted.Load()) && s.Completed < uint64(granted.Load()) {
		t.Fatalf("completed %d < granted %d", s.Completed, granted.Load())
	}
}

func TestRegistryLaneOptionsFromCode(t *testing.T) {
	r := newRegistry(t, WithLane("gpu", WithMaxConcurrent(1), WithMaxQueued(1), WithETADefaultRuntime(3*time.Second),
		WithPreemptMinRuntime(0)))
	if got := r.Config()["lanes.gpu.max_queued"]; got != 1 {
		t.Fatalf("config table %v", r.Config())
	}
	gpu := regLane(t, r, "gpu")
	g := newGate()
	defer g.open()
	mustSubmit(t, gpu, Job{ID: "low", Preemptible: true, Run: g.run})
	g.waitStarted(t)
	tk, err := gpu.Submit(context.Background(), Job{ID: "next", Run: noop})
	if err != nil || tk.ETA <= 2*time.Second || tk.ETA > 3*time.Second { // 3 s less what "low" has run
		t.Fatalf("queued behind a running job with no history: %+v %v; want ETA 3 s", tk, err)
	}
	_, err = gpu.Submit(context.Background(), Job{ID: "over", Run: noop})
	wantIs(t, err, ErrQueueFull)
	wantIs(t, tk.Cancel(), nil)
	// No preemption guard: a higher priority job preempts "low" at once.
	if err := gpu.SubmitWait(context.Background(), Job{ID: "vip", Priority: 5, Run: noop}); err != nil {
		t.Fatal(err)
	}
	if gpu.Stats().Preempted != 1 {
		t.Fatalf("stats %+v", gpu.Stats())
	}
	// Another lane of the registry keeps the defaults.
	other := regLane(t, r, "other")
	if s := other.Stats(); s.MaxConcurrent != 1 {
		t.Fatalf("other lane %+v", s)
	}
	_, err = NewRegistry(WithLane("bad", WithMaxQueued(-1)))
	wantIs(t, err, ErrInvalid)
}

func TestWithLaneOverTheEnvironment(t *testing.T) {
	t.Setenv("LANE_ENVLANE_MAX_CONCURRENT", "3")
	t.Setenv("LANE_ENVLANE2_MAX_CONCURRENT", "5")
	r, err := NewRegistry(WithLane("envlane2", WithMaxConcurrent(2)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	a, _ := r.Lane("envlane")
	b, _ := r.Lane("envlane2")
	if a.Stats().MaxConcurrent != 3 || b.Stats().MaxConcurrent != 2 {
		t.Fatalf("env lane %d, code lane %d; want 3 (environment) and 2 (WithLane wins)",
			a.Stats().MaxConcurrent, b.Stats().MaxConcurrent)
	}
}

func TestSetConfigMergesAndValidates(t *testing.T) {
	r := newRegistry(t, WithConfig(map[string]int64{"lanes.a.max_concurrent": 3, "lanes.b.max_concurrent": 2}))
	a, b := regLane(t, r, "a"), regLane(t, r, "b")
	// A partial map changes only its keys.
	if err := r.SetConfig(map[string]int64{"lanes.a.max_concurrent": 4}); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if a.Stats().MaxConcurrent != 4 || b.Stats().MaxConcurrent != 2 {
		t.Fatalf("after a partial SetConfig: a %d, b %d; want 4, 2", a.Stats().MaxConcurrent, b.Stats().MaxConcurrent)
	}
	for _, bad := range []map[string]int64{
		{"lanes.a.max_concurrent": 0},
		{"lanes.a.max_concurrent": -5},
		{"lanes.a.preemption_off": 2},
		{"lanes.a.max_concurent": 2}, // a typo is not silently ignored
		{"lane.a.max_concurrent": 2},
		{"lanes.bad name.max_concurrent": 2},
		{"lanes.a.max_concurrent": 8, "lanes.a.aging_ns": -1},
	} {
		err := r.SetConfig(bad)
		wantIs(t, err, ErrInvalid)
	}
	if got := r.Config()["lanes.a.max_concurrent"]; got != 4 {
		t.Fatalf("a refused SetConfig changed the table: %d", got)
	}
	_, err := NewRegistry(WithConfig(map[string]int64{"lanes.x.max_concurrent": 0}))
	wantIs(t, err, ErrInvalid)
	env, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	wantIs(t, env.SetConfig(map[string]int64{"lanes.a.max_concurrent": 2}), ErrInvalid)
}

// syncBuffer is an io.Writer safe for the log reader goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestTheRegistryLogGoesToTheHostsSlogLogger(t *testing.T) {
	t.Setenv("LANE_LOGGED_MAX_CONCURRENT", "many")
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	r, err := NewRegistry(WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Lane("logged"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the log line", func() bool { return strings.Contains(buf.String(), "lanes.logged.max_concurrent") })
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "source=liblane") || !strings.Contains(out, "many") {
		t.Fatalf("log: %q", out)
	}
	// A registry with a table and WithLogger: the library's own bad-value line.
	buf2 := &syncBuffer{}
	r2, err := NewRegistry(WithConfig(map[string]int64{}), WithLogger(slog.New(slog.NewTextHandler(buf2, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	_ = r2.SetConfig(map[string]int64{"lanes.l2.max_concurrent": 2})
	if _, err := r2.Lane("l2"); err != nil {
		t.Fatal(err)
	}
}

func TestMetricsHandlerServesThePrometheusText(t *testing.T) {
	r := newRegistry(t)
	l := regLane(t, r, "llm")
	if err := l.SubmitWait(context.Background(), Job{ID: "1", Run: noop}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`lane_jobs_total{lane="llm",outcome="ok"} 1`, `lane_run_seconds_count{lane="llm"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("no %q in\n%s", want, body)
		}
	}
	resp, err = http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after Close: %d", resp.StatusCode)
	}
}

func TestTheStatusTableMatchesTheLibrary(t *testing.T) {
	for s := Status(0); s >= -20; s-- {
		lib := cStatusName(s)
		if s.String() != lib && !(lib == "LANE_ERR_UNKNOWN" || strings.Contains(lib, "UNKNOWN")) {
			t.Errorf("status %d: Go %q, liblane %q", int32(s), s.String(), lib)
		}
		if int(-s) < len(statusTable) {
			if lib != s.String() {
				t.Errorf("status %d: Go %q, liblane %q", int32(s), s.String(), lib)
			}
			if (s == StatusOK) != (s.Sentinel() == nil) {
				t.Errorf("status %d sentinel %v", int32(s), s.Sentinel())
			}
		} else if s.Sentinel() != ErrInternal {
			t.Errorf("unknown status %d: sentinel %v", int32(s), s.Sentinel())
		}
	}
}

func TestSessionsRefuseNULBytesAndADoneContext(t *testing.T) {
	l := newLane(t)
	_, err := NewSession(l, "chat\x00x")
	wantIs(t, err, ErrInvalid)
	s, err := NewSession(l, "chat")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run := func(context.Context, *Run) error { return nil }
	_, err = s.Enqueue(context.Background(), Message{ID: "m\x00", Run: run})
	wantIs(t, err, ErrInvalid)
	_, err = s.Enqueue(context.Background(), Message{ID: "m", Tenant: "t\x00", Run: run})
	wantIs(t, err, ErrInvalid)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Enqueue(ctx, Message{ID: "m", Run: run})
	wantIs(t, err, ErrCancelled, context.Canceled)
}

// Tickets under fire: 8 goroutines submit 400 jobs with ids from a small
// pool onto 2 slots and, at random, cancel their own ticket, wait with a
// short ctx, or cancel the caller's ctx, while the jobs end by themselves.
// Every accepted job gets exactly one outcome, and the stats add up.
func TestTicketStress(t *testing.T) {
	l := newLane(t, WithMaxConcurrent(2), WithPolicy(FairShare))
	var accepted, outcomes, dup atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for i := 0; i < 50; i++ {
				ctx, cancel := context.WithCancel(context.Background())
				var once atomic.Int32
				runFor := time.Duration(rng.Intn(400)) * time.Microsecond
				tk, err := l.Submit(ctx, Job{
					ID:     fmt.Sprintf("id-%d", rng.Intn(6)),
					Tenant: fmt.Sprint(seed % 3),
					Run: func(ctx context.Context) error {
						select {
						case <-time.After(runFor):
							return nil
						case <-ctx.Done():
							return context.Cause(ctx)
						}
					},
					OnDone: func(error) {
						if once.Add(1) != 1 {
							t.Error("two outcomes for one job")
						}
						outcomes.Add(1)
					},
				})
				if errors.Is(err, ErrDuplicate) {
					dup.Add(1)
					cancel()
					continue
				}
				if err != nil {
					t.Errorf("Submit: %v", err)
					cancel()
					continue
				}
				accepted.Add(1)
				switch rng.Intn(4) {
				case 0:
					_ = tk.Cancel()
				case 1:
					cancel()
				case 2:
					short, c2 := context.WithTimeout(context.Background(), time.Duration(rng.Intn(200))*time.Microsecond)
					_ = tk.Wait(short)
					c2()
				}
				err = tk.Wait(context.Background())
				if err != nil && !errors.Is(err, ErrCancelled) {
					t.Errorf("outcome %v", err)
				}
				cancel()
			}
		}(int64(w))
	}
	wg.Wait()
	if err := l.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := l.Stats()
	if outcomes.Load() != accepted.Load() || int64(s.Submitted) != accepted.Load() {
		t.Fatalf("accepted %d, outcomes %d, stats %+v", accepted.Load(), outcomes.Load(), s)
	}
	if s.Completed+s.Failed+s.Cancelled != s.Submitted || s.Running != 0 || s.Queued != 0 {
		t.Fatalf("stats do not add up: %+v", s)
	}
	if accepted.Load() == 0 {
		t.Fatal("nothing accepted")
	}
}
