package gold

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"weir/lakehouse"
	goldsql "weir/sql/gold"
)

// TestUnionViewsAreGenerated: every sql/gold/*_all.sql is the union view
// lakehouse declares for a silver table (lakehouse.HotArchiveSQL, the query
// the archive job's invariant is stated with), up to layout and comments.
// go test ./jobs/gold -run UnionViews -update rewrites them, keeping their
// leading comment.
func TestUnionViewsAreGenerated(t *testing.T) {
	declared := map[string]bool{}
	for _, v := range lakehouse.UnionViews() {
		_, name, _ := strings.Cut(v.Name, ".")
		declared[name+".sql"] = true
		want := lakehouse.HotArchiveSQL(v.Table, v.Table, lakehouse.ArchiveTable(v.Table))
		got, err := fs.ReadFile(goldsql.FS, name+".sql")
		if err != nil {
			t.Errorf("union view %s of %s: %v", v.Name, v.Table, err)
			continue
		}
		if *update {
			rewriteGenerated(t, name+".sql", got, want)
			continue
		}
		if Normalize(string(got)) != Normalize(want) {
			t.Errorf("sql/gold/%s.sql is not the union view lakehouse declares for %s (go test ./jobs/gold -run UnionViews -update):\n%s\nwant:\n%s", name, v.Table, got, want)
		}
	}
	all, err := fs.Glob(goldsql.FS, "*_all.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		if !declared[f] {
			t.Errorf("sql/gold/%s: no silver table in lakehouse declares this union view", f)
		}
	}
}

// rewriteGenerated replaces the query of the generated sql/gold file (its
// current text old) with want, keeping its leading comment.
func rewriteGenerated(t *testing.T, file string, old []byte, want string) {
	t.Helper()
	var head []string
	for _, line := range strings.SplitAfter(string(old), "\n") {
		if !strings.HasPrefix(line, "--") {
			break
		}
		head = append(head, line)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "sql", "gold", file), []byte(strings.Join(head, "")+want+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
