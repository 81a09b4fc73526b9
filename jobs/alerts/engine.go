// Package alerts is the micro-batch alert job (DESIGN §6): it reads the
// source topics directly, evaluates YAML rules (package rules) on event-time
// windows (package window), and delivers alerts to Alertmanager, the alerts
// Kafka topic and the silver.alerts Iceberg table.
//
// Contract:
//   - The Engine is deterministic pure logic: records in, notifications out,
//     no I/O and no wall clock except through the injected now (used only
//     for idle partitions and future-dated records).
//   - Window state, the watermark, consumed offsets and the notifications a
//     batch produced are checkpointed in one PostgreSQL transaction, so a
//     restart (clean or SIGKILL) resumes exactly where the last checkpoint
//     left off: no alert is lost, and notifications are keyed by ID
//     (fingerprint, start, status) so none is stored or delivered twice.
//   - Records older than the watermark − allowed lateness, or dated too far
//     in the future, are not evaluated but counted (metric) and recorded in
//     the alerts_late_records table.
//   - Sinks deliver from the stored outbox on their own goroutines with
//     backoff; a sink that is down never blocks evaluation.
package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"weir/jobs/alerts/rules"
	"weir/jobs/alerts/window"
)

// Record is one decoded source record.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	TS        int64 // event time, Unix ms
	Fields    rules.Fields
}

// Notification statuses.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Notification is one alert state change: an episode started firing or was
// resolved. ID is unique per (fingerprint, start, status).
type Notification struct {
	ID          string             `json:"id"`
	Fingerprint string             `json:"fingerprint"`
	Rule        string             `json:"rule"`
	Status      string             `json:"status"`
	Severity    string             `json:"severity"`
	Labels      map[string]string  `json:"labels"`
	Annotations map[string]string  `json:"annotations"`
	StartsAt    time.Time          `json:"starts_at"`
	EndsAt      time.Time          `json:"ends_at,omitzero"` // zero while an open episode fires
	WindowStart time.Time          `json:"window_start"`     // the window that fired (or resolved) it
	WindowEnd   time.Time          `json:"window_end"`
	Values      map[string]float64 `json:"values,omitempty"`
}

// LateRecord is a record the engine did not evaluate, with the reason.
type LateRecord struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	TS        int64  `json:"ts"`
	Watermark int64  `json:"watermark"`
	Reason    string `json:"reason"` // too_late or future
}

// Late record reasons.
const (
	TooLate = "too_late"
	Future  = "future"
	Invalid = "invalid"
)

// Stats are the engine's counters, exported as metrics by the job.
type Stats struct {
	Records       int64 // evaluated
	Late          int64 // within allowed lateness (re-evaluated windows)
	TooLate       int64
	Future        int64
	GroupsDropped int64 // records of new groups refused by max_groups
	// DroppedBy is GroupsDropped by rule name.
	DroppedBy map[string]int64
	Refires   int64 // windows re-evaluated because of late records
}

// Engine evaluates every rule of a rules file over a stream of records.
type Engine struct {
	settings rules.Settings
	lateness int64
	maxFut   int64
	now      func() time.Time
	wm       *window.Tracker
	window   []*windowRule
	seq      []*seqRule
	bySource map[string][]evaluator
	enrich   map[string][]*lookup // by source topic
	dims     map[string][]*lookup // by dimension topic

	out    []Notification
	late   []LateRecord
	stats  Stats
	limits map[string]*limitEpisode // open group-limit alerts, by rule
	// bucketCount is how many checkpoint parts each rule's groups are
	// spread over (snapshot.go), by rule digest.
	bucketCount map[string]int
}

type evaluator interface {
	add(e *Engine, r *Record)
}

type lookup struct {
	spec rules.Enrich
	m    map[string]string
}

