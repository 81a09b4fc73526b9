//go:build integration

package silver_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"weir/internal/faultreport"
	"weir/internal/stacktest"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// TestMain removes the weir binary the tests built.
func TestMain(m *testing.M) { stacktest.Main(m) }

// TestSilverKillPoints SIGKILLs the real `weir batch silver` process inside
// its commits — with a commit built, with the new metadata written but the
// catalog not yet switched, and right after the catalog switched (the
// typed table committed and silver.rejects not yet, or the other way
// round: a chunk commits its targets concurrently) — while bronze grows
// between runs. A last run finishes; every silver table and the rejects
// must then hold exactly what the generator's summary says.
func TestSilverKillPoints(t *testing.T) {
	env := silvertest.New(t)
	end := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Minute)
	recs, sum := silvertest.Generate(t, end.Add(-30*time.Minute), end, 15, faults)
	bin := stacktest.Weir(t)
	points := []string{lakehouse.PointCommitBuilt, lakehouse.PointMetadataWritten, lakehouse.PointCommitted}
	const rounds = 12
	hits := map[string]int{}
	for round := range rounds {
		// Bronze grows by a slice before every run.
		env.LoadBronze(t, recs[len(recs)*round/rounds:len(recs)*(round+1)/rounds], time.Now())
		point := points[round%len(points)]
		cmd := exec.Command(bin, append([]string{"batch", "silver", "--chunk-rows", "1500"}, env.NamespaceArgs()...)...)
		cmd.Env = append(os.Environ(), "WEIR_KILL_POINT="+point, fmt.Sprintf("WEIR_KILL_AFTER=%d", 1+round%4))
		out, err := cmd.CombinedOutput()
		switch {
		case stacktest.KilledBySIGKILL(err):
			hits[point]++
		case err != nil:
			t.Fatalf("round %d (%s): %v\n%s", round, point, err, tail(out))
		default:
			t.Logf("round %d: the run finished before reaching %s a %d. time", round, point, 1+round%4)
		}
	}
	for _, p := range points {
		if hits[p] == 0 {
			t.Errorf("no run was killed at %s (kills %v)", p, hits)
		}
	}
	out, err := exec.Command(bin, append([]string{"batch", "silver"}, env.NamespaceArgs()...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("final run: %v\n%s", err, tail(out))
	}
	expect(t, env, sum)
	if t.Failed() {
		return
	}
	var silverRows int64
	for _, ts := range sum.Topics {
		silverRows += ts.SilverRows
	}
	for _, p := range points {
		if err := faultreport.Record(faultreport.Entry{Test: t.Name(), Fault: "weir batch silver killed at " + p,
			Injected: "SIGKILL by the process itself (WEIR_KILL_POINT) while bronze grows between runs", Times: hits[p],
			Expected: silverRows + sum.Rejected, Stored: silverRows + sum.Rejected}); err != nil {
			t.Error(err)
		}
	}
	t.Logf("kills %v; silver and rejects exact against the generator's summary", hits)
}

func tail(b []byte) string {
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}
