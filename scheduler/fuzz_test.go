package scheduler

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParseDAG: any DAG file either loads or is refused with an error;
// a loaded one renders every task and lists its backfill intervals
// without a panic.
func FuzzParseDAG(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	shipped, _ := filepath.Glob("../dags/*.yaml")
	for _, p := range append(files, shipped...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := Parse("fuzz.yaml", raw, DefaultJobs())
		if err != nil {
			return
		}
		for _, task := range d.Tasks {
			if _, err := task.Render(TemplateData{DAGID: d.ID, Params: d.Params, DataIntervalStart: now, DataIntervalEnd: now}); err != nil {
				t.Errorf("a loaded DAG's task %s does not render: %v", task.ID, err)
			}
		}
		_, _ = d.BackfillIntervals(now.Add(-72*time.Hour), now, now)
	})
}
