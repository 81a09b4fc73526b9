package generate

import (
	"cmp"
	"slices"
	"time"

	"weir/events"
)

// Fault kinds as they appear in the summary.
const (
	FaultMalformed  = "malformed"
	FaultNonUTF8    = "non_utf8"
	FaultDuplicate  = "duplicate"
	FaultOutOfOrder = "out_of_order"
	FaultFuture     = "future"
)

// FaultKinds lists the fault kinds in a fixed order.
var FaultKinds = []string{FaultMalformed, FaultNonUTF8, FaultDuplicate, FaultOutOfOrder, FaultFuture}

// Summary is what a run produced, and what a correct pipeline must make of it.
type Summary struct {
	Seed  uint64    `json:"seed"`
	Start time.Time `json:"start"`
	// End is the last simulated moment (exclusive).
	End    time.Time  `json:"end"`
	Rate   float64    `json:"rate"`
	Faults FaultRates `json:"fault_rates"`

	// Records is the total number of records written, all topics.
	Records int64 `json:"records"`
	// Rejected is the number of records silver must put in silver.rejects,
	// all topics: the invalid ones and the Future ones.
	Rejected int64 `json:"rejected"`
	// Future is the number of valid records whose event time was more than
	// events.DefaultMaxFuture after the moment they were written: silver
	// quarantines them in silver.rejects (class future).
	Future int64 `json:"future"`
	// Topics holds the counts of each topic that got records.
	Topics map[string]*TopicSummary `json:"topics"`
	// FaultCounts is the number of records affected per fault kind, all topics.
	FaultCounts map[string]int64 `json:"fault_counts"`
	// Anomalies counts injected anomalies per kind (details in the ground truth).
	Anomalies map[string]int `json:"anomalies"`

	Expected Expected `json:"expected"`
}

// TopicSummary counts one topic. Produced = Valid + Invalid. Invalid equals
// the malformed plus non-UTF-8 faults. Future counts the valid records
// stamped more than events.DefaultMaxFuture after they were written (the
// future faults, when the run's end is near the clock), Rejected = Invalid
// + Future is what silver.rejects gets. Duplicates are extra copies (both
// copies are valid). SilverRows applies DESIGN §4's dedup to the valid
// records that are not Future: app.events on event_id (Valid - Future -
// Duplicates), the other event topics on topic/partition/offset (Valid -
// Future), dims on their key (DistinctKeys).
type TopicSummary struct {
	Produced     int64            `json:"produced"`
	Valid        int64            `json:"valid"`
	Invalid      int64            `json:"invalid"`
	Future       int64            `json:"future"`
	Rejected     int64            `json:"rejected"`
	Duplicates   int64            `json:"duplicates"`
	Faults       map[string]int64 `json:"faults"`
	DistinctKeys int64            `json:"distinct_keys,omitempty"`
	SilverRows   int64            `json:"silver_rows"`
}

// Expected holds answers computed from the parsed valid records that are
// not from the future, as silver holds them (see TopicSummary.SilverRows).
type Expected struct {
	Access AccessExpected `json:"web_access"`
	Events EventsExpected `json:"app_events"`
	Logs   LogsExpected   `json:"app_logs"`
}

// AccessExpected are the gold §5.1 answers over silver.access_logs.
type AccessExpected struct {
	Rows              int64                  `json:"rows"`
	DistinctClientIPs int                    `json:"distinct_client_ips"`
	Days              int                    `json:"days"`
	StaticFiles       int64                  `json:"static_files"`
	ByStatusClass     map[string]*BytesStats `json:"by_status_class"`
	TopClientIPs      []IPCount              `json:"top_client_ips"`
}

// BytesStats are the response-byte figures of one status class. Bytes
// logged as "-" or cut from a truncated line are null in silver: they count
// in Requests but not in Logged, Sum, Min or Max (gold averages over Logged).
type BytesStats struct {
	Requests int64 `json:"requests"`
	Logged   int64 `json:"bytes_logged"`
	Sum      int64 `json:"bytes_sum"`
	Min      int64 `json:"bytes_min"`
	Max      int64 `json:"bytes_max"`
}

// add counts one request of n bytes (events.NoBytes when none were logged).
func (b *BytesStats) add(n int64) {
	b.Requests++
	if n < 0 {
		return
	}
	if b.Logged == 0 || n < b.Min {
		b.Min = n
	}
	if b.Logged == 0 || n > b.Max {
		b.Max = n
	}
	b.Logged++
	b.Sum += n
}

// IPCount is one client IP and its number of requests.
type IPCount struct {
	IP       string `json:"ip"`
	Requests int64  `json:"requests"`
}

// EventsExpected counts distinct valid app events.
type EventsExpected struct {
	Rows   int64            `json:"rows"`
	ByType map[string]int64 `json:"by_type"`
	Failed int64            `json:"failed"`
}

// LogsExpected counts valid log lines.
type LogsExpected struct {
	Rows    int64            `json:"rows"`
	ByLevel map[string]int64 `json:"by_level"`
}

// tally accumulates a Summary while records are written. record runs on
// the tally feed's goroutine; fault and anomaly on the generating one, into
// counts of their own that summary merges.
type tally struct {
	s       Summary
	now     func() time.Time // when a record is written, to tell Future
	ipCount map[string]int64
	days    map[string]struct{}
	dimKeys map[string]map[string]struct{}

	faults    map[string]map[string]int64 // topic → fault kind → count
	anomalies map[string]int
}

