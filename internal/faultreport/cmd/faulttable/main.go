// Command faulttable renders a fault report (faultreport JSON lines) as a
// Markdown table and, with -readme, puts it into the README between the
// markers "<!-- faults:begin -->" and "<!-- faults:end -->".
package main

import (
	"flag"
	"fmt"
	"os"

	"weir/internal/benchreport"
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
	return benchreport.WriteSection(readme, "faults", table)
}
