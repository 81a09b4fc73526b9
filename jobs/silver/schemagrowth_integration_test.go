//go:build integration

package silver_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/catalog"

	"weir/config"
	"weir/events"
	"weir/internal/stacktest"
	"weir/jobs/archive"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/jobs/stream"
	"weir/kafkaio"
	"weir/lakehouse"
	"weir/trino"
	"weir/wait"
)

// TestSchemaGrowth: producers add fields to app.events while the stream
// job runs. Silver keeps the fields its model does not know in the extra
// column (Trino reads them); then the configuration promotes two of them
// (config promote) and the next silver run evolves silver.events (Iceberg
// schema evolution): Trino sees the typed columns, the rows written before
// read null, a value of the wrong type reads null and stays in extra, and
// the counts stay exact. The archive move carries the new columns.
//
// Isolation: topic "<p>.app.events" (bronze table bronze.<p>_app_events),
// silver in silvertest's namespaces; all dropped at the end.
func TestSchemaGrowth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	env := silvertest.New(t)
	cfg := stacktest.Config(t)
	db, err := trino.Open(cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prefix := stacktest.ID("sg")
	topic := prefix + "." + events.TopicAppEvents
	deadLetters := lakehouse.Bronze + "." + prefix + "_dead_letters"
	bronze := lakehouse.BronzeTable(topic)
	if err := kafkaio.EnsureTopics(ctx, cfg.Kafka, []kafkaio.TopicSpec{{Name: topic, Partitions: 2}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for _, name := range []string{bronze, deadLetters} {
			if err := env.Lake.Catalog.PurgeTable(ctx, lakehouse.Ident(name)); err != nil && !errors.Is(err, catalog.ErrNoSuchTable) {
				t.Logf("purge %s: %v", name, err)
			}
		}
		if err := kafkaio.DeleteTopics(ctx, cfg.Kafka, []string{topic}, []string{prefix + "-stream"}); err != nil {
			t.Logf("%v", err)
		}
	})
	ns := env.NS
	ns.Bronze, ns.BronzePrefix = lakehouse.Bronze, prefix+"_"

	job, err := stream.New(stream.Config{
		Topics: []string{topic}, Group: prefix + "-stream", DeadLetters: deadLetters,
		CommitInterval: time.Second, Listen: "127.0.0.1:0",
	}, cfg.Kafka, env.Lake, slog.Default().With("job", "stream"))
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- job.Run(sctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("stream: %v", err)
		}
	}()

	p, err := kafkaio.NewProducer(cfg.Kafka, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	produced := 0
	produce := func(n int, extra func(i int) events.Extra) {
		t.Helper()
		// Ten days old: the archive move below takes them.
		now := time.Now().UTC().AddDate(0, 0, -10)
		for i := range n {
			id := fmt.Sprintf("%s-%d", prefix, produced)
			ev := events.AppEvent{EventID: id, ActionID: id, TS: now.Add(time.Duration(i) * time.Millisecond), Service: "web",
				Host: "h1", Type: events.TypePageView, Page: "/", Status: events.StatusOK, Extra: extra(i)}
			if err := p.Produce(ctx, topic, []byte(id), ev.AppendJSON(nil)); err != nil {
				t.Fatal(err)
			}
			produced++
		}
		if err := p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		err := wait.Until(ctx, 500*time.Millisecond, func(context.Context) error {
			if n := env.Count(t, bronze); n != int64(produced) {
				return fmt.Errorf("bronze %s holds %d rows, want %d", bronze, n, produced)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	build := func(promote map[string][]config.Promoted) {
		t.Helper()
		res, err := silver.New(env.Lake, silver.Config{Namespaces: ns, Promote: promote}).Run(ctx, silver.SourceAppEvents)
		if err != nil {
			t.Fatalf("silver: %v", err)
		}
		var rows, rejects int64
		for _, r := range res {
			rows, rejects = rows+r.Rows, rejects+r.Rejects
		}
		if rejects != 0 {
			t.Fatalf("silver: %d rejects, want 0", rejects)
		}
	}
	tbl := trino.Qualified(cfg.Trino.Catalog, ns.Silver, "events")

	// 1. New fields, nothing promoted: they are in extra, as JSON text.
	produce(40, func(i int) events.Extra {
		return events.Extra{"coupon": `"SAVE10"`, "discount_pct": "12.5", "meta": `{"ab":[1,2]}`}
	})
	build(nil)
	checkQuery(t, db, "SELECT count(*), count_if(element_at(extra, 'coupon') = '\"SAVE10\"'), count_if(json_extract_scalar(element_at(extra, 'meta'), '$.ab[1]') = '2') FROM "+tbl,
		"40 40 40")

	// 2. Promoted while the stream runs; the old rows read null.
	produce(30, func(i int) events.Extra {
		if i == 0 {
			return events.Extra{"coupon": `"SAVE20"`, "discount_pct": `"oops"`}
		}
		return events.Extra{"coupon": `"SAVE20"`, "discount_pct": "20"}
	})
	build(map[string][]config.Promoted{silver.SourceAppEvents: {{Field: "coupon", Type: "string"}, {Field: "discount_pct", Type: "double"}}})
	checkQuery(t, db, "SELECT count(*), count(coupon), count_if(coupon = 'SAVE20'), count(discount_pct), sum(discount_pct), "+
		"count_if(discount_pct IS NULL AND element_at(extra, 'discount_pct') = '\"oops\"') FROM "+tbl,
		"70 30 30 29 580 1")
	checkQuery(t, db, "SELECT data_type FROM "+trino.Qualified(cfg.Trino.Catalog, "information_schema", "columns")+
		" WHERE table_schema = "+trino.String(ns.Silver)+" AND table_name = 'events' AND column_name = 'discount_pct'", "double")

	// 3. A later run without the promotion in its configuration still
	// fills the columns the table has.
	produce(10, func(i int) events.Extra { return events.Extra{"discount_pct": "5"} })
	build(nil)
	checkQuery(t, db, "SELECT count(*), count(discount_pct), sum(discount_pct) FROM "+tbl, "80 39 630")

	// 4. The archive move carries the promoted columns to the archive tier.
	reports, err := archive.New(env.Lake, archive.Config{Namespaces: ns, HotDays: 2, Tables: []string{lakehouse.SilverEvents}}).Run(ctx)
	if err != nil {
		t.Fatalf("archive: %v", err)
	}
	if len(reports) != 1 || reports[0].Rows != 80 {
		t.Fatalf("archive moved %+v, want the 80 rows", reports)
	}
	checkQuery(t, db, "SELECT count(*), count(discount_pct), sum(discount_pct), count_if(element_at(extra, 'coupon') = '\"SAVE10\"') FROM "+
		trino.Qualified(cfg.Trino.Catalog, ns.Archive, "events"), "80 39 630 40")
	if n := env.Count(t, deadLetters); n != 0 {
		t.Errorf("%d dead letters, want 0", n)
	}
}

// checkQuery runs a one-row query through Trino and compares its values,
// joined by spaces, with want.
func checkQuery(t *testing.T, db *sql.DB, query, want string) {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var got []string
	err = trino.Values(rows, func(vals []any) error {
		for _, v := range vals {
			got = append(got, fmt.Sprint(v))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if strings.Join(got, " ") != want {
		t.Errorf("%s\n got %s\nwant %s", query, strings.Join(got, " "), want)
	}
}
