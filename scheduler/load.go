package scheduler

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FileError is a DAG file that did not load; the other files still do.
type FileError struct {
	File string
	Err  error
}

func (e FileError) Error() string { return e.File + ": " + e.Err.Error() }

func (e FileError) Unwrap() error { return e.Err }

// LoadDir parses every *.yaml and *.yml file of dir (not recursively). A file
// that fails is reported in the second result and left out; it never stops the
// others. A DAG id used by two files keeps the first file (by name) and
// reports the second.
func LoadDir(dir string, jobs []Job) ([]*DAG, []FileError, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read dag dir: %w", err)
	}
	var names []string
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.Type().IsRegular() && (ext == ".yaml" || ext == ".yml") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var (
		dags []*DAG
		bad  []FileError
		ids  = map[string]string{}
	)
	for _, name := range names {
		path := filepath.Join(dir, name)
		d, err := LoadFile(path, jobs)
		if err != nil {
			bad = append(bad, FileError{File: path, Err: err})
			continue
		}
		if first, dup := ids[d.ID]; dup {
			bad = append(bad, FileError{File: path, Err: fmt.Errorf("id: %q is already defined in %s", d.ID, first)})
			continue
		}
		ids[d.ID] = path
		dags = append(dags, d)
	}
	return dags, bad, nil
}

// LoadFile reads and validates one DAG file.
func LoadFile(path string, jobs []Job) (*DAG, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read dag file: %w", err)
	}
	return Parse(path, raw, jobs)
}
