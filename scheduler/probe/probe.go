// Package probe implements the scheduler's own test jobs, `weir task sleep`
// and `weir task fail`: they print the run coordinates the scheduler passed
// (WEIR_* variables), can sleep, fail until a given try, exit with a chosen
// status, and append start/end records to a file so tests can prove that a
// task ran exactly once and never twice at the same time.
package probe

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Record is one line of a --record file.
type Record struct {
	Event string    `json:"event"` // start, end
	DAG   string    `json:"dag"`
	Task  string    `json:"task"`
	RunID string    `json:"run_id"`
	Try   int       `json:"try"`
	PID   int       `json:"pid"`
	At    time.Time `json:"at"`
	// Interval as received, for tests of the data interval.
	IntervalStart string `json:"interval_start,omitempty"`
	IntervalEnd   string `json:"interval_end,omitempty"`
	Params        string `json:"params,omitempty"`
}

// Main runs `sleep` or `fail` with their flags and returns the exit status.
func Main(ctx context.Context, args []string, out io.Writer) int {
	if len(args) == 0 || (args[0] != "sleep" && args[0] != "fail") {
		fmt.Fprintln(out, "usage: weir task sleep|fail [flags]")
		return 2
	}
	fs := flag.NewFlagSet("task "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	dur := fs.Duration("duration", 0, "sleep this long (sleep: default 1s)")
	msg := fs.String("message", "", "print this line")
	record := fs.String("record", "", "append start/end records (JSON lines) to this file")
	exitCode := fs.Int("exit-code", 1, "fail: exit status (99 = skipped)")
	untilTry := fs.Int("until-try", 0, "fail: only while WEIR_TRY_NUMBER is below this, then succeed")
	_ = fs.String("since", "", "ignored; lets DAGs pass an interval flag")
	_ = fs.String("source", "", "ignored; lets DAGs pass a source flag")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if args[0] == "sleep" && *dur == 0 {
		*dur = time.Second
	}
	try, _ := strconv.Atoi(os.Getenv("WEIR_TRY_NUMBER"))
	rec := func(event string) {
		if *record == "" {
			return
		}
		r := Record{Event: event, DAG: os.Getenv("WEIR_DAG_ID"), Task: os.Getenv("WEIR_TASK_ID"), RunID: os.Getenv("WEIR_RUN_ID"),
			Try: try, PID: os.Getpid(), At: time.Now().UTC(), IntervalStart: os.Getenv("WEIR_DATA_INTERVAL_START"),
			IntervalEnd: os.Getenv("WEIR_DATA_INTERVAL_END"), Params: os.Getenv("WEIR_PARAMS")}
		line, _ := json.Marshal(r)
		f, err := os.OpenFile(*record, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			fmt.Fprintln(out, "record:", err)
			return
		}
		// One write of a short line with O_APPEND: records of concurrent
		// jobs do not interleave.
		_, _ = f.Write(append(line, '\n'))
		_ = f.Close()
	}
	fmt.Fprintf(out, "task %s: dag=%s task=%s run=%s try=%d interval=[%s, %s) logical=%s params=%s\n", args[0],
		os.Getenv("WEIR_DAG_ID"), os.Getenv("WEIR_TASK_ID"), os.Getenv("WEIR_RUN_ID"), try,
		os.Getenv("WEIR_DATA_INTERVAL_START"), os.Getenv("WEIR_DATA_INTERVAL_END"), os.Getenv("WEIR_LOGICAL_DATE"),
		os.Getenv("WEIR_PARAMS"))
	if *msg != "" {
		fmt.Fprintln(out, *msg)
	}
	rec("start")
	if *dur > 0 {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "interrupted")
			return 130
		case <-time.After(*dur):
		}
	}
	if args[0] == "fail" && (*untilTry == 0 || try < *untilTry) {
		fmt.Fprintf(out, "failing on purpose with exit status %d\n", *exitCode)
		return *exitCode
	}
	rec("end")
	fmt.Fprintln(out, "done")
	return 0
}
