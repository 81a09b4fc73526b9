//go:build integration

package localstack_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"weir/config"
	"weir/internal/stacktest"
	"weir/jobs/gold/dashboard"
	"weir/services/grafana"
	"weir/trino"
)

// Trino's "scheduler" catalog reads the scheduler's run history for the
// pipeline-health dashboard, and cannot change it.
func TestTrinoSchedulerCatalogReadOnly(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	db, err := trino.Open(config.Trino{URL: cfg.Trino.URL, Catalog: "scheduler"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM scheduler.information_schema.schemata WHERE schema_name = 'public'").Scan(&n); err != nil {
		t.Fatalf("query scheduler catalog: %v", err)
	}
	if n != 1 {
		t.Fatalf("scheduler catalog lists %d public schemas", n)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE scheduler.public.it_should_not_exist (a integer)"); err == nil {
		db.ExecContext(ctx, "DROP TABLE scheduler.public.it_should_not_exist")
		t.Fatal("trino could create a table in the scheduler database; want read-only")
	}
}

// The coordinator serves clients over HTTPS with a password only: plain
// HTTP, no password and a wrong password are refused; the dashboards' user
// reads the gold views and nothing else; the metrics user runs no query.
func TestTrinoAuthentication(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := stacktest.Stack(t)
	u, err := url.Parse(cfg.Trino.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" {
		t.Fatalf("WEIR_TRINO_URL is %s, want https", u.Scheme)
	}
	query := func(user *url.Userinfo, scheme, host string) error {
		v := *u
		v.User, v.Scheme, v.Host = user, scheme, host
		db, err := trino.Open(config.Trino{URL: v.String(), Catalog: "iceberg"})
		if err != nil {
			return err
		}
		defer db.Close()
		var one int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	}
	password, _ := u.User.Password()
	if err := query(url.UserPassword("weir", password), "https", u.Host); err != nil {
		t.Fatalf("weir with its password: %v", err)
	}
	// The coordinator's plain HTTP port (the workers', and /v1/info).
	plain := strings.TrimPrefix(s.TrinoHTTPEndpoint(), "http://")
	for name, c := range map[string]struct {
		user          *url.Userinfo
		scheme, host  string
		wantInMessage string
	}{
		"plain HTTP":       {url.User("weir"), "http", plain, "403"},
		"no password":      {url.User("weir"), "https", u.Host, "401"},
		"a wrong password": {url.UserPassword("weir", password+"x"), "https", u.Host, "401"},
	} {
		err := query(c.user, c.scheme, c.host)
		if err == nil {
			t.Errorf("%s: the query ran; want it refused", name)
		} else if !strings.Contains(err.Error(), c.wantInMessage) {
			t.Errorf("%s: %v; want %s", name, err, c.wantInMessage)
		}
	}

	dash, err := trino.Open(cfg.Trino.Dashboard())
	if err != nil {
		t.Fatal(err)
	}
	defer dash.Close()
	if d, _ := url.Parse(cfg.Trino.Dashboard().URL); d.User.Username() != "grafana" {
		t.Fatalf("the Dashboards page reads as %q, want the read-only user grafana", d.User.Username())
	}
	// Every panel of the provisioned dashboards runs as grafana: the gold
	// views read silver, bronze and the scheduler's history with their
	// owner's rights (which must include granting them).
	ds, err := dashboard.LoadFS(grafana.Dashboards())
	if err != nil {
		t.Fatal(err)
	}
	to := time.Now()
	from := to.Add(-7 * 24 * time.Hour)
	for _, d := range ds {
		if err := d.ResolveOptions(ctx, dash, from, to); err != nil {
			t.Errorf("grafana: %s: %v", d.UID, err)
			continue
		}
		for _, q := range d.Queries() {
			stmt, err := d.Render(q, d.Defaults(), from, to, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if err := trino.Exec(ctx, dash, stmt); err != nil {
				t.Errorf("grafana: panel %s: %v", q.Name(), err)
			}
		}
	}
	var n int
	for _, stmt := range []string{
		"SELECT count(*) FROM iceberg.silver.events",
		"SELECT count(*) FROM iceberg.bronze.app_events",
		"CREATE TABLE iceberg.gold.grafana_should_not_write (a integer)",
		"SELECT count(*) FROM scheduler.public.dag_runs",
	} {
		if err := dash.QueryRowContext(ctx, stmt).Scan(&n); err == nil || !strings.Contains(err.Error(), "Access Denied") {
			t.Errorf("grafana: %s: %v; want Access Denied", stmt, err)
		}
	}
}
