package window

import (
	"testing"
	"time"
)

func TestPane(t *testing.T) {
	s := NewSpec(time.Minute, 10*time.Second)
	tests := []struct{ ts, pane int64 }{{0, 0}, {9_999, 0}, {10_000, 10_000}, {-1, -10_000}, {65_432, 60_000}}
	for _, tc := range tests {
		if got := s.Pane(tc.ts); got != tc.pane {
			t.Errorf("Pane(%d) = %d, want %d", tc.ts, got, tc.pane)
		}
	}
	if s.FirstEnd(60_000) != 70_000 || s.LastEnd(60_000) != 120_000 || s.Start(120_000) != 60_000 {
		t.Error("window bounds")
	}
}

func TestWatermark(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	a, b := Partition{"t", 0}, Partition{"t", 1}
	tests := []struct {
		name string
		run  func(tr *Tracker)
		want int64
	}{
		{"none before records", func(tr *Tracker) {}, None},
		{"max minus out of orderness", func(tr *Tracker) { tr.Observe(a, 10_000); tr.Observe(a, 5_000) }, 8_000},
		{"min over partitions", func(tr *Tracker) { tr.Observe(a, 10_000); tr.Observe(b, 4_000) }, 2_000},
		{"registered partition with unread records holds it", func(tr *Tracker) {
			tr.Register(b, PartitionState{})
			tr.Unread(b, true)
			tr.Observe(a, 10_000)
		}, None},
		{"registered partition with nothing unread and no activity known does not", func(tr *Tracker) {
			tr.Register(b, PartitionState{})
			tr.Unread(b, false)
			tr.Observe(a, 10_000)
		}, 8_000},
		{"read to its end, it still holds until the idle timeout", func(tr *Tracker) {
			tr.Observe(b, 4_000)
			tr.Unread(b, false)
			now = now.Add(4 * time.Second)
			tr.Observe(a, 10_000)
		}, 2_000},
		{"read to its end and silent for the idle timeout, it does not", func(tr *Tracker) {
			tr.Observe(b, 4_000)
			tr.Unread(b, false)
			now = now.Add(5 * time.Second)
			tr.Observe(a, 10_000)
		}, 8_000},
		{"caught up, then data on one partition: the other still holds", func(tr *Tracker) {
			tr.Observe(a, 10_000)
			tr.Observe(b, 9_000)
			tr.Unread(a, false)
			tr.Unread(b, false)
			tr.Watermark()
			now = now.Add(3 * time.Second)
			tr.Observe(a, 300_000) // minutes ahead: b's next records must stay on time
		}, 7_000},
		{"unread records: never idle", func(tr *Tracker) {
			tr.Observe(a, 10_000)
			tr.Observe(b, 4_000)
			tr.Unread(b, true)
			now = now.Add(time.Hour)
			tr.Observe(a, 300_000)
		}, 2_000},
		{"unread records read: idle after the timeout", func(tr *Tracker) {
			tr.Observe(b, 4_000)
			tr.Unread(b, true)
			now = now.Add(time.Hour)
			tr.Unread(b, false)
			tr.Observe(a, 300_000)
		}, 298_000},
		{"restored: idle before the restart, idle after it", func(tr *Tracker) {
			tr.Register(b, PartitionState{MaxTS: 4_000, Active: now.Add(-time.Hour).UnixMilli()})
			tr.Observe(a, 10_000)
		}, 8_000},
		{"restored: active before the restart, holds the rest of the timeout", func(tr *Tracker) {
			tr.Register(b, PartitionState{MaxTS: 4_000, Active: now.Add(-time.Second).UnixMilli()})
			tr.Observe(a, 10_000)
			now = now.Add(3 * time.Second)
		}, 2_000},
		{"restored without activity: idle unless unread", func(tr *Tracker) {
			tr.Register(b, PartitionState{MaxTS: 4_000})
			tr.Observe(a, 10_000)
		}, 8_000},
		{"restored without activity, records unread: holds", func(tr *Tracker) {
			tr.Register(b, PartitionState{MaxTS: 4_000})
			tr.Unread(b, true)
			tr.Observe(a, 10_000)
		}, 2_000},
		{"activity survives a snapshot", func(tr *Tracker) {
			tr.Observe(b, 4_000)
			parts, _ := tr.State()
			now = now.Add(2 * time.Second)
			restored := NewTracker(2*time.Second, 5*time.Second, clock)
			restored.Register(b, parts[b])
			*tr = *restored
			tr.Observe(a, 10_000)
		}, 2_000},
		{"unread mark of an unknown partition is ignored", func(tr *Tracker) {
			tr.Unread(b, true)
			tr.Observe(a, 10_000)
		}, 8_000},
		{"idle partition does not", func(tr *Tracker) {
			tr.Observe(b, 4_000)
			now = now.Add(6 * time.Second)
			tr.Observe(a, 10_000)
		}, 8_000},
		{"all idle: the maximum", func(tr *Tracker) {
			tr.Observe(a, 10_000)
			tr.Observe(b, 4_000)
			now = now.Add(6 * time.Second)
		}, 8_000},
		{"end of input: read to the end, released at once", func(tr *Tracker) {
			tr.Observe(a, 10_000)
			tr.Observe(b, 4_000)
			tr.EndOfInput()
		}, 8_000},
		{"never backwards", func(tr *Tracker) {
			tr.Observe(a, 10_000)
			tr.Watermark()
			tr.Observe(b, 1_000)
		}, 8_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now = time.Unix(1000, 0)
			tr := NewTracker(2*time.Second, 5*time.Second, clock)
			tc.run(tr)
			if got := tr.Watermark(); got != tc.want {
				t.Fatalf("watermark = %d, want %d", got, tc.want)
			}
		})
	}
}
