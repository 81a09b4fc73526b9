// Command benchtable renders the Performance table from bench/results/*.json
// (package benchreport) and, with -readme, puts it into the README between
// the markers "<!-- perf:begin -->" and "<!-- perf:end -->".
package main

import (
	"flag"
	"fmt"
	"os"

	"weir/internal/benchreport"
)

func main() {
	dir := flag.String("dir", "bench/results", "directory of the results files")
	readme := flag.String("readme", "", "file whose marked section gets the table (stdout when empty)")
	flag.Parse()
	if err := run(*dir, *readme); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(dir, readme string) error {
	table, err := benchreport.Table(dir, benchreport.Figures)
	if err != nil {
		return err
	}
	if readme == "" {
		_, err := fmt.Print(table)
		return err
	}
	return benchreport.WriteSection(readme, "perf", table)
}
