// Package window holds the event-time arithmetic of the alert job: aligning
// records to panes of a tumbling or sliding window, and the watermark.
//
// Times are Unix milliseconds. A window [end−Size, end) is made of Size/Slide
// panes of Slide each; a record belongs to exactly one pane, and a pane to
// Size/Slide windows, so a sliding window costs one update per record.
//
// The watermark is max event time seen − the bounded out-of-orderness, taken
// per partition; the job's watermark is the minimum over the partitions that
// are not idle, or, when every partition is idle, the maximum. It never
// moves backwards.
//
// A partition is idle when it has no unread records (as the caller last
// learned from the broker, see Unread) and delivered no record for the idle
// timeout of wall time (or none at all that the tracker knows of), so that:
//   - a partition with unread records is never idle, however long the
//     consumer was busy elsewhere, so its backlog is never made too late by
//     partitions read before it;
//   - a partition read to its end still holds the watermark for the idle
//     timeout, so when new data arrives on every partition at once the first
//     partition read cannot push the watermark past the others' records;
//   - a partition with nothing to read releases the watermark after the idle
//     timeout, so a quiet or finished partition never stalls evaluation.
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
	// Active is the wall time (Unix ms) of the partition's last record, so a
	// partition active just before a restart keeps holding the watermark
	// after it, and one idle before it stays idle; 0 if none is known.
	Active int64
}

type partition struct {
	maxTS    int64
	activity time.Time // wall time of the last record; zero if none known
	unread   bool      // the broker holds records not yet read
}

// Tracker computes the watermark over a set of partitions.
type Tracker struct {
	outOfOrder int64
	idle       time.Duration
	now        func() time.Time
	parts      map[Partition]*partition
	wm         int64
	ended      bool // EndOfInput: every partition is idle
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

// Register adds a partition; restoring passes its checkpointed state. A
// partition with no known activity holds the watermark back only while it
// has unread records (see Unread).
func (t *Tracker) Register(p Partition, st PartitionState) {
	if _, ok := t.parts[p]; ok {
		return
	}
	if st.MaxTS == 0 {
		st.MaxTS = None
	}
	var active time.Time
	if st.Active != 0 {
		active = time.UnixMilli(st.Active)
	}
	t.parts[p] = &partition{maxTS: st.MaxTS, activity: active}
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

// Unread tells whether the broker holds records of p that were not read
// yet. While it does, p is never idle; once it does not, p goes idle when
// it has also delivered nothing for the idle timeout.
func (t *Tracker) Unread(p Partition, unread bool) {
	if pt, ok := t.parts[p]; ok {
		pt.unread = unread
	}
}

// isIdle reports whether p no longer holds the watermark back.
func (t *Tracker) isIdle(p *partition, now time.Time) bool {
	return t.ended || !p.unread && now.Sub(p.activity) >= t.idle
}

// EndOfInput says nothing more will be read (a bounded replay read every
// partition to its end): no partition holds the watermark back any longer,
// without waiting for the idle timeout, so every window the records reach
// is evaluated.
func (t *Tracker) EndOfInput() { t.ended = true }

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
		if !t.isIdle(p, now) {
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
		st := PartitionState{MaxTS: pt.maxTS}
		if !pt.activity.IsZero() {
			st.Active = pt.activity.UnixMilli()
		}
		out[p] = st
	}
	return out, t.wm
}

// Restore sets the watermark from a checkpoint (partitions via Register).
func (t *Tracker) Restore(wm int64) {
	if wm > t.wm {
		t.wm = wm
	}
}
