package prometheus

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"liblane.dev/lane"
)

func find(fams []*dto.MetricFamily, name, laneName string, extra ...string) *dto.Metric {
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["lane"] != laneName {
				continue
			}
			for i := 0; i+1 < len(extra); i += 2 {
				if labels[extra[i]] != extra[i+1] {
					continue next
				}
			}
			return m
		}
	}
	return nil
}

func TestTheCollectorGivesClientGolangEverySeriesWithSummaryCounts(t *testing.T) {
	reg, err := lane.NewRegistry(lane.WithConfig(map[string]int64{"lanes.llm.max_concurrent": 2}))
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	llm, err := reg.Lane("llm")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		err := llm.SubmitWait(context.Background(), lane.Job{Run: func(context.Context) error {
			time.Sleep(5 * time.Millisecond)
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	pr := prometheus.NewPedanticRegistry()
	pr.MustRegister(NewCollector(reg))
	fams, err := pr.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if m := find(fams, "lane_max_concurrent", "llm"); m == nil || m.GetGauge().GetValue() != 2 {
		t.Fatalf("lane_max_concurrent: %v", m)
	}
	if m := find(fams, "lane_jobs_total", "llm", "outcome", "ok"); m == nil || m.GetCounter().GetValue() != 3 {
		t.Fatalf("lane_jobs_total ok: %v", m)
	}
	m := find(fams, "lane_run_seconds", "llm")
	if m == nil || m.GetSummary().GetSampleCount() != 3 {
		t.Fatalf("lane_run_seconds: %v", m)
	}
	if sum := m.GetSummary().GetSampleSum(); sum < 0.015 || sum > 5 {
		t.Fatalf("lane_run_seconds sum %v for 3 runs of >= 5 ms", sum)
	}
	if len(m.GetSummary().GetQuantile()) != 2 {
		t.Fatalf("quantiles %v", m.GetSummary().GetQuantile())
	}
	// The text client_golang writes back parses to the same numbers.
	n, err := testutil.GatherAndCount(pr, "lane_running", "lane_queued")
	if err != nil || n != 2 {
		t.Fatalf("GatherAndCount = %d, %v", n, err)
	}
}

func TestAClosedRegistryIsAGatheringError(t *testing.T) {
	reg, err := lane.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	pr := prometheus.NewRegistry()
	pr.MustRegister(NewCollector(reg))
	reg.Close()
	if _, err := pr.Gather(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Gather after Close: %v", err)
	}
}
