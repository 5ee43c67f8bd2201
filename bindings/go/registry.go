package lane

import (
	"fmt"
	"sync"
	"time"
)

// A Registry is a set of named lanes (lane_registry_t) created on first
// use, sized from a config source, with Prometheus metrics and an optional
// occupancy history (NewSampler). It is safe for concurrent use. Close it
// when done.
//
// No library thread ever calls into Go: the config source is either the
// environment (the library's default) or a static table that the binding
// keeps in C memory and looks up with a C callback (WithConfig, SetConfig);
// the registry's log goes to stderr (a Go logger would be a library thread
// calling Go).
type Registry struct {
	retire bool // IdleRetire > 0: lanes are borrowed again for every call

	// cmu guards the C handle: calls hold it for reading, Close for writing.
	cmu sync.RWMutex
	c   cRegistry
	cfg cConfig // nil: the environment

	mu       sync.Mutex
	closed   bool
	done     chan struct{} // closed when Close is complete
	lanes    map[string]*Lane
	samplers map[*Sampler]struct{}
}

type regConfig struct {
	config    map[string]int64
	hasConfig bool
	policy    Policy
	defMax    uint32
	retire    int64
	err       error
}

// A RegistryOption configures NewRegistry.
type RegistryOption func(*regConfig)

func (c *regConfig) invalid(format string, args ...any) {
	if c.err == nil {
		c.err = newError("new registry", StatusInvalid, fmt.Sprintf(format, args...))
	}
}

// WithConfig makes m the registry's config source instead of the
// environment. Keys are the library's, such as "lanes.llm.max_concurrent";
// a key that is absent gets the default. The values are copied into C
// memory (see SetConfig to replace them).
func WithConfig(m map[string]int64) RegistryOption {
	return func(c *regConfig) {
		c.config = m
		c.hasConfig = true
	}
}

// DefaultMaxConcurrent sets the slots of a lane the config says nothing
// about (default 1).
func DefaultMaxConcurrent(n int) RegistryOption {
	return func(c *regConfig) {
		if n < 1 || n > 1<<31 {
			c.invalid("DefaultMaxConcurrent(%d): must be at least 1", n)
			return
		}
		c.defMax = uint32(n)
	}
}

// DefaultPolicy sets the registry lanes' queue order (default FairShare).
func DefaultPolicy(p Policy) RegistryOption {
	return func(c *regConfig) {
		if p != FIFO && p != FairShare {
			c.invalid("unknown policy %d", int32(p))
			return
		}
		c.policy = p
	}
}

// IdleRetire removes a lane that has had nothing running or queued and has
// not been borrowed for d (0, the default, never). The binding then borrows
// the lane again for every call on its *Lane, so a retired lane comes back
// on its next use; d must be far longer than one call.
func IdleRetire(d time.Duration) RegistryOption {
	return func(c *regConfig) {
		if d < 0 {
			c.invalid("IdleRetire(%v): negative", d)
			return
		}
		c.retire = int64(d)
	}
}

// NewRegistry creates a registry. Without WithConfig its config source is
// the environment: lanes.<name>.max_concurrent is LANE_<NAME>_MAX_CONCURRENT.
func NewRegistry(opts ...RegistryOption) (*Registry, error) {
	var rc regConfig
	for _, o := range opts {
		o(&rc)
	}
	if rc.err != nil {
		return nil, rc.err
	}
	var cfg cConfig
	if rc.hasConfig {
		cfg = cConfigNew()
		if cfg == nil {
			return nil, newError("new registry", StatusNoMem, "out of memory")
		}
		if err := cConfigSet(cfg, rc.config); err != nil {
			cConfigFree(cfg)
			return nil, err
		}
	}
	c, err := cRegistryCreate(cfg, rc.policy, rc.defMax, rc.retire)
	if err != nil {
		cConfigFree(cfg)
		return nil, err
	}
	return &Registry{
		retire:   rc.retire > 0,
		c:        c,
		cfg:      cfg,
		done:     make(chan struct{}),
		lanes:    make(map[string]*Lane),
		samplers: make(map[*Sampler]struct{}),
	}, nil
}

func (r *Registry) closedErr(op string) error {
	return newError(op, StatusClosed, "registry is closed")
}

// use runs f on the live C registry.
func (r *Registry) use(op string, f func(cRegistry) error) error {
	r.cmu.RLock()
	defer r.cmu.RUnlock()
	if r.c == nil {
		return r.closedErr(op)
	}
	return f(r.c)
}

// borrow is cl() for an IdleRetire registry's lane; nil when closed.
func (r *Registry) borrow(name string) cLane {
	r.cmu.RLock()
	defer r.cmu.RUnlock()
	if r.c == nil {
		return nil
	}
	return cRegistryBorrow(r.c, name)
}

