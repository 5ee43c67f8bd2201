// Package prometheus exposes a liblane Registry's metrics as a
// prometheus.Collector for client_golang. It lives in a module of its own
// so that the lane module stays free of dependencies.
//
//	reg, _ := lane.NewRegistry()
//	prometheus.MustRegister(laneprom.NewCollector(reg))
//
// Every scrape reads the registry's Prometheus text (Registry.Metrics, one
// liblane call) and hands each sample to client_golang as a constant metric:
// gauges, counters and summaries (quantiles 0.5 and 0.99, with _sum and
// _count over the same window as the quantiles) keep their names, help and
// labels.
package prometheus

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"liblane.dev/lane"
)

// Collector is a prometheus.Collector of one lane.Registry. It is
// "unchecked" (Describe sends nothing): the lanes, and so the series, come
// and go with the registry.
type Collector struct {
	reg *lane.Registry
}

// NewCollector returns a Collector of reg's lanes.
func NewCollector(reg *lane.Registry) *Collector { return &Collector{reg: reg} }

// Describe sends nothing: an unchecked collector.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect reads the registry's metrics and sends them. A failure (a closed
// registry, unparsable text) is sent as an invalid metric, which
// client_golang reports as a gathering error.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	text, err := c.reg.Metrics()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(prometheus.NewDesc("lane_error", "liblane metrics failed", nil, nil), err)
		return
	}
	fams, err := parse(text)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(prometheus.NewDesc("lane_error", "liblane metrics failed", nil, nil), err)
		return
	}
	for _, f := range fams {
		if err := send(ch, f); err != nil {
			ch <- prometheus.NewInvalidMetric(prometheus.NewDesc(f.GetName(), f.GetHelp(), nil, nil), err)
		}
	}
}

func parse(text string) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(text))
}

// send turns one parsed family into constant metrics.
func send(ch chan<- prometheus.Metric, f *dto.MetricFamily) error {
	for _, m := range f.GetMetric() {
		names := make([]string, 0, len(m.GetLabel()))
		values := make([]string, 0, len(m.GetLabel()))
		for _, lp := range m.GetLabel() {
			names = append(names, lp.GetName())
			values = append(values, lp.GetValue())
		}
		desc := prometheus.NewDesc(f.GetName(), f.GetHelp(), names, nil)
		var metric prometheus.Metric
		var err error
		switch f.GetType() {
		case dto.MetricType_GAUGE:
			metric, err = prometheus.NewConstMetric(desc, prometheus.GaugeValue, m.GetGauge().GetValue(), values...)
		case dto.MetricType_COUNTER:
			metric, err = prometheus.NewConstMetric(desc, prometheus.CounterValue, m.GetCounter().GetValue(), values...)
		case dto.MetricType_SUMMARY:
			s := m.GetSummary()
			q := make(map[float64]float64, len(s.GetQuantile()))
			for _, x := range s.GetQuantile() {
				q[x.GetQuantile()] = x.GetValue()
			}
			metric, err = prometheus.NewConstSummary(desc, s.GetSampleCount(), s.GetSampleSum(), q, values...)
		default:
			metric, err = prometheus.NewConstMetric(desc, prometheus.UntypedValue, m.GetUntyped().GetValue(), values...)
		}
		if err != nil {
			return fmt.Errorf("lane metrics: %s: %w", f.GetName(), err)
		}
		ch <- metric
	}
	return nil
}
