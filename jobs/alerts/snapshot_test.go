package alerts

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestPartsIncremental: the state is split into parts whose bytes do not
// change unless their groups do, so a batch that touches three of 4,000
// groups changes at most three group parts (and the meta part): the job
// stores those, not the whole state. Restoring from the parts continues
// exactly as the engine that was never stopped.
func TestPartsIncremental(t *testing.T) {
	var recs []rec
	for i := range 4000 {
		recs = append(recs, at(time.Duration(i%5)*time.Second, "status", "failed", "provider", fmt.Sprint("p", i)))
	}
	e, _ := newTestEngine(t, countRule)
	feed(e, "t", recs...)
	e.Drain()
	before, err := e.Parts()
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.Parts()
	if err != nil {
		t.Fatal(err)
	}
	var total int
	for k, v := range before {
		total += len(v)
		if k != metaPart && !bytes.Equal(v, again[k]) {
			t.Fatalf("part %s changed without a record: the encoding is not deterministic", k)
		}
	}
	if len(before) < 100 {
		t.Fatalf("%d parts for 4,000 groups; want them spread out", len(before))
	}

	feed(e, "t", at(6*time.Second, "status", "failed", "provider", "p1"), at(6*time.Second, "status", "failed", "provider", "p2"),
		at(7*time.Second, "status", "failed", "provider", "p3"))
	after, err := e.Parts()
	if err != nil {
		t.Fatal(err)
	}
	changed, bytesChanged := 0, 0
	for k, v := range after {
		if k != metaPart && !bytes.Equal(v, before[k]) {
			changed++
			bytesChanged += len(v)
		}
	}
	t.Logf("state %d bytes in %d parts; a batch touching 3 groups changed %d parts, %d bytes", total, len(before), changed, bytesChanged)
	if changed == 0 || changed > 3 {
		t.Errorf("%d group parts changed, want 1 to 3", changed)
	}

	// Restore from the parts and go on: same notifications as e.
	r, _ := newTestEngine(t, countRule)
	if err := r.RestoreParts(after); err != nil {
		t.Fatal(err)
	}
	tail := []rec{at(8*time.Second, "status", "failed", "provider", "p1"), at(25*time.Second, "status", "ok")}
	feed(e, "t", tail...)
	feed(r, "t", tail...)
	want, _ := e.Drain()
	got, _ := r.Drain()
	equal(t, summary(got, "provider"), summary(want, "provider"))
	if len(want) == 0 {
		t.Fatal("no notifications after the restore")
	}
}
