package lane

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A Registry is a set of named lanes (lane_registry_t) created on first
// use, configured from a config source, with Prometheus metrics and an
// optional occupancy history (NewSampler). It is safe for concurrent use.
// Close it when done.
//
// No library thread ever calls into Go: the config source is either the
// environment (the library's default) or a table that the binding keeps in
// C memory and looks up with a C callback (WithConfig, WithLane,
// SetConfig); the registry's log lines (WithLogger) go through a pipe that
// a goroutine of the registry reads.
type Registry struct {
	retire bool // WithIdleRetire > 0: lanes are borrowed again for every call

	// cmu guards the C handle: calls hold it for reading, Close for writing.
	cmu sync.RWMutex
	c   cRegistry
	cfg cConfig // nil: the environment

	mu       sync.Mutex
	closed   bool
	done     chan struct{} // closed when Close is complete
	lanes    map[string]*Lane
	samplers map[*Sampler]struct{}
	table    map[string]int64 // the Go copy of the C table (SetConfig merges into it)

	log     logSink       // where C writes the log lines; nil without WithLogger
	logDone chan struct{} // the log reader has stopped
}

type regConfig struct {
	table     map[string]int64
	hasConfig bool
	policy    Policy
	defMax    uint32
	retire    int64
	logger    *slog.Logger
	cluster   *Cluster
	err       error
}

// A RegistryOption configures NewRegistry.
type RegistryOption func(*regConfig)

func (c *regConfig) invalid(format string, args ...any) {
	if c.err == nil {
		c.err = newError("new registry", StatusInvalid, fmt.Sprintf(format, args...))
	}
}

func (c *regConfig) set(k string, v int64) {
	if c.table == nil {
		c.table = make(map[string]int64)
	}
	c.table[k] = v
}

// WithConfig makes m the registry's config source instead of the
// environment. Keys are lanes.<name>.<option>, the options of lane.h's
// "Registry lane options": max_concurrent, policy (1 FIFO, 2 FairShare),
// eta_window (0 means the default for these two, as in lane_options_t), preemption_off (0/1), preempt_min_runtime_ns (< 0 = no guard),
// preempt_overcommit (0/1), max_queued, eta_default_runtime_ns, aging_ns. A
// key that is absent gets the default. An unknown key or a value out of
// range makes NewRegistry fail with ErrInvalid. The values are copied.
func WithConfig(m map[string]int64) RegistryOption {
	return func(c *regConfig) {
		c.hasConfig = true
		for k, v := range m {
			if err := checkConfigKey(k, v); err != nil {
				c.invalid("%s", err.(*Error).Message)
				return
			}
			c.set(k, v)
		}
	}
}

// WithLane configures one lane from code, with the options of New
// (WithMaxConcurrent, WithPolicy, WithETAWindow, WithoutPreemption,
// WithPreemptMinRuntime, WithPreemptOvercommit, WithMaxQueued,
// WithETADefaultRuntime, WithAging).
// They become the lane's config keys (lanes.<name>.<option>) in the
// registry's table, so Reload and Metrics see them like any other config;
// keys that WithConfig also gives are overridden. Without WithConfig the
// other keys still come from the environment.
func WithLane(name string, opts ...Option) RegistryOption {
	return func(c *regConfig) {
		var lc config
		for _, o := range opts {
			o(&lc)
		}
		if lc.err != nil {
			if c.err == nil {
				e := *lc.err.(*Error)
				e.Op = "new registry"
				e.Message = "lane '" + name + "': " + e.Message
				c.err = &e
			}
			return
		}
		if err := checkString("new registry", "lane name", name); err != nil || name == "" {
			c.invalid("WithLane: bad lane name %q", name)
			return
		}
		k := func(opt string) string { return "lanes." + name + "." + opt }
		if lc.maxConcurrent != 0 {
			c.set(k("max_concurrent"), int64(lc.maxConcurrent))
		}
		if lc.policy != 0 {
			c.set(k("policy"), int64(lc.policy))
		}
		if lc.etaWindow != 0 {
			c.set(k("eta_window"), int64(lc.etaWindow))
		}
		if lc.preemptionOff {
			c.set(k("preemption_off"), 1)
		}
		if lc.preemptMinRuntime != 0 {
			c.set(k("preempt_min_runtime_ns"), lc.preemptMinRuntime)
		}
		if lc.overcommit {
			c.set(k("preempt_overcommit"), 1)
		}
		if lc.maxQueued != 0 {
			c.set(k("max_queued"), int64(lc.maxQueued))
		}
		if lc.etaDefaultRuntime != 0 {
			c.set(k("eta_default_runtime_ns"), lc.etaDefaultRuntime)
		}
		if lc.aging != 0 {
			c.set(k("aging_ns"), lc.aging)
		}
	}
}

