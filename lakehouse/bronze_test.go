package lakehouse

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"testing"

	"github.com/apache/iceberg-go/table"
)

func TestBronzeTable(t *testing.T) {
	for topic, want := range map[string]string{
		"web.access":     BronzeWebAccess,
		"app.events":     BronzeAppEvents,
		"app.logs":       BronzeAppLogs,
		"infra.metrics":  BronzeMetrics,
		"dims.items":     BronzeDims,
		"dims.providers": BronzeDims,
		"new-topic.x":    "bronze.new_topic_x",
	} {
		t.Run(topic, func(t *testing.T) {
			if got := BronzeTable(topic); got != want {
				t.Errorf("BronzeTable(%q) = %q, want %q", topic, got, want)
			}
		})
	}
}

func TestOffsetSummaryRoundTrip(t *testing.T) {
	offsets := map[TopicPartition]int64{
		{Topic: "web.access", Partition: 0}:  42,
		{Topic: "web.access", Partition: 11}: 0,
		{Topic: "dims.items", Partition: 3}:  1 << 40,
		{Topic: "plain", Partition: 2}:       7,
	}
	props := OffsetSummary(offsets)
	if got := props["weir.offset.web.access.11"]; got != "0" {
		t.Errorf("key format: weir.offset.web.access.11 = %q, want 0", got)
	}
	props["weir.commit-id"] = "x"
	if got := ParseOffsetSummary(props); !maps.Equal(got, offsets) {
		t.Errorf("round trip = %v, want %v", got, offsets)
	}
}

func TestParseOffsetSummaryIgnoresMalformed(t *testing.T) {
	for _, k := range []string{"weir.offset.", "weir.offset.topic", "weir.offset.topic.x", "weir.offset.topic.-1", "weir.offset..3", "weir.offsets.t.1"} {
		t.Run(k, func(t *testing.T) {
			if got := ParseOffsetSummary(map[string]string{k: "5"}); len(got) != 0 {
				t.Errorf("ParseOffsetSummary(%q) = %v, want nothing", k, got)
			}
		})
	}
	t.Run("bad value", func(t *testing.T) {
		if got := ParseOffsetSummary(map[string]string{"weir.offset.t.1": "-3", "weir.offset.t.2": "z"}); len(got) != 0 {
			t.Errorf("got %v, want nothing", got)
		}
	})
}

func loadTestTable(t *testing.T) *table.Table {
	t.Helper()
	b, err := os.ReadFile("testdata/offsets.metadata.json")
	if err != nil {
		t.Fatal(err)
	}
	meta, err := table.ParseMetadataBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return table.New(Ident("bronze.app_events"), meta, "s3://bucket/m.json", nil, nil)
}

func TestRecordedOffsets(t *testing.T) {
	got := RecordedOffsets(loadTestTable(t))
	// Snapshot 9 is not an ancestor of the current snapshot (a lost
	// branch), the compaction snapshot 3 carries no offsets.
	want := map[TopicPartition]int64{
		{Topic: "app.events", Partition: 0}: 25,
		{Topic: "app.events", Partition: 1}: 8,
		{Topic: "app.events", Partition: 2}: 7,
	}
	if !maps.Equal(got, want) {
		t.Errorf("RecordedOffsets = %v, want %v", got, want)
	}
}

func TestFindCommit(t *testing.T) {
	tbl := loadTestTable(t)
	id := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		commit string
		base   *int64
		want   int64 // 0: not found
	}{
		{"c4", nil, 4},
		{"c2", nil, 2},
		{"c2", id(1), 2},
		{"c2", id(2), 0}, // the base itself was there before the attempt
		{"c1", id(3), 0},
		{"orphan", nil, 0},
		{"missing", nil, 0},
	} {
		base := "none"
		if tc.base != nil {
			base = fmt.Sprint(*tc.base)
		}
		t.Run(tc.commit+"-after-"+base, func(t *testing.T) {
			snap := FindCommit(tbl, tc.commit, tc.base)
			switch {
			case tc.want == 0 && snap != nil:
				t.Errorf("found snapshot %d, want none", snap.SnapshotID)
			case tc.want != 0 && (snap == nil || snap.SnapshotID != tc.want):
				t.Errorf("found %v, want snapshot %d", snap, tc.want)
			}
		})
	}
}

func TestIsConflict(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("commit: %w", table.ErrCommitFailed), true},
		{errors.New("requirement failed: branch \"main\" has changed: expected id 1, found 2"), true},
		{errors.New("Requirement failed: current schema id has changed"), true},
		{errors.New("error updating table information: connection reset by peer"), false},
		{errors.New("context deadline exceeded"), false},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			if got := IsConflict(tc.err); got != tc.want {
				t.Errorf("IsConflict = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBronzeTableSpec(t *testing.T) {
	for _, dl := range []bool{false, true} {
		t.Run(fmt.Sprint("dead letters ", dl), func(t *testing.T) {
			spec := BronzeTableSpec(dl)
			_, hasReason := spec.Schema.FindFieldByName(ColReason)
			if hasReason != dl {
				t.Errorf("reason column present = %v, want %v", hasReason, dl)
			}
			if f, ok := spec.Schema.FindFieldByName(ColIngestedAt); !ok || f.ID != spec.Spec.Field(0).SourceIDs[0] {
				t.Errorf("partition source is not ingested_at")
			}
		})
	}
}

func TestLatestOffsetSnapshot(t *testing.T) {
	if snap := LatestOffsetSnapshot(loadTestTable(t)); snap == nil || snap.SnapshotID != 4 {
		t.Errorf("LatestOffsetSnapshot = %v, want snapshot 4", snap)
	}
}
