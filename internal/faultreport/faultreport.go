// Package faultreport collects what the fault tests showed: each fault,
// how it was injected, how often, and the row accounting after the
// pipeline recovered. A test appends one JSON line per fault to the file
// named by $WEIR_FAULT_REPORT when it is set (`make test-faults` sets it to
// bench/results/faults.jsonl); Table renders the file as the README's
// reliability table. Without the variable Record does nothing.
package faultreport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Entry is one fault and its outcome.
type Entry struct {
	Test     string `json:"test"`
	Fault    string `json:"fault"`
	Injected string `json:"injected"`
	Times    int    `json:"times"`
	// Accounting: Expected rows in (produced records, or bronze rows for
	// silver), Stored rows out (bronze + dead letters, or silver +
	// rejects), and the coordinates stored twice or never.
	Expected   int64     `json:"expected"`
	Stored     int64     `json:"stored"`
	Duplicates int64     `json:"duplicates"`
	Missing    int64     `json:"missing"`
	At         time.Time `json:"at"`
}

var mu sync.Mutex

// Record appends e to $WEIR_FAULT_REPORT, if set.
func Record(e Entry) error {
	path := os.Getenv("WEIR_FAULT_REPORT")
	if path == "" {
		return nil
	}
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("fault report: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("fault report: %w", err)
	}
	return f.Close()
}

// Read returns the entries of a report, the newest per (test, fault).
func Read(r io.Reader) ([]Entry, error) {
	latest := map[[2]string]Entry{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("fault report line %d: %w", n, err)
		}
		latest[[2]string{e.Test, e.Fault}] = e
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(latest))
	for _, e := range latest {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Test != out[j].Test {
			return out[i].Test < out[j].Test
		}
		return out[i].Fault < out[j].Fault
	})
	return out, nil
}

// Table renders entries as a Markdown table.
func Table(entries []Entry) string {
	var b strings.Builder
	b.WriteString("| fault | injected | times | expected | stored | duplicates | missing | test, date |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---|\n")
	for _, e := range entries {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %s, %s |\n", e.Fault, e.Injected, e.Times,
			e.Expected, e.Stored, e.Duplicates, e.Missing, e.Test, e.At.Format("2006-01-02"))
	}
	return b.String()
}
