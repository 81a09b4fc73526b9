package alerts

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"weir/config"
	"weir/jobs/alerts/rules"
	"weir/kafkaio"
)

// Backtesting: the rules evaluated over recorded source records, in
// process, with no checkpoint, sink or consumer group, so a rule can be
// tuned against history (or against incidents written by hand) before it
// ships. The job itself (Run) is what runs in production; both use the same
// Engine.

// Source is one recorded source record for a backtest.
type Source struct {
	Topic string
	Value []byte
}

// Backtest evaluates the rules over records in order (dimension records
// update enrichment, records of topics no rule reads are skipped, records
// that do not decode are counted as the job counts them) and returns every
// notification. now is the wall clock the engine sees (records later than
// now + max_future are future-dated).
func Backtest(f *rules.File, recs []Source, now time.Time) []Notification {
	return Decoder{}.Backtest(f, recs, now)
}

// Backtest is the package's Backtest with d's access-log formats.
func (d Decoder) Backtest(f *rules.File, recs []Source, now time.Time) []Notification {
	e := NewEngine(f, func() time.Time { return now })
	sources := map[string]bool{}
	for _, t := range e.SourceTopics() {
		sources[t] = true
	}
	var all []Notification
	for i, m := range recs {
		switch {
		case isDimension(e, m.Topic):
			if fl, _, err := d.Decode(m.Topic, m.Value); err == nil {
				e.Dimension(m.Topic, fl)
			}
			continue
		case !sources[m.Topic]:
			continue
		}
		fl, ts, err := d.Decode(m.Topic, m.Value)
		if err != nil {
			e.Invalid(Record{Topic: m.Topic, Offset: int64(i)})
			continue
		}
		e.Process(Record{Topic: m.Topic, Offset: int64(i), TS: ts.UnixMilli(), Fields: fl})
		if i%advanceEvery == 0 {
			e.Advance()
			ns, _ := e.Drain()
			all = append(all, ns...)
		}
	}
	e.Advance()
	ns, _ := e.Drain()
	return append(all, ns...)
}

// BacktestClock is the wall clock a backtest of recs pretends: a minute
// after the newest event time, leaving out the newest 0.1% (records dated
// days ahead by a broken producer would otherwise pass for on time, as they
// never do for the running job, and drag the watermark with them).
func BacktestClock(recs []Source) time.Time { return Decoder{}.BacktestClock(recs) }

// BacktestClock is the package's BacktestClock with d's access-log formats.
func (d Decoder) BacktestClock(recs []Source) time.Time {
	var ts []int64
	for _, r := range recs {
		if _, t, err := d.Decode(r.Topic, r.Value); err == nil && !t.IsZero() {
			ts = append(ts, t.UnixMilli())
		}
	}
	if len(ts) == 0 {
		return time.Now()
	}
	slices.Sort(ts)
	return time.UnixMilli(ts[len(ts)*999/1000]).Add(time.Minute)
}

// ReadSources reads the dimension and source topics the rules need from
// Kafka (prefix + topic, every partition from its start to its current end)
// and returns the records whose event time is in [from, until) (zero
// bounds are open), ordered by event time, dimensions first. It holds them
// in memory: a backtest covers hours or days, not the whole retention.
func ReadSources(ctx context.Context, cfg config.Kafka, f *rules.File, prefix string, from, until time.Time) ([]Source, error) {
	return Decoder{Prefix: prefix}.ReadSources(ctx, cfg, f, from, until)
}

// ReadSources is the package's ReadSources with d's access-log formats and
// topic prefix.
func (d Decoder) ReadSources(ctx context.Context, cfg config.Kafka, f *rules.File, from, until time.Time) ([]Source, error) {
	prefix := d.Prefix
	e := NewEngine(f, time.Now)
	var dims, recs []Source
	var times []int64
	for _, topic := range e.DimensionTopics() {
		err := kafkaio.ReadAll(ctx, cfg, prefix+topic, func(m *kafka.Message) error {
			dims = append(dims, Source{Topic: topic, Value: m.Value})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, topic := range e.SourceTopics() {
		err := kafkaio.ReadAll(ctx, cfg, prefix+topic, func(m *kafka.Message) error {
			_, ts, err := d.Decode(topic, m.Value)
			if err == nil && (!from.IsZero() && ts.Before(from) || !until.IsZero() && !ts.Before(until)) {
				return nil
			}
			recs = append(recs, Source{Topic: topic, Value: m.Value})
			times = append(times, ts.UnixMilli()) // 0 (first) for records that do not decode
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	idx := make([]int, len(recs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return times[idx[a]] < times[idx[b]] })
	out := dims
	for _, i := range idx {
		out = append(out, recs[i])
	}
	return out, nil
}