// WithLogger sends the registry's log lines (bad config values, and its
// samplers' failures) to logger instead of stderr: LANE_LOG_ERROR as
// slog.LevelError, WARN as LevelWarn, INFO as LevelInfo, with attribute
// "source"="liblane". liblane writes them from its threads into a pipe
// that a goroutine reads, so a line may arrive a moment later; if the pipe
// is full (a stalled logger) lines are dropped rather than block liblane.
func WithLogger(logger *slog.Logger) RegistryOption {
	return func(c *regConfig) { c.logger = logger }
}

// WithDefaultMaxConcurrent sets the slots of a lane the config says nothing
// about (default 1).
func WithDefaultMaxConcurrent(n int) RegistryOption {
	return func(c *regConfig) {
		if n < 1 || n > 1<<31 {
			c.invalid("WithDefaultMaxConcurrent(%d): must be at least 1", n)
			return
		}
		c.defMax = uint32(n)
	}
}

// WithDefaultPolicy sets the registry lanes' queue order (default FairShare).
func WithDefaultPolicy(p Policy) RegistryOption {
	return func(c *regConfig) {
		if p != FIFO && p != FairShare {
			c.invalid("unknown policy %d", int32(p))
			return
		}
		c.policy = p
	}
}

// WithIdleRetire removes a lane that has had nothing running or queued and
// has not been borrowed for d (0, the default, never). The binding then
// borrows the lane again for every call on its *Lane, so a retired lane
// comes back on its next use; d must be far longer than one call.
func WithIdleRetire(d time.Duration) RegistryOption {
	return func(c *regConfig) {
		if d < 0 {
			c.invalid("WithIdleRetire(%v): negative", d)
			return
		}
		c.retire = int64(d)
	}
}

// WithRegistryCluster makes every lane of the registry a member of the lane
// of its name on the cluster's Redis, as WithCluster does for a lane of its
// own (preempt_overcommit is then off). The cluster must stay open until the
// registry is closed.
func WithRegistryCluster(cl *Cluster) RegistryOption {
	return func(c *regConfig) {
		if cl == nil {
			c.invalid("WithRegistryCluster(nil)")
			return
		}
		c.cluster = cl
	}
}

// configRanges are the valid values of each lane option key (lane.h).
var configRanges = map[string][2]int64{
	"max_concurrent":         {1, math.MaxUint32},
	"policy":                 {0, int64(FairShare)}, // 0: the registry's default
	"eta_window":             {0, math.MaxUint32},   // 0: 16
	"preemption_off":         {0, 1},
	"preempt_min_runtime_ns": {math.MinInt64, math.MaxInt64},
	"preempt_overcommit":     {0, 1},
	"max_queued":             {0, math.MaxUint32},
	"eta_default_runtime_ns": {0, math.MaxInt64},
	"aging_ns":               {0, math.MaxInt64},
}

// checkConfigKey says whether k = v is a key the registry reads with a
// value in its range.
func checkConfigKey(k string, v int64) error {
	bad := func(why string) error {
		return newError("set config", StatusInvalid, fmt.Sprintf("config %s = %d: %s", k, v, why))
	}
	rest, ok := strings.CutPrefix(k, "lanes.")
	dot := strings.LastIndexByte(rest, '.')
	if !ok || dot <= 0 {
		return bad("keys are lanes.<name>.<option>")
	}
	name, opt := rest[:dot], rest[dot+1:]
	if len(name) > 128 || strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:-", r))
	}) {
		return bad("the lane name is not 1 to 128 of [A-Za-z0-9_.:-]")
	}
	rng, ok := configRanges[opt]
	if !ok {
		return bad("unknown option '" + opt + "'")
	}
	if v < rng[0] || v > rng[1] {
		return bad(fmt.Sprintf("must be in [%d, %d]", rng[0], rng[1]))
	}
	return nil
}

