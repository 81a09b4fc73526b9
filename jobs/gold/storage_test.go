package gold

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	goldsql "weir/sql/gold"
)

// TestStorageViewIsGenerated: sql/gold/pipeline_storage.sql names every
// table lakehouse declares and every rollup (StorageSQL), up to layout and
// comments, so a new table shows in the storage panel. go test ./jobs/gold
// -run StorageView -update rewrites it, keeping its leading comment.
func TestStorageViewIsGenerated(t *testing.T) {
	files, err := fs.Glob(goldsql.FS, "rollups/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var rollups []string
	for _, f := range files {
		rollups = append(rollups, strings.TrimSuffix(filepath.Base(f), ".sql"))
	}
	want := StorageSQL(rollups)
	file := StorageView + ".sql"
	got, err := fs.ReadFile(goldsql.FS, file)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		rewriteGenerated(t, file, got, want)
		return
	}
	if Normalize(string(got)) != Normalize(want) {
		t.Errorf("sql/gold/%s is not StorageSQL over lakehouse.Tables and the rollups (go test ./jobs/gold -run StorageView -update):\n%s\nwant:\n%s", file, got, want)
	}
}