// NewEngine compiles a validated rules file.
func NewEngine(f *rules.File, now func() time.Time) *Engine {
	s := f.Settings
	e := &Engine{
		settings: s,
		lateness: s.AllowedLateness.D().Milliseconds(),
		maxFut:   s.MaxFuture.D().Milliseconds(),
		now:      now,
		wm:       window.NewTracker(s.OutOfOrderness.D(), s.IdleTimeout.D(), now),
		bySource: map[string][]evaluator{},
		enrich:   map[string][]*lookup{},
		dims:     map[string][]*lookup{},
	}
	for _, en := range s.Enrich {
		l := &lookup{spec: en, m: map[string]string{}}
		e.enrich[en.Source] = append(e.enrich[en.Source], l)
		e.dims[en.Topic] = append(e.dims[en.Topic], l)
	}
	for i := range f.Rules {
		r := &f.Rules[i]
		var ev evaluator
		if r.Sequence != nil {
			sr := newSeqRule(r, e.lateness)
			e.seq = append(e.seq, sr)
			ev = sr
		} else {
			wr := newWindowRule(r, e.lateness)
			e.window = append(e.window, wr)
			ev = wr
		}
		e.bySource[r.Source] = append(e.bySource[r.Source], ev)
	}
	return e
}

// SourceTopics lists the topics rules read, sorted.
func (e *Engine) SourceTopics() []string {
	var ts []string
	for t := range e.bySource {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// DimensionTopics lists the topics enrichment reads, sorted.
func (e *Engine) DimensionTopics() []string {
	var ts []string
	for t := range e.dims {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// Register makes a source partition hold the watermark back (see window).
func (e *Engine) Register(p window.Partition) { e.wm.Register(p, window.PartitionState{}) }

// Dimension applies one dimension record (e.g. an item and its category).
func (e *Engine) Dimension(topic string, f rules.Fields) {
	for _, l := range e.dims[topic] {
		k, ok := f.Str(l.spec.Key)
		if !ok {
			continue
		}
		if v, ok := f.Str(l.spec.Value); ok {
			l.m[k] = v
		}
	}
}

// Unread tells the engine whether the broker holds records of p not read
// yet; such a partition never counts as idle (see window).
func (e *Engine) Unread(p window.Partition, unread bool) { e.wm.Unread(p, unread) }

// Touch keeps a partition active when one of its records could not be
// decoded (it still shows the partition is flowing).
func (e *Engine) Touch(p window.Partition) { e.wm.Touch(p) }

// Process evaluates one record against the rules of its topic.
func (e *Engine) Process(r Record) {
	p := window.Partition{Topic: r.Topic, Partition: r.Partition}
	if r.TS > e.now().UnixMilli()+e.maxFut {
		e.stats.Future++
		e.wm.Touch(p)
		e.late = append(e.late, LateRecord{r.Topic, r.Partition, r.Offset, r.TS, e.wm.Current(), Future})
		return
	}
	wm := e.wm.Current()
	if wm != window.None && r.TS < wm-e.lateness {
		e.stats.TooLate++
		e.wm.Touch(p)
		e.late = append(e.late, LateRecord{r.Topic, r.Partition, r.Offset, r.TS, wm, TooLate})
		return
	}
	if wm != window.None && r.TS < wm {
		e.stats.Late++
	}
	e.wm.Observe(p, r.TS)
	e.stats.Records++
	if ls := e.enrich[r.Topic]; len(ls) > 0 {
		r.Fields = enriched(r.Fields, ls)
	}
	for _, ev := range e.bySource[r.Topic] {
		ev.add(e, &r)
	}
}

// Advance recomputes the watermark, closes the windows it passed, re-fires
// windows late records changed, and expires state beyond allowed lateness.
func (e *Engine) Advance() {
	wm := e.wm.Watermark()
	if wm == window.None {
		return
	}
	for _, wr := range e.window {
		wr.advance(e, wm)
	}
	for _, sr := range e.seq {
		sr.expire(wm)
	}
	e.resolveGroupLimits(wm)
}

// EndOfInput releases the watermark from every partition: the caller read
// all of them to their end and stops (see window.Tracker.EndOfInput).
func (e *Engine) EndOfInput() { e.wm.EndOfInput() }

// Watermark returns the current watermark (window.None until known).
func (e *Engine) Watermark() int64 { return e.wm.Current() }

// Drain returns and forgets the notifications and late records produced
// since the last Drain.
func (e *Engine) Drain() ([]Notification, []LateRecord) {
	n, l := e.out, e.late
	e.out, e.late = nil, nil
	return n, l
}

// Stats returns a copy of the counters.
func (e *Engine) Stats() Stats {
	st := e.stats
	st.DroppedBy = maps.Clone(st.DroppedBy)
	return st
}

// StateSize is the number of live state entries (panes, groups, results,
// sequence entries): the bounded-memory metric.
func (e *Engine) StateSize() int {
	n := 0
	for _, wr := range e.window {
		n += wr.size()
	}
	for _, sr := range e.seq {
		n += sr.size()
	}
	return n
}

// emit builds a notification from a rule, its group label values and times.
func (e *Engine) emit(r *rules.Rule, groupVals []string, status string, startsAt, endsAt, wStart, wEnd int64, values map[string]float64) {
	e.emitRevision(r, groupVals, status, startsAt, endsAt, wStart, wEnd, values, "")
}

// emitRevision is emit for a notification that revises one already sent for
// the same episode (late data re-opened it): rev keeps its ID distinct.
func (e *Engine) emitRevision(r *rules.Rule, groupVals []string, status string, startsAt, endsAt, wStart, wEnd int64, values map[string]float64, rev string) {
	labels := make(map[string]string, len(r.GroupBy)+len(r.Labels)+len(e.settings.ExternalLabels)+3)
	for k, v := range e.settings.ExternalLabels {
		labels[k] = v
	}
	for k, v := range r.Labels {
		labels[k] = v
	}
	for i, g := range r.GroupBy {
		labels[g] = groupVals[i]
	}
	labels["alertname"] = r.Name
	labels["severity"] = r.Severity
	fp := Fingerprint(labels)
	id := fp + "/" + strconv.FormatInt(startsAt, 10) + "/" + status
	if rev != "" {
		id += "/" + rev
	}
	n := Notification{
		ID:          id,
		Fingerprint: fp,
		Rule:        r.Name,
		Status:      status,
		Severity:    r.Severity,
		Labels:      labels,
		StartsAt:    time.UnixMilli(startsAt).UTC(),
		WindowStart: time.UnixMilli(wStart).UTC(),
		WindowEnd:   time.UnixMilli(wEnd).UTC(),
		Values:      values,
	}
	if endsAt != 0 {
		n.EndsAt = time.UnixMilli(endsAt).UTC()
	}
	if len(r.Annotations) > 0 {
		data := rules.TemplateData{Labels: labels, Values: values, Window: fmtDur(wEnd - wStart)}
		n.Annotations = make(map[string]string, len(r.Annotations))
		for k, tmpl := range r.Annotations {
			s, err := r.Render(tmpl, data)
			if err != nil {
				s = tmpl // validated at load; a value missing at run time keeps the raw text
			}
			n.Annotations[k] = s
		}
	}
	e.out = append(e.out, n)
}

// Fingerprint identifies an alert by its label set (as Alertmanager does).
func Fingerprint(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(labels[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// groupKey reads the group-by fields of a record; a missing field groups as "".
func groupKey(f rules.Fields, by []string, buf []string) (string, []string) {
	buf = buf[:0]
	n := 0
	for _, g := range by {
		v, _ := f.Str(g)
		buf = append(buf, v)
		n += len(v) + 1
	}
	if len(buf) == 1 {
		return buf[0], buf
	}
	var b strings.Builder
	b.Grow(n)
	for i, v := range buf {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(v)
	}
	return b.String(), buf
}

// enrichedFields overlays looked-up dimension values on a record.
type enrichedFields struct {
	base rules.Fields
	ls   []*lookup
}

func enriched(f rules.Fields, ls []*lookup) rules.Fields { return enrichedFields{f, ls} }

func (x enrichedFields) Str(name string) (string, bool) {
	for _, l := range x.ls {
		if l.spec.As == name {
			k, ok := x.base.Str(l.spec.On)
			if !ok {
				return "", false
			}
			v, ok := l.m[k]
			return v, ok
		}
	}
	return x.base.Str(name)
}

func (x enrichedFields) Num(name string) (float64, bool) {
	for _, l := range x.ls {
		if l.spec.As == name {
			s, ok := x.Str(name)
			if !ok {
				return 0, false
			}
			v, err := strconv.ParseFloat(s, 64)
			return v, err == nil
		}
	}
	return x.base.Num(name)
}

func fmtDur(ms int64) string { return fmt.Sprint(time.Duration(ms) * time.Millisecond) }

// Invalid records a record that could not be decoded: not evaluated, kept
// in the late-records table with reason "invalid".
func (e *Engine) Invalid(r Record) {
	e.wm.Touch(window.Partition{Topic: r.Topic, Partition: r.Partition})
	e.late = append(e.late, LateRecord{r.Topic, r.Partition, r.Offset, 0, e.wm.Current(), Invalid})
}