// NewRegistry creates a registry. Without WithConfig its config source is
// the environment: lanes.<name>.<option> is LANE_<NAME>_<OPTION> (e.g.
// LANE_LLM_MAX_CONCURRENT), under the keys that WithLane sets.
func NewRegistry(opts ...RegistryOption) (*Registry, error) {
	var rc regConfig
	for _, o := range opts {
		o(&rc)
	}
	if rc.err != nil {
		return nil, rc.err
	}
	var logR io.ReadCloser
	var log logSink
	logTarget := noLog
	if rc.logger != nil {
		var err error
		if logR, log, err = newLogSink(); err != nil {
			return nil, newError("new registry", StatusInternal, "log pipe: "+err.Error())
		}
		logTarget = log.target()
	}
	fail := func(err error) (*Registry, error) {
		if log != nil {
			log.closeWrite()
			_ = logR.Close()
		}
		return nil, err
	}
	var cfg cConfig
	if rc.hasConfig || len(rc.table) > 0 {
		cfg = cConfigNew(!rc.hasConfig, logTarget)
		if cfg == nil {
			return fail(newError("new registry", StatusNoMem, "out of memory"))
		}
		if err := cConfigSet(cfg, rc.table); err != nil {
			cConfigFree(cfg)
			return fail(err)
		}
	}
	var cl cCluster
	if rc.cluster != nil {
		// The cluster may not be closed while the registry is made on it
		// (once made, the library refuses to close it before the registry).
		rc.cluster.mu.Lock()
		defer rc.cluster.mu.Unlock()
		if rc.cluster.c == nil {
			cConfigFree(cfg)
			return fail(newError("new registry", StatusInvalid, "WithRegistryCluster: the cluster is closed"))
		}
		cl = rc.cluster.c
	}
	c, err := cRegistryCreate(cfg, rc.policy, rc.defMax, rc.retire, logTarget, cl)
	if err != nil {
		cConfigFree(cfg)
		return fail(err)
	}
	r := &Registry{
		retire:   rc.retire > 0,
		c:        c,
		cfg:      cfg,
		done:     make(chan struct{}),
		lanes:    make(map[string]*Lane),
		samplers: make(map[*Sampler]struct{}),
		table:    rc.table,
		log:      log,
	}
	if log != nil {
		r.logDone = make(chan struct{})
		go readLog(logR, rc.logger, r.logDone)
	}
	return r, nil
}

// A logSink is where golane_log writes a registry's lines (WithLogger),
// one per platform (registry_log_unix.go, registry_log_windows.go);
// readLog reads them from the io.ReadCloser that newLogSink returns with it.
type logSink interface {
	target() uintptr // golane_log's ud
	closeWrite()     // after the C registry is gone: the reader then sees EOF
}

// readLog hands each line of the registry's log pipe to logger until the
// write end is closed (Registry.Close).
func readLog(f io.ReadCloser, logger *slog.Logger, done chan struct{}) {
	defer close(done)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		levelText, msg, _ := strings.Cut(sc.Text(), " ")
		level := slog.LevelInfo
		switch levelText {
		case "0":
			level = slog.LevelError
		case "1":
			level = slog.LevelWarn
		}
		logger.Log(context.Background(), level, msg, "source", "liblane")
	}
}

// usable is ErrInvalid for a nil *Registry and ErrClosed for a zero one.
func (r *Registry) usable(op string) error {
	if r == nil {
		return newError(op, StatusInvalid, "nil *Registry")
	}
	if r.done == nil {
		return newError(op, StatusClosed, "zero Registry: make one with NewRegistry")
	}
	return nil
}

func (r *Registry) closedErr(op string) error {
	return newError(op, StatusClosed, "registry is closed")
}

