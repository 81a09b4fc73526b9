// Package window holds the event-time arithmetic of the alert job: aligning
// records to panes of a tumbling or sliding window, and the watermark.
//
// Times are Unix milliseconds. A window [end−Size, end) is made of Size/Slide
// panes of Slide each; a record belongs to exactly one pane, and a pane to
// Size/Slide windows, so a sliding window costs one update per record.
//
// The watermark is max event time seen − the bounded out-of-orderness, taken
// per partition; the job's watermark is the minimum over the partitions that
// are not idle (no record for IdleTimeout of wall time, or read to their
// end), or, when every
// partition is idle, the maximum, so a finished or quiet partition never
// stalls evaluation. It never moves backwards.
package window

import (
	"math"
	"time"
)

// Spec is a window's size and slide in milliseconds; Slide divides Size.
type Spec struct {
	Size  int64
	Slide int64
}

// NewSpec builds a Spec from durations.
func NewSpec(size, slide time.Duration) Spec {
	return Spec{Size: size.Milliseconds(), Slide: slide.Milliseconds()}
}

// Pane returns the start of the pane holding ts.
func (s Spec) Pane(ts int64) int64 { return floorDiv(ts, s.Slide) * s.Slide }

// FirstEnd is the end of the earliest window containing the pane starting at
// pane; the last one ends at pane+Size.
func (s Spec) FirstEnd(pane int64) int64 { return pane + s.Slide }

// LastEnd is the end of the latest window containing the pane.
func (s Spec) LastEnd(pane int64) int64 { return pane + s.Size }

// Start is the start of the window ending at end.
func (s Spec) Start(end int64) int64 { return end - s.Size }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// None is the watermark before any record was seen.
const None int64 = math.MinInt64

// Partition names one source partition.
type Partition struct {
	Topic     string
	Partition int32
}

// PartitionState is one partition's progress, as checkpointed.
type PartitionState struct {
	MaxTS int64 // newest event time seen, None if none
}

type partition struct {
	maxTS    int64
	activity time.Time // wall time of the last record, or of registration
}

// Tracker computes the watermark over a set of partitions.
type Tracker struct {
	outOfOrder int64
	idle       time.Duration
	now        func() time.Time
	parts      map[Partition]*partition
	wm         int64
}

// NewTracker returns a tracker with no partitions and no watermark.
func NewTracker(outOfOrder, idle time.Duration, now func() time.Time) *Tracker {
	return &Tracker{
		outOfOrder: outOfOrder.Milliseconds(),
		idle:       idle,
		now:        now,
		parts:      map[Partition]*partition{},
		wm:         None,
	}
}

// Register adds a partition that holds the watermark back until it delivers
// a record or goes idle; restoring passes its checkpointed state.
func (t *Tracker) Register(p Partition, st PartitionState) {
	if _, ok := t.parts[p]; ok {
		return
	}
	if st.MaxTS == 0 {
		st.MaxTS = None
	}
	t.parts[p] = &partition{maxTS: st.MaxTS, activity: t.now()}
}

// Observe records an event time from p (registering p if new).
func (t *Tracker) Observe(p Partition, ts int64) {
	pt, ok := t.parts[p]
	if !ok {
		t.Register(p, PartitionState{})
		pt = t.parts[p]
	}
	if ts > pt.maxTS {
		pt.maxTS = ts
	}
	pt.activity = t.now()
}

// Touch marks p active without an event time (e.g. a record whose time could
// not be read), so it does not go idle while data still flows.
func (t *Tracker) Touch(p Partition) {
	if pt, ok := t.parts[p]; ok {
		pt.activity = t.now()
	}
}

// Partitions lists the registered partitions of topic.
func (t *Tracker) Partitions(topic string) []int32 {
	var out []int32
	for p := range t.parts {
		if p.Topic == topic {
			out = append(out, p.Partition)
		}
	}
	return out
}

// Caught marks p as read to its end: it stops holding the watermark back at
// once instead of after IdleTimeout; its next record makes it active again.
func (t *Tracker) Caught(p Partition) {
	if pt, ok := t.parts[p]; ok {
		pt.activity = time.Time{}
	}
}

// Watermark recomputes and returns the watermark (None until known).
func (t *Tracker) Watermark() int64 {
	now := t.now()
	active, all := int64(math.MaxInt64), None
	nActive := 0
	for _, p := range t.parts {
		w := None
		if p.maxTS != None {
			w = p.maxTS - t.outOfOrder
		}
		if w > all {
			all = w
		}
		if now.Sub(p.activity) < t.idle {
			nActive++
			if w < active {
				active = w
			}
		}
	}
	next := active
	if nActive == 0 {
		next = all
	}
	if next > t.wm {
		t.wm = next
	}
	return t.wm
}

// Current returns the last computed watermark without recomputing.
func (t *Tracker) Current() int64 { return t.wm }

// State returns every partition's checkpointable state and the watermark.
func (t *Tracker) State() (map[Partition]PartitionState, int64) {
	out := make(map[Partition]PartitionState, len(t.parts))
	for p, pt := range t.parts {
		out[p] = PartitionState{MaxTS: pt.maxTS}
	}
	return out, t.wm
}

// Restore sets the watermark from a checkpoint (partitions via Register).
func (t *Tracker) Restore(wm int64) {
	if wm > t.wm {
		t.wm = wm
	}
}
