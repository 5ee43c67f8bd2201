package lane

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

func newRegistry(t testing.TB, opts ...RegistryOption) *Registry {
	t.Helper()
	r, err := NewRegistry(opts...)
	if err != nil {
		t.Fatalf("NewRegistry: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("registry Close: %v", err)
		}
	})
	return r
}

func regLane(t testing.TB, r *Registry, name string) *Lane {
	t.Helper()
	l, err := r.Lane(name)
	if err != nil {
		t.Fatalf("Lane(%q): %v", name, err)
	}
	return l
}

func TestRegistryConfigFromAMapAndReloadAfterSetConfig(t *testing.T) {
	r := newRegistry(t, WithConfig(map[string]int64{"lanes.llm.max_concurrent": 2}), WithDefaultMaxConcurrent(3))
	llm := regLane(t, r, "llm")
	if got := llm.Stats().MaxConcurrent; got != 2 {
		t.Fatalf("llm max concurrent %d, want 2 (config)", got)
	}
	if got := regLane(t, r, "tools").Stats().MaxConcurrent; got != 3 {
		t.Fatalf("tools max concurrent %d, want 3 (default)", got)
	}
	if err := r.SetConfig(map[string]int64{"lanes.llm.max_concurrent": 5, "lanes.tools.max_concurrent": 4}); err != nil {
		t.Fatal(err)
	}
	if got := llm.Stats().MaxConcurrent; got != 2 {
		t.Fatalf("resized before Reload: %d", got)
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := llm.Stats().MaxConcurrent; got != 5 {
		t.Fatalf("after Reload %d, want 5", got)
	}
	if got := regLane(t, r, "tools").Stats().MaxConcurrent; got != 4 {
		t.Fatalf("tools after Reload %d, want 4", got)
	}
	// An environment registry has no table to replace.
	env := newRegistry(t)
	wantIs(t, env.SetConfig(map[string]int64{}), ErrInvalid)
}

func TestRegistryLaneIsCachedAndRunsJobs(t *testing.T) {
	r := newRegistry(t, WithDefaultMaxConcurrent(1))
	a := regLane(t, r, "llm")
	if b := regLane(t, r, "llm"); b != a {
		t.Fatal("Lane returned a different *Lane for the same name")
	}
	if err := a.SubmitWait(context.Background(), Job{ID: "j1", Run: noop}); err != nil {
		t.Fatal(err)
	}
	g := newGate()
	defer g.open()
	pos, _ := mustSubmit(t, a, Job{ID: "run", Run: g.run})
	if pos != 0 {
		t.Fatalf("pos %d", pos)
	}
	g.waitStarted(t)
	pos, _ = mustSubmit(t, a, Job{ID: "queued", Run: noop})
	if pos != 1 {
		t.Fatalf("queued pos %d", pos)
	}
	if err := a.Cancel("queued"); err != nil {
		t.Fatal(err)
	}
	g.open()
	if err := a.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := a.Stats()
	if s.Completed != 2 || s.Cancelled != 1 {
		t.Fatalf("stats %+v", s)
	}
	checkInvariant(t, s)
}

func TestRegistryNamesAndRemove(t *testing.T) {
	r := newRegistry(t)
	for _, n := range []string{"b", "a", "c.d"} {
		regLane(t, r, n)
	}
	names := r.Names()
	if !sort.StringsAreSorted(names) || strings.Join(names, ",") != "a,b,c.d" {
		t.Fatalf("names %v", names)
	}
	// Idle: removed, its *Lane closed, the name gone.
	a := regLane(t, r, "a")
	if err := r.Remove("a"); err != nil {
		t.Fatal(err)
	}
	_, err := a.Submit(context.Background(), Job{ID: "x", Run: noop})
	wantIs(t, err, ErrClosed)
	if strings.Join(r.Names(), ",") != "b,c.d" {
		t.Fatalf("names after remove %v", r.Names())
	}
	wantIs(t, r.Remove("a"), ErrInvalid)
	if a2 := regLane(t, r, "a"); a2 == a {
		t.Fatal("a removed lane came back as the old *Lane")
	}

	// Busy: refused, stays, works; removable once idle.
	b := regLane(t, r, "b")
	g := newGate()
	defer g.open()
	out := newOutcome()
	mustSubmit(t, b, Job{ID: "busy", Run: g.run, OnDone: out.onDone})
	g.waitStarted(t)
	wantIs(t, r.Remove("b"), ErrBusy)
	if regLane(t, r, "b") != b {
		t.Fatal("busy lane replaced")
	}
	g.open()
	if err := out.wait(t); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := r.Remove("b"); err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s.Completed != 1 {
		t.Fatalf("final stats of a removed lane %+v", s)
	}
}

func TestRegistryMetricsHaveTheLanesSeries(t *testing.T) {
	r := newRegistry(t, WithConfig(map[string]int64{"lanes.llm.max_concurrent": 3}))
	l := regLane(t, r, "llm")
	if err := l.SubmitWait(context.Background(), Job{ID: "1", Run: noop}); err != nil {
		t.Fatal(err)
	}
	// Enough lanes that the text outgrows any first guess.
	for i := 0; i < 50; i++ {
		regLane(t, r, "lane-"+strings.Repeat("x", i+1))
	}
	text, err := r.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`lane_max_concurrent{lane="llm"} 3`, `lane_running{lane="llm"} 0`, "# TYPE lane_queued gauge",
		`lane="lane-` + strings.Repeat("x", 50) + `"`} {
		if !strings.Contains(text, want) {
			t.Fatalf("metrics lack %q:\n%s", want, text)
		}
	}
}

