package generate

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
)

// OpenFile opens a file to replay or read records from: "-" is stdin, a
// name ending in .gz is decompressed. The caller calls close.
func OpenFile(path string) (r io.Reader, close func(), err error) {
	if path == "-" {
		return os.Stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open replay file: %w", err)
	}
	if !strings.HasSuffix(path, ".gz") {
		return f, func() { f.Close() }, nil
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open gzip %s: %w", path, err)
	}
	return zr, func() { zr.Close(); f.Close() }, nil
}
