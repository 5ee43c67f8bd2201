package lane

import "time"

// Stats are a lane's counters (lane_stats_t). At any quiet moment
// Submitted == Completed + Failed + Cancelled + Preempted + TimedOut +
// Closed + Running + Queued.
type Stats struct {
	Name           string
	MaxConcurrent  int
	Running        int
	Queued         int
	OldestQueuedAt time.Time // zero when nothing is queued
	Throughput1m   int       // jobs ended in the last 60 s
	Submitted      uint64    // accepted submissions
	Completed      uint64    // outcomes: ok
	Failed         uint64    // Run returned an error or panicked
	Cancelled      uint64
	Preempted      uint64
	TimedOut       uint64
	Closed         uint64
	Refused        uint64 // busy, duplicate, full, closed at submit (the binding's own refusals included)
	WaitP50        time.Duration
	WaitP99        time.Duration
	RunP50         time.Duration
	RunP99         time.Duration
	Paused         bool
	CooldownUntil  time.Time // zero when not cooling down
	BlockedBy      BlockedBy // why the head of the queue waits
	Preemptions    uint64    // preemption requests (requeued victims included)
	ETAWindow      int       // runtimes kept for the ETA
	MeanRuntime    time.Duration
	// Budgets (see Lane.SetRateLimit, Lane.SetTenantLimit, WithAdaptive).
	Width       int       // the cap in slots now: the adaptive width, else MaxConcurrent
	SlotsInUse  int       // slots held by running jobs (a job may hold several)
	Released    int       // running jobs that gave their slots back (Release) and do not want them yet
	Reacquiring int       // running jobs waiting to get their slots back (they count as running)
	RateWaits   uint64    // jobs whose grant a rate limit delayed
	RateReadyAt time.Time // when the rate limits let the queue's front go; zero when not held by them
	CostUsed    int64     // finished runs' cost: reported (SetCost), else the estimate (Job.Cost)
	Overloads   uint64    // overloaded finishes (adaptive lanes)
	// Shared lanes (WithCluster); all zero for a lane of this process only.
	Shared          bool   // a member of the lane of its name on a cluster
	Available       bool   // its Redis answered the last time it was asked
	GlobalRunning   int    // slots granted across every member, as of the last answer
	GlobalQueued    int    // slots the members wait for, as of the last answer
	LeasesLost      uint64 // grants whose lease ran out before this member gave them back
	ReleasesRefused uint64 // late releases refused (the slot had gone to another holder)
}
