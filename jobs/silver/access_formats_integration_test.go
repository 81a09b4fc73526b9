//go:build integration

package silver_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/events"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
	"weir/trino"
)

// TestSilverDeclaredNginxFormat: web.access declared with an nginx "main"
// format (timings, host, upstream list) lands in silver.access_logs with
// its typed columns and the other variables in the extra map, readable
// through Trino as map(varchar, varchar); a line in the default format is a
// reject naming the field where it stopped matching.
func TestSilverDeclaredNginxFormat(t *testing.T) {
	env := silvertest.New(t)
	ctx := context.Background()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	cfg.AccessLogFormats = map[string]config.AccessLogFormat{events.TopicWebAccess: {
		Nginx: `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for" $host $request_time $upstream_response_time $upstream_cache_status`,
	}}
	formats, err := cfg.AccessFormats()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	clf := at.Format("02/Jan/2006:15:04:05 -0700")
	lines := []string{
		`192.0.2.7 - - [` + clf + `] "GET /catalog/shoes?page=2 HTTP/1.1" 200 5120 "https://shop.example.com/" "curl/8.5" "-" shop.example.com 0.012 0.010 MISS`,
		`192.0.2.8 - alice [` + clf + `] "POST /api/cart HTTP/2.0" 502 157 "-" "Mozilla/5.0" "198.51.100.4" api.example.com 3.004 3.001, 0.002 -`,
		`203.0.113.9 - frank [` + clf + `] "GET /apache_pb.gif HTTP/1.0" 200 2326 "-" "-"`, // the default format: a reject
	}
	var recs []silvertest.Record
	for _, l := range lines {
		recs = append(recs, silvertest.Record{Topic: events.TopicWebAccess, Value: []byte(l)})
	}
	env.LoadBronze(t, recs, time.Now())
	if _, err := silver.New(env.Lake, silver.Config{Namespaces: env.NS, AccessFormats: formats}).Run(ctx, silver.SourceWebAccess); err != nil {
		t.Fatal(err)
	}

	name := env.NS.Table(lakehouse.SilverAccessLogs)
	if got := env.Count(t, name); got != 2 {
		t.Fatalf("%s: %d rows, want the 2 lines in the declared format", name, got)
	}
	rejects, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(env.NS.Table(lakehouse.SilverRejects)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := silvertest.CountWhereEqual(ctx, rejects, lakehouse.ColField, "http_user_agent"); err != nil || n != 1 {
		t.Errorf("rejects on field http_user_agent: %d (%v), want the default-format line", n, err)
	}

	// Through iceberg-go: the map as written.
	got := env.AccessExtras(t, name)
	want := []string{
		"192.0.2.7 host=shop.example.com;http_x_forwarded_for=-;upstream_response_time=0.010",
		"192.0.2.8 host=api.example.com;http_x_forwarded_for=198.51.100.4;upstream_response_time=3.001, 0.002",
	}
	if !slices.Equal(got, want) {
		t.Errorf("extra through iceberg-go:\n got %q\nwant %q", got, want)
	}

	// Through Trino, as a gold view or a user would read it.
	db, err := trino.Open(cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := fmt.Sprintf(`SELECT concat_ws(' ', client_ip, CAST(CAST(request_time_ms AS bigint) AS varchar), coalesce(cache_status, 'null'), extra['host'], extra['upstream_response_time'], CAST(cardinality(extra) AS varchar))
FROM %s ORDER BY client_ip`, trino.Qualified(strings.Split(name, ".")...))
	rows, err := trino.Strings(ctx, db, q)
	if err != nil {
		t.Fatal(err)
	}
	wantRows := []string{"192.0.2.7 12 MISS shop.example.com 0.010 3", "192.0.2.8 3004 null api.example.com 3.001, 0.002 3"}
	if !slices.Equal(rows, wantRows) {
		t.Errorf("through Trino:\n got %q\nwant %q", rows, wantRows)
	}
}
