package gold

import (
	"io/fs"
	"os"

	goldsql "weir/sql/gold"
)

// Definitions loads the SQL from dir, or the copy embedded in the binary
// when dir is empty.
func Definitions(dir string) ([]*Definition, error) {
	var fsys fs.FS = goldsql.FS
	if dir != "" {
		fsys = os.DirFS(dir)
	}
	return Load(fsys)
}
