// Package generate simulates the traffic of an online-sales platform for
// weir's source topics (DESIGN §2), with injected anomalies whose ground truth
// is written alongside, and producer faults at configured rates.
//
// Contract:
//   - Deterministic: the same Config (seed, start, end, rates) yields
//     byte-identical output. One seeded PCG per concern (traffic, anomalies,
//     faults), so changing fault rates does not change the clean traffic.
//     No wall clock and no map iteration reaches the output; in live mode
//     the injected clock only paces emission.
//   - Records are emitted in event-time order except for the faults that
//     break it on purpose (out-of-order records arrive 1-6 h late).
//   - Records inside an anomaly's window and scope are exempt from faults, so
//     the ground truth counts are exact.
//   - Run returns a Summary with counts per topic and per fault kind and the
//     answers a clean pipeline must produce (computed by parsing every emitted
//     record with package events), so tests need not read the lakehouse.
package generate

import (
	"errors"
	"fmt"
	"time"
)

// Config describes one generation run.
type Config struct {
	Seed uint64
	// Start is the event time of the first simulated moment.
	Start time.Time
	// End is where the simulation stops (exclusive); zero means never (live
	// mode until the context is cancelled).
	End time.Time
	// Live paces emission to the clock: a record is emitted when Now() -
	// (wall time at start) reaches its event time - Start.
	Live bool
	// Rate is the average number of records per second of event time
	// (approximate; traffic follows a daily cycle unless Flat).
	Rate float64
	// Flat drops the daily cycle: Rate holds at every hour of every day (a
	// steady load, for benchmarks at a stated rate).
	Flat bool
	// Users is the size of the user population.
	Users int
	// MetricInterval is the host-metrics sampling period.
	MetricInterval time.Duration
	// AnomalyEvery is the spacing of injected anomalies; kinds rotate. A
	// bounded run gets at least one anomaly of each enabled kind.
	AnomalyEvery time.Duration
	// Anomalies lists the kinds to inject; nil means all, empty means none.
	Anomalies []string
	Faults    FaultRates

	// Now and Sleep pace live mode; nil means the real clock.
	Now   func() time.Time
	Sleep func(time.Duration)
}

// FaultRates are per-record probabilities of each producer fault; a record
// gets at most one.
type FaultRates struct {
	Malformed  float64 `json:"malformed"`    // truncated, not JSON / not a log line, or a wrong-typed field
	NonUTF8    float64 `json:"non_utf8"`     // invalid UTF-8 bytes inside the payload
	Duplicate  float64 `json:"duplicate"`    // the same key and value produced twice
	OutOfOrder float64 `json:"out_of_order"` // produced 1-6 h of event time after its neighbours
	Future     float64 `json:"future"`       // event time 1-30 days after the run's end
}

// DefaultFaults is a low, realistic fault mix.
var DefaultFaults = FaultRates{Malformed: 0.002, NonUTF8: 0.001, Duplicate: 0.005, OutOfOrder: 0.002, Future: 0.0005}

// Default returns a configuration starting at start with realistic
// defaults; set End or Live before running.
func Default(start time.Time) Config {
	return Config{
		Seed:           1,
		Start:          start,
		Rate:           200,
		Users:          5000,
		MetricInterval: time.Minute,
		AnomalyEvery:   6 * time.Hour,
		Faults:         DefaultFaults,
	}
}

// Validate names the first bad field.
func (c *Config) Validate() error {
	switch {
	case c.Start.IsZero():
		return errors.New("generate config: start: required")
	case !c.End.IsZero() && !c.End.After(c.Start):
		return errors.New("generate config: end: must be after start")
	case c.End.IsZero() && !c.Live:
		return errors.New("generate config: end: required unless live")
	case !(c.Rate > 0) || c.Rate > 10_000_000:
		return fmt.Errorf("generate config: rate: %v outside (0, 1e7]", c.Rate)
	case c.Users < 10 || c.Users > 10_000_000:
		return fmt.Errorf("generate config: users: %d outside [10, 1e7]", c.Users)
	case c.MetricInterval < time.Second:
		return fmt.Errorf("generate config: metric_interval: %v under 1s", c.MetricInterval)
	case c.AnomalyEvery < time.Minute:
		return fmt.Errorf("generate config: anomaly_every: %v under 1m", c.AnomalyEvery)
	}
	for _, k := range c.Anomalies {
		if !knownKind(k) {
			return fmt.Errorf("generate config: anomalies: unknown kind %q (want one of %v)", k, AnomalyKinds)
		}
	}
	f := c.Faults
	sum := 0.0
	for _, r := range []struct {
		name string
		v    float64
	}{{"malformed", f.Malformed}, {"non_utf8", f.NonUTF8}, {"duplicate", f.Duplicate}, {"out_of_order", f.OutOfOrder}, {"future", f.Future}} {
		if !(r.v >= 0 && r.v <= 1) {
			return fmt.Errorf("generate config: faults.%s: %v outside [0, 1]", r.name, r.v)
		}
		sum += r.v
	}
	if sum > 0.5 {
		return fmt.Errorf("generate config: faults: rates sum to %v, over 0.5", sum)
	}
	return nil
}

func (c *Config) kinds() []string {
	if c.Anomalies == nil {
		return AnomalyKinds
	}
	return c.Anomalies
}
