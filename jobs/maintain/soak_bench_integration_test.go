//go:build integration && bench

package maintain_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"weir/internal/stacktest"
)

// TestBenchCompactionUnderStream is the compaction soak (compactionUnderStream)
// at 1,000,000 messages (make bench; WEIR_SOAK_MESSAGES and
// WEIR_SOAK_PRODUCE_SECONDS for quick runs). Figures go to
// bench/results/maintain.json (WEIR_SOAK_OUT elsewhere).
//
// Run (about 5 minutes at 1M on the shared 2-core machine):
//
//	source .stack/env.sh && go test -tags 'integration bench' -run '^TestBenchCompactionUnderStream$' -v -timeout 60m ./jobs/maintain/
func TestBenchCompactionUnderStream(t *testing.T) {
	total := envInt("WEIR_SOAK_MESSAGES", 1_000_000)
	produceFor := time.Duration(envInt("WEIR_SOAK_PRODUCE_SECONDS", max(60, total/5000))) * time.Second
	res, _ := compactionUnderStream(t, soakOptions{total: total, produceFor: produceFor})
	b, _ := json.MarshalIndent(res, "", "  ")
	out := os.Getenv("WEIR_SOAK_OUT")
	if out == "" {
		out = filepath.Join(stacktest.ModuleRoot(t), "bench", "results", "maintain.json")
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", b)
}
