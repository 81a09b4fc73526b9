// Command faulttable renders a fault report (faultreport JSON lines) as a
// Markdown table and, with -readme, puts it into the README between the
// markers "<!-- faults:begin -->" and "<!-- faults:end -->".
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"weir/internal/faultreport"
)

func main() {
	in := flag.String("in", "bench/results/faults.jsonl", "fault report")
	readme := flag.String("readme", "", "file whose marked section gets the table (stdout when empty)")
	flag.Parse()
	if err := run(*in, *readme); err != nil {
		fmt.Fprintln(os.Stderr, "faulttable:", err)
		os.Exit(1)
	}
}

func run(in, readme string) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	entries, err := faultreport.Read(f)
	if err != nil {
		return err
	}
	table := faultreport.Table(entries)
	if readme == "" {
		_, err := fmt.Print(table)
		return err
	}
	doc, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	begin, end := []byte("<!-- faults:begin -->\n"), []byte("<!-- faults:end -->")
	i, j := bytes.Index(doc, begin), bytes.Index(doc, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q ... %q section", readme, begin, end)
	}
	out := append(append(append([]byte{}, doc[:i+len(begin)]...), table...), doc[j:]...)
	return os.WriteFile(readme, out, 0o644)
}