func newTally(cfg *Config, end time.Time) *tally {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	t := &tally{
		now: now,
		s: Summary{
			Seed: cfg.Seed, Start: cfg.Start, End: end, Rate: cfg.Rate, Faults: cfg.Faults,
			Topics: map[string]*TopicSummary{}, FaultCounts: map[string]int64{}, Anomalies: map[string]int{},
			Expected: Expected{
				Access: AccessExpected{ByStatusClass: map[string]*BytesStats{}},
				Events: EventsExpected{ByType: map[string]int64{}},
				Logs:   LogsExpected{ByLevel: map[string]int64{}},
			},
		},
		ipCount:   map[string]int64{},
		days:      map[string]struct{}{},
		dimKeys:   map[string]map[string]struct{}{},
		faults:    map[string]map[string]int64{},
		anomalies: map[string]int{},
	}
	for _, k := range FaultKinds {
		t.s.FaultCounts[k] = 0
	}
	return t
}

func (t *tally) topic(name string) *TopicSummary {
	ts := t.s.Topics[name]
	if ts == nil {
		ts = &TopicSummary{Faults: map[string]int64{}}
		for _, k := range FaultKinds {
			ts.Faults[k] = 0
		}
		t.s.Topics[name] = ts
	}
	return ts
}

// fault counts a fault the generator applied to a record of topic.
func (t *tally) fault(topic, kind string) {
	if t.faults[topic] == nil {
		t.faults[topic] = map[string]int64{}
	}
	t.faults[topic][kind]++
}

// anomaly counts an anomaly whose ground truth was written.
func (t *tally) anomaly(kind string) { t.anomalies[kind]++ }

// record accounts one written record by parsing it as silver would.
func (t *tally) record(topic string, key, value []byte, duplicate bool) {
	ts := t.topic(topic)
	ts.Produced++
	t.s.Records++
	if duplicate {
		ts.Duplicates++
	}
	// future counts a valid record silver quarantines (Summary.Future).
	future := func(at time.Time) bool {
		if at.After(t.now().Add(events.DefaultMaxFuture)) {
			ts.Future++
			return true
		}
		return false
	}
	var err error
	switch topic {
	case events.TopicWebAccess:
		var a events.AccessLog
		if a, err = events.ParseAccessLog(value); err == nil && !future(a.Time) {
			x := &t.s.Expected.Access
			x.Rows++
			t.ipCount[a.ClientIP]++
			t.days[a.Time.Format(time.DateOnly)] = struct{}{}
			if events.IsStaticFile(a.Path) {
				x.StaticFiles++
			}
			cls := events.StatusClass(a.Status)
			if x.ByStatusClass[cls] == nil {
				x.ByStatusClass[cls] = &BytesStats{}
			}
			x.ByStatusClass[cls].add(a.Bytes)
		}
	case events.TopicAppEvents:
		var e events.AppEvent
		if e, err = events.ParseAppEvent(value); err == nil && !future(e.TS) && !duplicate {
			x := &t.s.Expected.Events
			x.Rows++
			x.ByType[e.Type]++
			if e.Status == events.StatusFailed {
				x.Failed++
			}
		}
	case events.TopicAppLogs:
		var l events.AppLog
		if l, err = events.ParseAppLog(value); err == nil && !future(l.TS) {
			t.s.Expected.Logs.Rows++
			t.s.Expected.Logs.ByLevel[l.Level]++
		}
	case events.TopicMetrics:
		var m events.Metric
		if m, err = events.ParseMetric(value); err == nil {
			future(m.TS)
		}
	case events.TopicDimItems:
		_, err = events.ParseDimItem(value)
	case events.TopicDimProviders:
		_, err = events.ParseDimProvider(value)
	}
	if err != nil {
		ts.Invalid++
		return
	}
	ts.Valid++
	if topic == events.TopicDimItems || topic == events.TopicDimProviders {
		if t.dimKeys[topic] == nil {
			t.dimKeys[topic] = map[string]struct{}{}
		}
		t.dimKeys[topic][string(key)] = struct{}{}
	}
}

// summary merges the generating goroutine's counts and finishes the
// derived figures; every record must have been accounted (tallyFeed.close).
func (t *tally) summary() *Summary {
	for topic, kinds := range t.faults {
		ts := t.topic(topic)
		for kind, n := range kinds {
			ts.Faults[kind] += n
			t.s.FaultCounts[kind] += n
		}
	}
	clear(t.faults)
	for kind, n := range t.anomalies {
		t.s.Anomalies[kind] += n
	}
	clear(t.anomalies)
	s := t.s
	s.Rejected, s.Future = 0, 0
	for name, ts := range s.Topics {
		ts.Rejected = ts.Invalid + ts.Future
		s.Rejected += ts.Rejected
		s.Future += ts.Future
		switch name {
		case events.TopicAppEvents:
			ts.SilverRows = ts.Valid - ts.Future - ts.Duplicates
		case events.TopicDimItems, events.TopicDimProviders:
			ts.DistinctKeys = int64(len(t.dimKeys[name]))
			ts.SilverRows = ts.DistinctKeys
		default:
			ts.SilverRows = ts.Valid - ts.Future
		}
	}
	x := &s.Expected.Access
	x.DistinctClientIPs = len(t.ipCount)
	x.Days = len(t.days)
	ips := make([]IPCount, 0, len(t.ipCount))
	for ip, n := range t.ipCount {
		ips = append(ips, IPCount{IP: ip, Requests: n})
	}
	slices.SortFunc(ips, func(a, b IPCount) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.IP, b.IP))
	})
	x.TopClientIPs = ips[:min(10, len(ips))]
	return &s
}
