package generate

import (
	"bytes"
	"context"
	"testing"
	"time"
)

var testStart = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func testConfig() Config {
	cfg := Default(testStart)
	cfg.End = testStart.Add(3 * time.Hour)
	cfg.Rate = 40
	cfg.Users = 500
	cfg.AnomalyEvery = 30 * time.Minute
	cfg.Faults = FaultRates{Malformed: 0.01, NonUTF8: 0.01, Duplicate: 0.02, OutOfOrder: 0.01, Future: 0.005}
	return cfg
}

type run struct {
	out   bytes.Buffer
	truth bytes.Buffer
	sum   *Summary
}

func generateTo(t *testing.T, cfg Config) *run {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{}
	sink := NewFileSink(&r.out)
	r.sum, err = g.Run(context.Background(), sink, &r.truth)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSmoke(t *testing.T) {
	r := generateTo(t, testConfig())
	t.Logf("records %d, bytes %d", r.sum.Records, r.out.Len())
	for name, ts := range r.sum.Topics {
		t.Logf("%s %+v", name, *ts)
	}
	t.Logf("truth:\n%s", r.truth.String())
	t.Logf("expected: %+v", r.sum.Expected.Access)
}