// SetConfig replaces the static config table of a registry made with
// WithConfig (ErrInvalid otherwise). Lanes created from now on read it;
// existing lanes are resized by Reload.
func (r *Registry) SetConfig(m map[string]int64) error {
	return r.use("set config", func(cRegistry) error {
		if r.cfg == nil {
			return newError("set config", StatusInvalid, "the registry reads the environment (no WithConfig)")
		}
		return cConfigSet(r.cfg, m)
	})
}

// Lane returns the lane called name, created on first use with its
// max_concurrent from the config and the registry's default policy. Names
// are 1 to 128 characters from [A-Za-z0-9_.:-] (ErrInvalid otherwise, with
// liblane's message). Calling Lane again with the same name returns the same
// *Lane. The *Lane has every method of a standalone one; see Lane.Close for
// what closing a borrowed lane does.
func (r *Registry) Lane(name string) (*Lane, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, r.closedErr("registry lane")
	}
	if l := r.lanes[name]; l != nil {
		l.mu.Lock()
		closing := l.closing
		l.mu.Unlock()
		if !closing {
			return l, nil
		}
	}
	var c cLane
	var p cPort
	err := r.use("registry lane", func(rc cRegistry) error {
		var err error
		c, p, err = cRegistryLane(rc, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	l := wrapLane(name, c, p, r)
	r.lanes[name] = l
	return l, nil
}

// forget drops a closed *Lane from the cache (if it is still the cached one).
func (r *Registry) forget(l *Lane) {
	r.mu.Lock()
	if r.lanes[l.name] == l {
		delete(r.lanes, l.name)
	}
	r.mu.Unlock()
}

// Names lists the registry's lanes in sorted order.
func (r *Registry) Names() []string {
	var names []string
	_ = r.use("names", func(rc cRegistry) error {
		names = cRegistryNames(rc)
		return nil
	})
	return names
}

// Reload re-reads every lane's max_concurrent from the config source and
// resizes the lanes in place; no job is lost.
func (r *Registry) Reload() error {
	return r.use("reload", cRegistryReload)
}

// Remove removes and destroys an idle lane. A lane with work queued or
// running is refused with ErrBusy and stays; an unknown name is ErrInvalid.
// Once removed, the lane's *Lane is closed (its methods return ErrClosed)
// and the next Lane(name) creates a new lane.
func (r *Registry) Remove(name string) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return r.closedErr("remove")
	}
	l := r.lanes[name]
	if l != nil {
		// No call may be inside the C lane while it is destroyed.
		l.cmu.Lock()
		if l.destroyed {
			l.cmu.Unlock()
			l = nil
		}
	}
	var final Stats
	if l != nil {
		final, _ = cStats(l.cl(), l.name)
	}
	err := r.use("remove", func(rc cRegistry) error { return cRegistryRemove(rc, name) })
	if l != nil {
		if err == nil {
			l.c = nil
			l.destroyed = true
			l.mu.Lock()
			l.final = final
			l.mu.Unlock()
			delete(r.lanes, name)
		}
		l.cmu.Unlock()
	}
	r.mu.Unlock()
	if err == nil && l != nil {
		// The lane was idle: every job of ours has its DONE in our port.
		// Settle them and stop the poller.
		_ = l.Close()
	}
	return err
}

// Metrics returns every lane's metrics in the Prometheus text exposition
// format 0.0.4 (series such as lane_running{lane="llm"}).
func (r *Registry) Metrics() (string, error) {
	var text string
	err := r.use("metrics", func(rc cRegistry) error {
		var err error
		text, err = cRegistryMetrics(rc)
		return err
	})
	return text, err
}

// Close closes the registry's samplers (as Sampler.Close does), then the
// binding's *Lanes (as Lane.Close does for a borrowed lane: their jobs are
// cancelled and awaited, their pollers and ports stopped), then destroys the
// registry and all its lanes. A *Lane or *Sampler kept past Close returns
// ErrClosed from its methods; closing it again is a no-op. Idempotent. Do
// not call it from inside a Run of one of its lanes.
func (r *Registry) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		<-r.done // a concurrent first Close may still be at work
		return nil
	}
	r.closed = true
	lanes := make([]*Lane, 0, len(r.lanes))
	for _, l := range r.lanes {
		lanes = append(lanes, l)
	}
	samplers := make([]*Sampler, 0, len(r.samplers))
	for s := range r.samplers {
		samplers = append(samplers, s)
	}
	r.mu.Unlock()

	for _, s := range samplers {
		_ = s.Close()
	}
	for _, l := range lanes {
		_ = l.Close()
	}
	r.cmu.Lock()
	cRegistryDestroy(r.c)
	r.c = nil
	cConfigFree(r.cfg)
	r.cfg = nil
	r.cmu.Unlock()
	close(r.done)
	return nil
}
