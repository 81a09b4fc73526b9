package faultreport

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecordReadTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faults.jsonl")
	t.Setenv("WEIR_FAULT_REPORT", path)
	for _, e := range []Entry{
		{Test: "TestB", Fault: "b", Injected: "kill", Times: 1, Expected: 10, Stored: 9, Missing: 1},
		{Test: "TestA", Fault: "a", Injected: "kill", Times: 2, Expected: 10, Stored: 10},
		{Test: "TestA", Fault: "a", Injected: "kill", Times: 4, Expected: 20, Stored: 20}, // newer wins
	} {
		if err := Record(e); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Test != "TestA" || entries[0].Times != 4 {
		t.Fatalf("entries %+v", entries)
	}
	table := Table(entries)
	if !strings.Contains(table, "| a | kill | 4 | 20 | 20 | 0 | 0 | TestA, ") || !strings.Contains(table, "| b | kill | 1 | 10 | 9 | 0 | 1 |") {
		t.Errorf("table:\n%s", table)
	}
}
