package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"weir/proc"
	"weir/trino"
)

// runJob runs `bin argv...` with env, copying its output to out, until it
// exits or ctx ends. On ctx's end the process group gets SIGTERM, then
// SIGKILL after grace (0: at once). It returns the exit code (-1 when the
// process could not start or was killed by a signal).
func runJob(ctx context.Context, bin string, argv, env []string, out io.Writer, grace time.Duration) (int, error) {
	cmd := exec.Command(bin, argv...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = proc.Tied()
	cmd.WaitDelay = time.Second // do not hang on pipes held by grandchildren

	// The parent-death signal fires when the forking *thread* exits; keep
	// this goroutine on its thread until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("start job: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// A try whose lease is lost must be gone before the lease expires.
		if errors.Is(context.Cause(ctx), errLeaseLost) {
			grace = 0
		}
		exited := false
		if grace > 0 {
			_ = proc.Signal(cmd.Process.Pid, syscall.SIGTERM)
			select {
			case err = <-done: // a clean exit leaves err nil: exited says it
				exited = true
			case <-time.After(grace):
			}
		}
		if !exited {
			_ = proc.Signal(cmd.Process.Pid, syscall.SIGKILL)
			err = <-done
		}
	}
	code := cmd.ProcessState.ExitCode()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return code, fmt.Errorf("wait for job: %w", err)
	}
	return code, nil
}

// runSQL runs the statements of script on Trino one by one (Trino takes one
// statement per query), logging each and the rows it returns (the first few
// in full).
func runSQL(ctx context.Context, db *sql.DB, script string, out io.Writer) error {
	if db == nil {
		return errors.New("run sql: no Trino connection configured")
	}
	stmts := trino.SplitStatements(script)
	if len(stmts) == 0 {
		return errors.New("run sql: no statement in script")
	}
	for i, stmt := range stmts {
		fmt.Fprintf(out, "-- statement %d of %d\n%s\n", i+1, len(stmts), stmt)
		start := time.Now()
		rows, err := db.QueryContext(ctx, stmt)
		if err != nil {
			return fmt.Errorf("run statement %d: %w", i+1, err)
		}
		n, err := printRows(rows, out, 20)
		if err != nil {
			return fmt.Errorf("read result of statement %d: %w", i+1, err)
		}
		fmt.Fprintf(out, "-- %d rows in %s\n", n, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func printRows(rows *sql.Rows, out io.Writer, show int) (int, error) {
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return 0, err
	}
	if len(cols) > 0 {
		fmt.Fprintln(out, strings.Join(cols, "\t"))
	}
	n := 0
	err = trino.Values(rows, func(vals []any) error {
		if n < show {
			cells := make([]string, len(vals))
			for i, v := range vals {
				cells[i] = fmt.Sprint(v)
			}
			fmt.Fprintln(out, strings.Join(cells, "\t"))
		}
		n++
		return nil
	})
	return n, err
}