func TestRegistryInvalidNameCarriesTheLibrarysMessage(t *testing.T) {
	r := newRegistry(t)
	for _, name := range []string{"", "has space", strings.Repeat("a", 129), "é"} {
		_, err := r.Lane(name)
		wantIs(t, err, ErrInvalid)
		var e *Error
		if !errors.As(err, &e) || e.Message == "" || !strings.Contains(err.Error(), e.Message) {
			t.Fatalf("Lane(%q): %v has no library message", name, err)
		}
	}
	if len(r.Names()) != 0 {
		t.Fatalf("names %v", r.Names())
	}
	if _, err := NewRegistry(WithDefaultMaxConcurrent(0)); err == nil {
		t.Fatal("WithDefaultMaxConcurrent(0) accepted")
	}
	if _, err := NewRegistry(WithDefaultPolicy(9)); err == nil {
		t.Fatal("WithDefaultPolicy(9) accepted")
	}
}

func TestSamplerWritesSQLiteAndQueryHistoryReadsIt(t *testing.T) {
	needSQLite(t)
	r := newRegistry(t, WithDefaultMaxConcurrent(1))
	l := regLane(t, r, "llm")
	g := newGate()
	defer g.open()
	mustSubmit(t, l, Job{ID: "run", Run: g.run})
	g.waitStarted(t)
	mustSubmit(t, l, Job{ID: "q1", Run: noop})
	mustSubmit(t, l, Job{ID: "q2", Run: noop})

	path := filepath.Join(t.TempDir(), "history.db")
	s, err := r.NewSampler(path, WithInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := time.Now()
	if err := s.SampleOnce(); err != nil {
		t.Fatal(err)
	}
	rows, err := QueryHistory(path, "llm", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Running != 1 || rows[0].Queued != 2 || rows[0].Lane != "llm" ||
		rows[0].At.Before(before.Add(-time.Second)) {
		t.Fatalf("rows %+v", rows)
	}
	// The window is half-open: [from, to).
	if rows, err := QueryHistory(path, "llm", time.Time{}, rows[0].At); err != nil || len(rows) != 0 {
		t.Fatalf("before the sample: %v %v", rows, err)
	}
	if err := s.PurgeOnce(); err != nil {
		t.Fatal(err)
	}
	// The background thread adds rows.
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "background samples", func() bool {
		rows, _ := QueryHistory(path, "llm", time.Time{}, time.Time{})
		return len(rows) >= 3
	})
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if rows, err := QueryHistory(path, "nobody", time.Time{}, time.Time{}); err != nil || len(rows) != 0 {
		t.Fatalf("unknown lane: %v %v", rows, err)
	}
	if _, err := QueryHistory(filepath.Join(t.TempDir(), "missing", "no.db"), "llm", time.Time{}, time.Time{}); err == nil {
		t.Fatal("a missing history file gave no error")
	}
	if _, err := r.NewSampler(""); err == nil {
		t.Fatal("a sampler without SQLitePath was accepted")
	}
}

// Either build answers a sampler and a query consistently: with SQLite
// both fail on a file that cannot exist, without it both say
// ErrUnsupported, never a crash.
func TestTheSQLiteHistoryIsThereOrSaysUnsupported(t *testing.T) {
	r := newRegistry(t)
	missing := filepath.Join(os.TempDir(), "lane-no-such-dir", "h.db")
	_, qerr := QueryHistory(missing, "llm", time.Time{}, time.Time{})
	s, serr := r.NewSampler(missing)
	if serr == nil {
		_ = s.Close()
		t.Fatal("a sampler writing into a missing directory was created")
	}
	if qerr == nil {
		t.Fatal("a query of a missing file gave no error")
	}
	if errors.Is(qerr, ErrUnsupported) != errors.Is(serr, ErrUnsupported) {
		t.Fatalf("query: %v; sampler: %v; want both or neither ErrUnsupported", qerr, serr)
	}
}

func TestRegistryCloseWithLanesAndASamplerOpen(t *testing.T) {
	needSQLite(t)
	r, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	l := regLane(t, r, "llm")
	g := newGate()
	defer g.open()
	out := newOutcome()
	mustSubmit(t, l, Job{ID: "run", Run: g.run, OnDone: out.onDone})
	mustSubmit(t, l, Job{ID: "queued", Run: noop})
	g.waitStarted(t)
	s, err := r.NewSampler(filepath.Join(t.TempDir(), "h.db"), WithInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	wantIs(t, out.wait(t), ErrClosed)
	wantIs(t, g.seenCause(), ErrClosed)
	wantIs(t, s.SampleOnce(), ErrClosed)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = l.Submit(context.Background(), Job{ID: "late", Run: noop})
	wantIs(t, err, ErrClosed)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Lane("llm")
	wantIs(t, err, ErrClosed)
	wantIs(t, r.Reload(), ErrClosed)
	if _, err := r.Metrics(); err == nil {
		t.Fatal("metrics after Close")
	}
	if r.Names() != nil {
		t.Fatal("names after Close")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestClosingABorrowedLaneKeepsTheRegistryLane(t *testing.T) {
	r := newRegistry(t)
	l := regLane(t, r, "llm")
	g := newGate()
	defer g.open()
	out := newOutcome()
	mustSubmit(t, l, Job{ID: "run", Run: g.run, OnDone: out.onDone})
	g.waitStarted(t)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Its jobs end as on a standalone lane's Close: ErrClosed, cause ErrClosed.
	wantIs(t, out.wait(t), ErrClosed)
	wantIs(t, g.seenCause(), ErrClosed)
	if strings.Join(r.Names(), ",") != "llm" {
		t.Fatalf("names %v", r.Names())
	}
	// The same, closed, *Lane until Remove.
	if l2 := regLane(t, r, "llm"); l2 != l {
		t.Fatal("a new *Lane for a closed one")
	}
	wantIs(t, l.SubmitWait(context.Background(), Job{ID: "again", Run: noop}), ErrClosed)
	if err := r.Remove("llm"); err != nil {
		t.Fatal(err)
	}
	l3 := regLane(t, r, "llm")
	if l3 == l {
		t.Fatal("Remove kept the closed *Lane")
	}
	if err := l3.SubmitWait(context.Background(), Job{ID: "again", Run: noop}); err != nil {
		t.Fatal(err)
	}
}

func TestIdleRetireBorrowsTheLaneAgain(t *testing.T) {
	r := newRegistry(t, WithIdleRetire(20*time.Millisecond))
	l := regLane(t, r, "llm")
	if err := l.SubmitWait(context.Background(), Job{ID: "1", Run: noop}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	regLane(t, r, "other") // a registry call looks, and retires llm
	waitFor(t, "retirement", func() bool {
		for _, n := range r.Names() {
			if n == "llm" {
				return false
			}
		}
		return true
	})
	// The same *Lane still works: it borrows the lane again.
	if err := l.SubmitWait(context.Background(), Job{ID: "2", Run: noop}); err != nil {
		t.Fatal(err)
	}
}

// TestStatusIO covers the new status.
func TestStatusIO(t *testing.T) {
	if StatusIO.String() != "LANE_ERR_IO" || StatusIO.Sentinel() != ErrIO {
		t.Fatal("LANE_ERR_IO mapping")
	}
}
