package archive

import (
	"strings"
	"testing"
	"time"

	"weir/jobs/silver"
	"weir/lakehouse"
)

func TestCutoff(t *testing.T) {
	now := time.Date(2026, 3, 31, 15, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		days int
		want time.Time
	}{
		{1, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)},
		{30, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.want.String(), func(t *testing.T) {
			if got := Cutoff(now, tc.days); !got.Equal(tc.want) {
				t.Errorf("Cutoff(%d) = %v, want %v", tc.days, got, tc.want)
			}
		})
	}
}

func TestHotArchiveViewSQL(t *testing.T) {
	ns := silver.DefaultNamespaces()
	q := HotArchiveViewSQL(ns, lakehouse.SilverEvents)
	for _, want := range []string{"FROM silver.events\n", "FROM archive.events a", "h.event_id = a.event_id"} {
		if !strings.Contains(q, want) {
			t.Errorf("view SQL lacks %q:\n%s", want, q)
		}
	}
	q = HotArchiveViewSQL(ns, lakehouse.SilverLogs)
	if !strings.Contains(q, "h.source_offset = a.source_offset") {
		t.Errorf("logs view SQL does not join on coordinates:\n%s", q)
	}
}
