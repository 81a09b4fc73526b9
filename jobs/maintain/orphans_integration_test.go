//go:build integration

package maintain_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	icebergio "github.com/apache/iceberg-go/io"

	"weir/jobs/generate"
	"weir/jobs/maintain"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// TestOrphansRemovesOnlyTrueOrphans plants unreferenced files in a bronze
// table's data and metadata directories, then holds a real commit in
// flight (its data files and staged changes written, the catalog not yet
// asked) while `maintain` removes orphans older than orphanAge. Only the
// planted files may go: the table's live files and the in-flight commit's
// stay, and that commit then lands with every row readable.
func TestOrphansRemovesOnlyTrueOrphans(t *testing.T) {
	const orphanAge = 8 * time.Second
	env := silvertest.New(t)
	ctx := context.Background()
	end := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Minute)
	recs, sum := silvertest.Generate(t, end.Add(-5*time.Minute), end, 5, generate.FaultRates{})
	var appEvents []silvertest.Record
	for _, r := range recs {
		if r.Topic == "app.events" {
			appEvents = append(appEvents, r)
		}
	}
	third := len(appEvents) / 3
	env.LoadBronze(t, appEvents[:third], time.Now())
	env.LoadBronze(t, appEvents[third:2*third], time.Now())
	name := env.NS.Table(lakehouse.BronzeAppEvents)
	tbl, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wfs, ok := fs.(icebergio.WriteFileIO)
	if !ok {
		t.Fatalf("%T cannot write", fs)
	}
	planted := []string{
		tbl.Location() + "/data/orphan-00000.parquet",
		tbl.Location() + "/data/orphan-00001.parquet",
		tbl.Location() + "/metadata/orphan-m0.avro",
		tbl.Location() + "/metadata/99999-orphan.metadata.json",
	}
	for i, p := range planted {
		if err := wfs.WriteFile(p, fmt.Appendf(nil, "orphan %d", i)); err != nil {
			t.Fatalf("plant %s: %v", p, err)
		}
	}
	time.Sleep(orphanAge + time.Second) // the planted files are old enough

	// A commit in flight: held at commit-built until the removal is done.
	built, release := make(chan struct{}), make(chan struct{})
	env.CommitHook = func(point string) {
		if point == lakehouse.PointCommitBuilt {
			close(built)
			<-release
		}
	}
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		env.LoadBronze(t, appEvents[2*third:], time.Now())
	}()
	select {
	case <-built:
	case <-loaded:
		t.Fatal("the in-flight commit finished without reaching commit-built")
	}
	reps, err := maintain.New(env.Lake, maintain.Config{Namespaces: env.NS, Tables: []string{lakehouse.BronzeAppEvents},
		Ops: []string{maintain.OpOrphans}, OrphanAge: orphanAge}).Run(ctx)
	close(release)
	<-loaded
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].OrphansRemoved != len(planted) {
		t.Errorf("orphan removal reports %+v, want %d files removed (the planted ones)", reps, len(planted))
	}
	for _, p := range planted {
		if f, err := fs.Open(p); err == nil {
			f.Close()
			t.Errorf("planted orphan %s was kept", p)
		}
	}
	// The in-flight commit landed; every live file is there: a full scan
	// reads each row.
	tbl, err = env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
	if err != nil {
		t.Fatal(err)
	}
	coords, n, err := readCoords(ctx, tbl, lakehouse.ColTopic, lakehouse.ColPartition, lakehouse.ColOffset)
	if err != nil {
		t.Fatalf("scan after orphan removal: %v", err)
	}
	if want := sum.Topics["app.events"].Produced; n != want || int64(len(appEvents)) != want {
		t.Errorf("%s: %d rows after the in-flight commit, produced %d", name, n, want)
	}
	t.Logf("%d planted orphans removed; %d rows in %d partitions readable, the in-flight commit's included", len(planted), n, len(coords))
}
