package lane

import (
	"math"
	"sync"
	"time"
)

// samplerConfig is what the SamplerOption functions set; zero durations take the
// library's defaults.
type samplerConfig struct {
	interval, retention, purgeInterval time.Duration
	err                                error
}

// A SamplerOption configures NewSampler.
type SamplerOption func(*samplerConfig)

func (c *samplerConfig) positive(name string, d time.Duration) bool {
	if d > 0 {
		return true
	}
	if c.err == nil {
		c.err = newError("new sampler", StatusInvalid, name+"("+d.String()+"): must be positive")
	}
	return false
}

// WithInterval sets the time between samples (default 30 s).
func WithInterval(d time.Duration) SamplerOption {
	return func(c *samplerConfig) {
		if c.positive("WithInterval", d) {
			c.interval = d
		}
	}
}

// WithRetention sets how old a row may get before a purge deletes it
// (default 7 days).
func WithRetention(d time.Duration) SamplerOption {
	return func(c *samplerConfig) {
		if c.positive("WithRetention", d) {
			c.retention = d
		}
	}
}

// WithPurgeInterval sets the time between purges (default 24 h).
func WithPurgeInterval(d time.Duration) SamplerOption {
	return func(c *samplerConfig) {
		if c.positive("WithPurgeInterval", d) {
			c.purgeInterval = d
		}
	}
}

// A Sampler records every lane's running and queued counts into a SQLite
// history, on a library thread (Start) or on demand (SampleOnce). Only the
// library's built-in SQLite sink is offered: a sink written in Go would be
// called on the sampler's library thread, and library threads never call
// into Go in this binding. A Sampler is safe for concurrent use.
type Sampler struct {
	reg *Registry
	mu  sync.RWMutex // guards c: calls hold it for reading, Close for writing
	c   cSampler
}

// NewSampler creates a sampler of r's lanes, not yet started, writing the
// SQLite history at sqlitePath (required): created if missing, WAL mode,
// shareable by several samplers and processes; read it back with
// QueryHistory.
func (r *Registry) NewSampler(sqlitePath string, opts ...SamplerOption) (*Sampler, error) {
	if err := r.usable("new sampler"); err != nil {
		return nil, err
	}
	if sqlitePath == "" {
		return nil, newError("new sampler", StatusInvalid, "the SQLite path is empty (only the SQLite sink is supported)")
	}
	if err := checkString("new sampler", "SQLite path", sqlitePath); err != nil {
		return nil, err
	}
	var o samplerConfig
	for _, opt := range opts {
		opt(&o)
	}
	if o.err != nil {
		return nil, o.err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, r.closedErr("new sampler")
	}
	var c cSampler
	err := r.use("new sampler", func(rc cRegistry) error {
		var err error
		c, err = cSamplerCreate(rc, sqlitePath, &o)
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &Sampler{reg: r, c: c}
	r.samplers[s] = struct{}{}
	return s, nil
}

func (s *Sampler) call(op string, f func(cSampler) error) error {
	if s == nil {
		return newError(op, StatusInvalid, "nil *Sampler")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return newError(op, StatusClosed, "sampler is closed")
	}
	return f(s.c)
}

// Start starts the background thread: a purge now, a sample every
// Interval, a purge every PurgeInterval. Idempotent; a stopped sampler may
// start again.
func (s *Sampler) Start() error { return s.call("sampler start", cSamplerStart) }

// Stop stops and joins the background thread. Idempotent.
func (s *Sampler) Stop() error { return s.call("sampler stop", cSamplerStop) }

// SampleOnce samples every lane now, on this goroutine's thread. ErrIO if
// the SQLite history could not be written.
func (s *Sampler) SampleOnce() error { return s.call("sample once", cSamplerSampleOnce) }

// PurgeOnce deletes rows older than now - Retention, now. ErrIO on failure.
func (s *Sampler) PurgeOnce() error { return s.call("purge once", cSamplerPurgeOnce) }

// Close stops the sampler and frees it. Idempotent; Registry.Close closes
// its samplers itself, after which Close is a no-op.
func (s *Sampler) Close() error {
	if s == nil {
		return newError("sampler close", StatusInvalid, "nil *Sampler")
	}
	s.mu.Lock()
	c := s.c
	s.c = nil
	if c != nil {
		cSamplerDestroy(c) // under mu: a concurrent Close returns after it
	}
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	s.reg.mu.Lock()
	delete(s.reg.samplers, s)
	s.reg.mu.Unlock()
	return nil
}

// A Sample is one row of the SQLite history.
type Sample struct {
	Lane    string
	Running int
	Queued  int
	At      time.Time // when it was sampled
}

// QueryHistory reads laneName's rows with from <= At < to from the SQLite
// history at path, oldest first. A zero from or to leaves that end open.
// The file is opened read-only for the call; it is safe while samplers
// write it.
func QueryHistory(path, laneName string, from, to time.Time) ([]Sample, error) {
	var f, t int64 = math.MinInt64, math.MaxInt64
	if !from.IsZero() {
		f = from.UnixNano()
	}
	if !to.IsZero() {
		t = to.UnixNano()
	}
	return cSQLiteQuery(path, laneName, f, t)
}
