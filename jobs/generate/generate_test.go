package generate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"weir/events"
)

var testStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// testConfig is 2 h at 15 records/s (~85k records, well under a second)
// with fault rates high enough to count and all six anomaly kinds.
func testConfig() Config {
	cfg := Default(testStart)
	cfg.End = testStart.Add(2 * time.Hour)
	cfg.Rate = 15
	cfg.Users = 500
	cfg.AnomalyEvery = 20 * time.Minute
	cfg.Faults = FaultRates{Malformed: 0.01, NonUTF8: 0.01, Duplicate: 0.02, OutOfOrder: 0.01, Future: 0.005}
	return cfg
}

type run struct {
	out   bytes.Buffer
	truth bytes.Buffer
	sum   *Summary
	recs  []rec
}

func generateTo(t *testing.T, cfg Config) *run {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{}
	sink := NewFileSink(&r.out)
	if r.sum, err = g.Run(context.Background(), sink, &r.truth); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	return r
}

// shared is one generated run reused by the read-only tests.
var shared *run

func sharedRun(t *testing.T) *run {
	if shared == nil {
		shared = generateTo(t, testConfig())
	}
	return shared
}

type rec struct {
	topic, key string
	value      []byte
	utf8       bool
}

func records(t *testing.T, r *run) []rec {
	t.Helper()
	if r.recs != nil {
		return r.recs
	}
	var out []rec
	err := ReadRecords(bytes.NewReader(r.out.Bytes()), func(fr FileRecord) error {
		out = append(out, rec{topic: fr.Topic, key: string(fr.KeyBytes()), value: fr.Payload(), utf8: fr.Value != nil})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r.recs = out
	return out
}

func TestDeterminism(t *testing.T) {
	cfg := testConfig()
	cfg.End = cfg.Start.Add(40 * time.Minute)
	a, b := generateTo(t, cfg), generateTo(t, cfg)
	if sha256.Sum256(a.out.Bytes()) != sha256.Sum256(b.out.Bytes()) {
		t.Fatal("same seed, different output")
	}
	if !bytes.Equal(a.truth.Bytes(), b.truth.Bytes()) {
		t.Fatal("same seed, different ground truth")
	}
	cfg.Seed++
	c := generateTo(t, cfg)
	if sha256.Sum256(a.out.Bytes()) == sha256.Sum256(c.out.Bytes()) {
		t.Fatal("different seeds, same output")
	}
}

// Live mode paced by an injected clock writes exactly what history mode
// writes, and sleeps until each record's event time.
func TestLiveMatchesHistory(t *testing.T) {
	cfg := testConfig()
	cfg.End = cfg.Start.Add(20 * time.Minute)
	hist := generateTo(t, cfg)

	clock := &testClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	var slept time.Duration
	cfg.Live = true
	cfg.Now = clock.now
	cfg.Sleep = func(d time.Duration) { slept += d; clock.advance(d) }
	live := generateTo(t, cfg)
	if !bytes.Equal(hist.out.Bytes(), live.out.Bytes()) {
		t.Fatal("live output differs from history output")
	}
	// Paced up to the last record of the span; copies delayed past the end
	// go out at once instead of holding the run for hours.
	if slept < 15*time.Minute || slept > 20*time.Minute {
		t.Fatalf("slept %v over a 20 min span", slept)
	}
}

// testClock is an injected clock: the generator sleeps on it in one
// goroutine while its summary reads it in another.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func TestLiveStopsOnCancel(t *testing.T) {
	cfg := testConfig()
	cfg.End = time.Time{}
	cfg.Live = true
	ctx, cancel := context.WithCancel(context.Background())
	clock := &testClock{t: cfg.Start}
	cfg.Now = clock.now
	cfg.Sleep = func(d time.Duration) {
		if clock.advance(d).Sub(cfg.Start) > 10*time.Minute {
			cancel()
		}
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum, err := g.Run(ctx, NewFileSink(&out), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records < 1000 {
		t.Fatalf("only %d records in 10 live minutes", sum.Records)
	}
}

// The summary's counts equal what the output holds.
func TestSummaryMatchesOutput(t *testing.T) {
	r := sharedRun(t)
	recs := records(t, r)
	if int64(len(recs)) != r.sum.Records {
		t.Fatalf("output has %d records, summary says %d", len(recs), r.sum.Records)
	}
	type counts struct{ produced, valid, invalid, b64, late, future int64 }
	got := map[string]*counts{}
	latest := map[string]time.Time{}
	seen := map[string]bool{}
	for _, x := range recs {
		dup := seen[x.topic+string(x.value)]
		seen[x.topic+string(x.value)] = true
		c := got[x.topic]
		if c == nil {
			c = &counts{}
			got[x.topic] = c
		}
		c.produced++
		if !x.utf8 {
			c.b64++
		}
		if parseAs(x.topic, x.value) != nil {
			c.invalid++
			continue
		}
		c.valid++
		ts, ok := events.BestEffortEventTime(x.topic, x.value)
		if !ok {
			continue
		}
		if ts.After(r.sum.End) {
			c.future++
			continue
		}
		// Clean records come in event-time order (access-log times are cut
		// to the second). Duplicate copies come up to 30 s late, delayed
		// (out-of-order) ones 1-6 h late, or at the very end of the run.
		// Identical access lines also occur naturally, hence the two tiers.
		if lag := latest[x.topic].Sub(ts); lag > 31*time.Second || (lag > 2*time.Second && !dup) {
			c.late++
		}
		if ts.After(latest[x.topic]) {
			latest[x.topic] = ts
		}
	}
	for topic, ts := range r.sum.Topics {
		c := got[topic]
		t.Run(topic, func(t *testing.T) {
			checks := []struct {
				name      string
				got, want int64
			}{
				{"produced", c.produced, ts.Produced},
				{"valid", c.valid, ts.Valid},
				{"invalid", c.invalid, ts.Invalid},
				{"invalid = malformed + non_utf8", ts.Invalid, ts.Faults[FaultMalformed] + ts.Faults[FaultNonUTF8]},
				{"base64 values = non_utf8", c.b64, ts.Faults[FaultNonUTF8]},
				{"out of event-time order = out_of_order", c.late, ts.Faults[FaultOutOfOrder]},
				{"after end = future", c.future, ts.Faults[FaultFuture]},
				{"duplicates", ts.Duplicates, ts.Faults[FaultDuplicate]},
			}
			for _, ck := range checks {
				if ck.got != ck.want {
					t.Errorf("%s: output %d, summary %d", ck.name, ck.got, ck.want)
				}
			}
		})
	}
	// Duplicate app events share their event_id with an earlier record.
	ids := map[string]int{}
	for _, x := range recs {
		if x.topic != events.TopicAppEvents {
			continue
		}
		if e, err := events.ParseAppEvent(x.value); err == nil {
			ids[e.EventID]++
		}
	}
	ev := r.sum.Topics[events.TopicAppEvents]
	if int64(len(ids)) != ev.SilverRows || ev.SilverRows != r.sum.Expected.Events.Rows {
		t.Errorf("distinct valid event ids %d, silver rows %d, expected rows %d", len(ids), ev.SilverRows, r.sum.Expected.Events.Rows)
	}
}

// Every line of the ground truth is what the output shows in its window.
func TestGroundTruthMatchesOutput(t *testing.T) {
	r := sharedRun(t)
	var truth []Anomaly
	for _, line := range strings.Split(strings.TrimSpace(r.truth.String()), "\n") {
		var a Anomaly
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("truth line %q: %v", line, err)
		}
		truth = append(truth, a)
	}
	kinds := map[string]bool{}
	for _, a := range truth {
		kinds[a.Kind] = true
	}
	if len(kinds) != len(AnomalyKinds) {
		t.Fatalf("truth has kinds %v, want all of %v", kinds, AnomalyKinds)
	}
	for k, n := range r.sum.Anomalies {
		if n != countKind(truth, k) {
			t.Errorf("summary counts %d %s, truth has %d", n, k, countKind(truth, k))
		}
	}

	var evs []events.AppEvent
	var logs []events.AppLog
	for _, x := range records(t, r) {
		switch x.topic {
		case events.TopicAppEvents:
			if e, err := events.ParseAppEvent(x.value); err == nil {
				evs = append(evs, e)
			}
		case events.TopicAppLogs:
			if l, err := events.ParseAppLog(x.value); err == nil {
				logs = append(logs, l)
			}
		}
	}
	in := func(a Anomaly, ts time.Time) bool { return !ts.Before(a.Start) && ts.Before(a.End) }
	for _, a := range truth {
		t.Run(a.Kind, func(t *testing.T) {
			got := map[string]float64{}
			users := map[string]bool{}
			var durations []float64
			var buys []time.Time
			for _, e := range evs {
				if !in(a, e.TS) {
					continue
				}
				switch a.Kind {
				case KindProviderOutage:
					if e.Type == events.TypePaymentAttempt && e.Provider == a.Labels["provider"] {
						got["attempts"]++
						if e.Status == events.StatusFailed {
							got["failed_attempts"]++
							users[e.UserID] = true
						}
					}
				case KindErrorSpike:
					if e.Service == a.Labels["service"] {
						got["events"]++
						if e.Status == events.StatusFailed {
							got["failed_events"]++
						}
					}
				case KindLatencyRegression:
					if e.Service == a.Labels["service"] && e.Type == a.Labels["operation"] {
						got["events"]++
						durations = append(durations, e.DurationMs)
					}
				case KindBuyThenRefund:
					if e.UserID == a.Labels["user_id"] && e.Service == svcOrders {
						switch e.Type {
						case events.TypeBuy:
							got["buys"]++
							if e.Status == events.StatusOK {
								buys = append(buys, e.TS)
							}
						case events.TypeRefund:
							got["refunds"]++
							if !slices.ContainsFunc(buys, func(b time.Time) bool { return e.TS.Sub(b) > 0 && e.TS.Sub(b) < 10*time.Minute }) {
								t.Errorf("refund at %v follows no buy within 10 min", e.TS)
							}
						}
					}
				case KindBotRepeat:
					if e.UserID == a.Labels["user_id"] && e.Type == a.Labels["operation"] && e.Service == svcCart {
						got["repeats"]++
					}
				case KindCategoryThreshold:
					if e.Type == events.TypeBuy && e.Service == svcOrders && e.Status == events.StatusOK && strings.HasPrefix(e.Item, "sku-") && categoryOf(t, r, e.Item) == a.Labels["category"] {
						got["orders"]++
					}
				}
			}
			if a.Kind == KindErrorSpike {
				for _, l := range logs {
					if in(a, l.TS) && l.Service == a.Labels["service"] && l.Level == events.LevelError {
						got["error_logs"]++
					}
				}
			}
			if a.Kind == KindProviderOutage {
				got["users"] = float64(len(users))
				if a.Shape == ShapeStep && got["failed_attempts"] != got["attempts"] {
					t.Errorf("provider down but %v of %v attempts succeeded", got["attempts"]-got["failed_attempts"], got["attempts"])
				}
				if got["users"] < 0.8*a.Magnitude {
					t.Errorf("only %v users failed", got["users"])
				}
			}
			if a.Kind == KindLatencyRegression {
				sort.Float64s(durations)
				got["p95_ms"] = durations[int(math.Ceil(0.95*float64(len(durations))))-1]
				got["factor"] = a.Stats["factor"]
			}
			if a.Kind == KindBotRepeat {
				if got["repeats"] != a.Stats["injected_repeats"] {
					t.Errorf("bot repeated %v times, want %v", got["repeats"], a.Stats["injected_repeats"])
				}
				got["injected_repeats"] = a.Stats["injected_repeats"]
			}
			if a.Kind == KindBuyThenRefund && got["refunds"] != a.Magnitude {
				t.Errorf("%v refunds, want %v", got["refunds"], a.Magnitude)
			}
			for k, v := range got {
				if a.Stats[k] != v {
					t.Errorf("stat %s: truth %v, output %v", k, a.Stats[k], v)
				}
			}
		})
	}
}

func countKind(truth []Anomaly, kind string) int {
	n := 0
	for _, a := range truth {
		if a.Kind == kind {
			n++
		}
	}
	return n
}

var catCache map[string]string

func categoryOf(t *testing.T, r *run, item string) string {
	if catCache == nil {
		catCache = map[string]string{}
		for _, x := range records(t, r) {
			if x.topic == events.TopicDimItems {
				d, err := events.ParseDimItem(x.value)
				if err != nil {
					t.Fatal(err)
				}
				catCache[d.Item] = d.Category
			}
		}
	}
	return catCache[item]
}

// TestFlatRate: with Flat, a night hour (the daily cycle's trough, about
// 0.45) carries Rate records a second, ±15%; without, the cycle's share.
func TestFlatRate(t *testing.T) {
	night := time.Date(2026, 3, 4, 3, 0, 0, 0, time.UTC) // a Wednesday
	for _, flat := range []bool{true, false} {
		cfg := Default(night)
		cfg.End = night.Add(time.Hour)
		cfg.Rate, cfg.Users, cfg.Flat = 10, 200, flat
		cfg.Anomalies, cfg.Faults = []string{}, FaultRates{}
		want := 0.0
		for s := cfg.Start; s.Before(cfg.End); s = s.Add(time.Minute) {
			f := diurnal(s)
			if flat {
				f = 1
			}
			want += cfg.Rate * 60 * f
		}
		got := float64(generateTo(t, cfg).sum.Records)
		if math.Abs(got-want)/want > 0.15 {
			t.Errorf("flat=%v: %v records, want %v ±15%%", flat, got, want)
		}
	}
}

// Distributions stay within stated tolerances.
func TestDistributions(t *testing.T) {
	r := sharedRun(t)
	cfg := testConfig()
	recs := records(t, r)

	// Volume: Rate times the daily-cycle integral over the span, ±15%.
	want := 0.0
	for s := cfg.Start; s.Before(cfg.End); s = s.Add(time.Minute) {
		want += cfg.Rate * 60 * diurnal(s)
	}
	if got := float64(r.sum.Records); math.Abs(got-want)/want > 0.15 {
		t.Errorf("records %v, want %v ±15%%", got, want)
	}

	// Fault rates: observed share within ±25% of configured (non-exempt records dominate).
	var eligible int64
	for name, ts := range r.sum.Topics {
		if !strings.HasPrefix(name, "dims.") {
			eligible += ts.Produced - ts.Duplicates
		}
	}
	for kind, rate := range map[string]float64{FaultMalformed: cfg.Faults.Malformed, FaultNonUTF8: cfg.Faults.NonUTF8,
		FaultDuplicate: cfg.Faults.Duplicate, FaultOutOfOrder: cfg.Faults.OutOfOrder, FaultFuture: cfg.Faults.Future} {
		got := float64(r.sum.FaultCounts[kind]) / float64(eligible)
		if math.Abs(got-rate)/rate > 0.25 {
			t.Errorf("fault %s rate %.4f, want %.4f ±25%%", kind, got, rate)
		}
	}

	// Access logs: status classes, static share, heavy-tailed client IPs.
	x := r.sum.Expected.Access
	share := func(cls string) float64 {
		if b := x.ByStatusClass[cls]; b != nil {
			return float64(b.Requests) / float64(x.Rows)
		}
		return 0
	}
	for _, c := range []struct {
		cls    string
		lo, hi float64
	}{{"2xx", 0.6, 0.95}, {"3xx", 0.05, 0.35}, {"4xx", 0.002, 0.05}, {"5xx", 0.0005, 0.05}} {
		if s := share(c.cls); s < c.lo || s > c.hi {
			t.Errorf("%s share %.4f outside [%v, %v]", c.cls, s, c.lo, c.hi)
		}
	}
	if s := float64(x.StaticFiles) / float64(x.Rows); s < 0.35 || s > 0.75 {
		t.Errorf("static file share %.3f outside [0.35, 0.75]", s)
	}
	ipReq := map[string]int{}
	for _, rr := range recs {
		if rr.topic == events.TopicWebAccess {
			if a, err := events.ParseAccessLog(rr.value); err == nil {
				ipReq[a.ClientIP]++
			}
		}
	}
	counts := make([]int, 0, len(ipReq))
	for _, n := range ipReq {
		counts = append(counts, n)
	}
	slices.Sort(counts)
	slices.Reverse(counts)
	top := 0
	for _, n := range counts[:max(1, len(counts)/20)] {
		top += n
	}
	if s := float64(top) / float64(x.Rows); s < 0.25 {
		t.Errorf("top 5%% of client IPs carry %.3f of requests, want a heavy tail (>= 0.25)", s)
	}
	if x.DistinctClientIPs != len(ipReq) {
		t.Errorf("distinct IPs: summary %d, output %d", x.DistinctClientIPs, len(ipReq))
	}

	// Funnel: page views > reservations > purchases > refunds.
	bt := r.sum.Expected.Events.ByType
	if !(bt[events.TypePageView] > bt[events.TypeReserve] && bt[events.TypeReserve] > bt[events.TypeBuy] && bt[events.TypeBuy] > bt[events.TypeRefund]) {
		t.Errorf("funnel out of order: %v", bt)
	}
	if bt[events.TypePaymentAttempt] < bt[events.TypeBuy] {
		t.Errorf("fewer payment attempts (%d) than buys (%d)", bt[events.TypePaymentAttempt], bt[events.TypeBuy])
	}

	// Metrics: one sample per host per interval, and CPU follows requests.
	ticks := int64(cfg.End.Sub(cfg.Start) / cfg.MetricInterval)
	hosts := int64(0)
	for _, s := range services {
		hosts += int64(s.hosts)
	}
	m := r.sum.Topics[events.TopicMetrics]
	if clean := m.Produced - m.Duplicates; clean != ticks*hosts-1*hosts && clean != ticks*hosts {
		t.Errorf("metrics %d, want %d hosts × %d ticks", clean, hosts, ticks)
	}
	var cpu, req []float64
	for _, rr := range recs {
		if rr.topic == events.TopicMetrics {
			if mm, err := events.ParseMetric(rr.value); err == nil && mm.Service == svcFrontend {
				cpu, req = append(cpu, mm.CPUPct), append(req, float64(mm.Requests))
			}
		}
	}
	if c := pearson(cpu, req); c < 0.5 {
		t.Errorf("frontend CPU/requests correlation %.2f, want >= 0.5", c)
	}

	// Errors carry their source location.
	for _, rr := range recs {
		if rr.topic != events.TopicAppLogs {
			continue
		}
		if l, err := events.ParseAppLog(rr.value); err == nil && l.Level == events.LevelError && (l.File == "" || l.Line == 0 || l.Module == "") {
			t.Fatalf("error log without file/line/module: %s", rr.value)
		}
	}
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var sx, sy, sxx, syy, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		syy += y[i] * y[i]
		sxy += x[i] * y[i]
	}
	return (n*sxy - sx*sy) / math.Sqrt((n*sxx-sx*sx)*(n*syy-sy*sy))
}

// Changing fault rates leaves the clean traffic alone: every valid,
// non-shifted record of a faulty run appears in the fault-free run.
func TestFaultsDoNotChangeTraffic(t *testing.T) {
	cfg := testConfig()
	cfg.End = cfg.Start.Add(30 * time.Minute)
	cfg.Faults = FaultRates{}
	clean := generateTo(t, cfg)
	faulty := generateTo(t, func() Config { c := cfg; c.Faults = testConfig().Faults; return c }())
	have := map[string]bool{}
	for _, x := range records(t, clean) {
		have[x.topic+"\x00"+string(x.value)] = true
	}
	missing := 0
	for _, x := range records(t, faulty) {
		ts, ok := events.BestEffortEventTime(x.topic, x.value)
		if parseAs(x.topic, x.value) != nil || (ok && ts.After(cfg.End)) {
			continue // malformed, non-UTF-8 or future-shifted
		}
		if !have[x.topic+"\x00"+string(x.value)] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d valid records of the faulty run are not in the clean run", missing)
	}
}

func TestFaultPayloadsAreRejected(t *testing.T) {
	g, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	access := []byte(`10.0.0.1 - - [02/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 10 "-" "ua" 0.010 MISS`)
	event := []byte(`{"event_id":"e","action_id":"a","ts":"2026-03-02T10:00:00Z","service":"s","type":"page_view","status":"ok"}`)
	for i := 0; i < 300; i++ {
		for _, c := range []struct {
			topic string
			v     []byte
		}{{events.TopicWebAccess, access}, {events.TopicAppEvents, event}} {
			if m := g.malform(c.topic, c.v); parseAs(c.topic, m) == nil {
				t.Fatalf("malformed %s still parses: %q", c.topic, m)
			}
			if b := g.breakUTF8(c.v); utf8.Valid(b) {
				t.Fatalf("breakUTF8 left valid UTF-8: %q", b)
			}
		}
	}
}

// The summary counts as Future the records silver quarantines: those
// stamped more than events.DefaultMaxFuture after they were written. Written
// at the run's end, the future faults are; written a year later, nothing is.
func TestSummaryFuture(t *testing.T) {
	for _, tc := range []struct {
		name       string
		writtenAt  time.Duration // after the run's end
		allFutures bool
	}{{"written at the end", 0, true}, {"written a year later", 365 * 24 * time.Hour, false}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.End = cfg.Start.Add(30 * time.Minute)
			cfg.Now = func() time.Time { return cfg.End.Add(tc.writtenAt) }
			sum := generateTo(t, cfg).sum
			var future int64
			for topic, ts := range sum.Topics {
				if ts.Rejected != ts.Invalid+ts.Future {
					t.Errorf("%s: rejected %d, want invalid %d + future %d", topic, ts.Rejected, ts.Invalid, ts.Future)
				}
				dups := int64(0)
				if topic == events.TopicAppEvents {
					dups = ts.Duplicates
				}
				if topic != events.TopicDimItems && topic != events.TopicDimProviders && ts.SilverRows != ts.Valid-ts.Future-dups {
					t.Errorf("%s: silver rows %d, want valid %d - future %d - duplicates %d", topic, ts.SilverRows, ts.Valid, ts.Future, dups)
				}
				future += ts.Future
			}
			want := int64(0)
			if tc.allFutures {
				want = sum.FaultCounts[FaultFuture]
				if want == 0 {
					t.Fatal("no future faults generated")
				}
			}
			if future != want || sum.Future != want {
				t.Errorf("future %d (summary %d), want %d", future, sum.Future, want)
			}
		})
	}
}
