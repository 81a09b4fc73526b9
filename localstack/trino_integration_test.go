//go:build integration

package localstack_test

import (
	"context"
	"testing"

	"weir/config"
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