// use runs f on the live C registry.
func (r *Registry) use(op string, f func(cRegistry) error) error {
	if err := r.usable(op); err != nil {
		return err
	}
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

// SetConfig merges m into the registry's config table: each key of m is
// set (added or replaced), every other key keeps its value; a key is never
// removed (set it to its default instead). Every key is checked first, as
// WithConfig does: an unknown key or a value out of range is ErrInvalid and
// nothing is changed. Lanes created from now on read the table; Reload
// applies it to existing lanes. A registry that reads the environment (no
// WithConfig and no WithLane) has no table: ErrInvalid.
func (r *Registry) SetConfig(m map[string]int64) error {
	if err := r.usable("set config"); err != nil {
		return err
	}
	for k, v := range m {
		if err := checkConfigKey(k, v); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.use("set config", func(cRegistry) error {
		if r.cfg == nil {
			return newError("set config", StatusInvalid, "the registry reads the environment (no WithConfig or WithLane)")
		}
		merged := make(map[string]int64, len(r.table)+len(m))
		for k, v := range r.table {
			merged[k] = v
		}
		for k, v := range m {
			merged[k] = v
		}
		if err := cConfigSet(r.cfg, merged); err != nil {
			return err
		}
		r.table = merged
		return nil
	})
}

// Config returns a copy of the registry's config table (nil when it reads
// the environment).
func (r *Registry) Config() map[string]int64 {
	if r.usable("config") != nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg == nil {
		return nil
	}
	out := make(map[string]int64, len(r.table))
	for k, v := range r.table {
		out[k] = v
	}
	return out
}

// Lane returns the lane called name, created on first use with its
// max_concurrent from the config and the registry's default policy. Names
// are 1 to 128 characters from [A-Za-z0-9_.:-] (ErrInvalid otherwise, with
// liblane's message). Calling Lane again with the same name returns the same
// *Lane. The *Lane has every method of a standalone one; see Lane.Close for
// what closing a borrowed lane does.
func (r *Registry) Lane(name string) (*Lane, error) {
	if err := r.usable("registry lane"); err != nil {
		return nil, err
	}
	if err := checkString("registry lane", "lane name", name); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, r.closedErr("registry lane")
	}
	if l := r.lanes[name]; l != nil {
		return l, nil // closed or not: one *Lane per name until Remove
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
	if err := r.usable("remove"); err != nil {
		return err
	}
	if err := checkString("remove", "lane name", name); err != nil {
		return err
	}
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
	if err == nil {
		delete(r.lanes, name) // a closed *Lane goes too: the next Lane(name) is new
	}
	if l != nil {
		if err == nil {
			l.c = nil
			l.destroyed = true
			l.mu.Lock()
			l.final = final
			l.mu.Unlock()
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

// MetricsHandler serves Metrics over HTTP (GET or HEAD; content type
// text/plain; version=0.0.4), for a mux such as
// http.Handle("/metrics", reg.MetricsHandler()). A failure is a 500 with
// the error's text; a closed registry is a 503.
func (r *Registry) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		text, err := r.Metrics()
		if err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, ErrClosed) {
				code = http.StatusServiceUnavailable
			}
			http.Error(w, err.Error(), code)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(text)))
		if req.Method == http.MethodGet {
			_, _ = io.WriteString(w, text)
		}
	})
}

// Close closes the registry's samplers (as Sampler.Close does), then the
// binding's *Lanes (as Lane.Close does for a borrowed lane: their jobs are
// cancelled and awaited, their pollers and ports stopped), then destroys the
// registry and all its lanes. A *Lane or *Sampler kept past Close returns
// ErrClosed from its methods; closing it again is a no-op. Idempotent. Do
// not call it from inside a Run of one of its lanes.
func (r *Registry) Close() error {
	if r == nil {
		return newError("close", StatusInvalid, "nil *Registry")
	}
	if r.done == nil {
		return nil
	}
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
	if r.log != nil {
		r.log.closeWrite() // nothing writes any more: the reader sees EOF
		<-r.logDone
	}
	close(r.done)
	return nil
}
