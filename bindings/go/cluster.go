package lane

import (
	"context"
	"sync"
	"time"
)

// ClusterOptions says where the Redis is that member lanes share.
type ClusterOptions struct {
	URL           string        // "redis://host:port/db"; "" -> redis://127.0.0.1:6379/0
	KeyPrefix     string        // "" -> "lane"; keys are {prefix:lane}:...
	Lease         time.Duration // 0 -> 10 s; else at least 100 ms
	Timeout       time.Duration // connect and command timeout; 0 -> 1 s
	FallbackSlots int           // while Redis is unreachable: 0 refuses new jobs (ErrUnavailable), n runs n per lane locally
}

// A Cluster is a connection to a Redis on which lanes of the same name, in
// any process on any host, share one cap: a member lane (WithCluster) runs
// a job only on a slot granted there. Slots are leases; a process that dies
// or stalls loses them when the lease ends. See docs/cluster.md.
type Cluster struct {
	mu sync.Mutex
	c  cCluster
}

// NewCluster connects (ErrUnavailable if Redis does not answer within the
// timeout). A liblane built without hiredis answers ErrUnsupported.
func NewCluster(o ClusterOptions) (*Cluster, error) {
	if o.Lease < 0 || o.Timeout < 0 || o.FallbackSlots < 0 || o.FallbackSlots > 1<<31 {
		return nil, newError("cluster create", StatusInvalid, "negative Lease, Timeout or FallbackSlots")
	}
	c, err := cClusterCreate(o)
	if err != nil {
		return nil, err
	}
	return &Cluster{c: c}, nil
}

// Close disconnects. Its lanes must be closed first (ErrInvalid otherwise,
// and the cluster stays open). Closing twice is a no-op.
func (c *Cluster) Close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.c == nil {
		return nil
	}
	if err := cClusterDestroy(c.c); err != nil {
		return err
	}
	c.c = nil
	return nil
}

// WithCluster makes the lane a member of the lane of its name on the
// cluster's Redis. The cluster must stay open until the lane is closed.
func WithCluster(c *Cluster) Option {
	return func(cfg *config) {
		if c == nil {
			cfg.invalid("WithCluster(nil)")
			return
		}
		c.mu.Lock()
		open := c.c != nil
		c.mu.Unlock()
		if !open {
			cfg.invalid("WithCluster: the cluster is closed")
			return
		}
		cfg.cluster = c
	}
}

// Fence returns, from inside Run of a shared lane's job, the fencing number
// of the grant the run holds: it grows with every grant of the lane in every
// process, so a resource the job writes to can refuse a writer whose number
// is older than one it has seen. 0 on a lane of this process only, or on a
// slot of the fallback share.
func Fence(ctx context.Context) (uint64, error) {
	var f uint64
	err := withRunCtx("fence", ctx, func(c cCtx) error {
		f = cCtxFence(c)
		return nil
	})
	return f, err
}
