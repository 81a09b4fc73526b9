//go:build integration

package archive_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"weir/events"
	"weir/jobs/archive"
	"weir/jobs/silver"
	"weir/jobs/silver/silvertest"
	"weir/lakehouse"
)

// TestArchiveKeepsAccessExtra: access lines of a declared format keep the
// variables of their extra map (a map column) when their day moves from
// silver.access_logs to archive.access_logs.
func TestArchiveKeepsAccessExtra(t *testing.T) {
	env := silvertest.New(t)
	ctx := context.Background()
	now := time.Now().UTC()
	main, err := events.CompileNginx(`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host $request_time $upstream_response_time`)
	if err != nil {
		t.Fatal(err)
	}
	line := func(at time.Time, ip, host, upstream string) silvertest.Record {
		l := ip + ` - - [` + at.Format("02/Jan/2006:15:04:05 -0700") + `] "GET /a HTTP/1.1" 200 12 "-" "curl/8.5" ` + host + ` 0.012 ` + upstream
		return silvertest.Record{Topic: events.TopicWebAccess, Value: []byte(l)}
	}
	env.LoadBronze(t, []silvertest.Record{
		line(now.AddDate(0, 0, -40), "192.0.2.1", "old.example.com", "0.010, 0.002"),
		line(now.Add(-time.Hour), "192.0.2.2", "new.example.com", "-"),
	}, now)
	cfg := silver.Config{Namespaces: env.NS, AccessFormats: events.AccessFormats{events.TopicWebAccess: main}}
	if _, err := silver.New(env.Lake, cfg).Run(ctx, silver.SourceWebAccess); err != nil {
		t.Fatal(err)
	}
	reps, err := archive.New(env.Lake, archive.Config{Namespaces: env.NS, Tables: []string{lakehouse.SilverAccessLogs}, HotDays: 30, Now: func() time.Time { return now }}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 1 || reps[0].Rows != 1 {
		t.Fatalf("archive reports %+v, want the 40-day-old line moved", reps)
	}
	for name, want := range map[string][]string{
		env.NS.Table(lakehouse.SilverAccessLogs):                         {"192.0.2.2 host=new.example.com;upstream_response_time=-"},
		env.NS.Table(lakehouse.ArchiveTable(lakehouse.SilverAccessLogs)): {"192.0.2.1 host=old.example.com;upstream_response_time=0.010, 0.002"},
	} {
		if got := env.AccessExtras(t, name); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
