package alerts

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestGroupLimitAlert: records a rule refuses at max_groups are counted by
// rule and raise one AlertRuleGroupLimit episode, kept across a checkpoint
// (no second firing after a restore), resolved once the rule refused
// nothing for groupLimitQuiet of event time.
func TestGroupLimitAlert(t *testing.T) {
	yml := strings.Replace(countRule, "allowed_lateness: 30s", "allowed_lateness: 30s, max_groups: 2", 1)
	e, c := newTestEngine(t, yml)
	var recs []rec
	for i := range 5 {
		recs = append(recs, at(time.Second, "status", "failed", "provider", fmt.Sprint(i)))
	}
	feed(e, "t", recs...)
	if got := e.Stats().DroppedBy["Failures"]; got != 3 {
		t.Fatalf("dropped by Failures = %d, want 3", got)
	}
	ns, _ := e.Drain()
	equal(t, summary(ns, "rule"), []string{"firing AlertRuleGroupLimit rule=Failures +0s"})

	// A restart from the checkpoint keeps the episode open: more refusals
	// do not fire it again.
	parts, err := e.Parts()
	e2, _ := newTestEngine(t, yml)
	if err == nil {
		err = e2.RestoreParts(parts)
	}
	if err != nil {
		t.Fatal(err)
	}
	feed(e2, "t", at(2*time.Minute, "status", "failed", "provider", "new"))
	if ns, _ := e2.Drain(); len(ns) != 0 {
		t.Fatalf("after restore: %v", summary(ns, "rule"))
	}
	// Quiet for 10 minutes of event time: resolved at the last refusal.
	c.t = c.t.Add(time.Hour)
	feed(e2, "t", at(13*time.Minute, "status", "failed", "provider", "0"))
	ns, _ = e2.Drain()
	var got []string
	for _, l := range summary(ns, "rule") {
		if strings.Contains(l, "AlertRuleGroupLimit") {
			got = append(got, l)
		}
	}
	equal(t, got, []string{"resolved AlertRuleGroupLimit rule=Failures +0s..+2m0s"})
	if ns[len(ns)-1].Values["dropped"] != 4 {
		t.Errorf("episode dropped %v records, want 4", ns[len(ns)-1].Values["dropped"])
	}
}
