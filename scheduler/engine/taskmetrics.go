package engine

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// TaskMetricsEnv names the file a job may write its counters to, in
// Prometheus's text format, before it exits (prometheus.WriteToTextfile).
// Batch jobs live for one try, too short to be scraped; the scheduler that
// runs them reads the file after the try and serves the counters, summed
// over tries, with dag and task labels added: it is their exporter, and no
// push gateway is needed.
const TaskMetricsEnv = "WEIR_TASK_METRICS"

// taskCounters is the collector of the counters jobs reported.
type taskCounters struct {
	mu     sync.Mutex
	series map[string]*taskSeries // by name and label pairs
}

type taskSeries struct {
	desc   *prometheus.Desc
	values []string // label values, in desc's order
	value  float64
}

func newTaskCounters() *taskCounters { return &taskCounters{series: map[string]*taskSeries{}} }

// Describe sends nothing: the series are known only once jobs report them
// (an unchecked collector).
func (c *taskCounters) Describe(chan<- *prometheus.Desc) {}

func (c *taskCounters) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.series {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.CounterValue, s.value, s.values...)
	}
}

// add adds the counters in r (text format) to the task's series. Other
// metric types are refused: a gauge of a finished process means nothing.
func (c *taskCounters) add(dag, task string, r io.Reader) error {
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return fmt.Errorf("parse task metrics: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []string
	for name, f := range fams {
		if f.GetType() != dto.MetricType_COUNTER {
			errs = append(errs, name+" is not a counter")
			continue
		}
		for _, m := range f.GetMetric() {
			names := []string{"dag", "task"}
			values := []string{dag, task}
			pairs := m.GetLabel()
			sort.Slice(pairs, func(i, j int) bool { return pairs[i].GetName() < pairs[j].GetName() })
			for _, l := range pairs {
				if l.GetName() == "dag" || l.GetName() == "task" {
					continue
				}
				names = append(names, l.GetName())
				values = append(values, l.GetValue())
			}
			key := name + "\x00" + strings.Join(names, "\x00") + "\x00" + strings.Join(values, "\x00")
			s := c.series[key]
			if s == nil {
				s = &taskSeries{desc: prometheus.NewDesc(name, f.GetHelp(), names, nil), values: values}
				c.series[key] = s
			}
			s.value += m.GetCounter().GetValue()
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("task metrics: %s", strings.Join(errs, "; "))
	}
	return nil
}

// readTaskMetrics adds what the job wrote to path, if anything, and removes
// the file.
func (c *taskCounters) readFile(dag, task, path string) error {
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.add(dag, task, f)
}
