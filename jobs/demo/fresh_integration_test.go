//go:build integration && fresh

package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"weir/internal/stacktest"
	"weir/jobs/generate"
	"weir/lakehouse"
	"weir/localstack"
)

// TestDemoOnFreshStack runs the README's first command from nothing: a
// brand-new stack directory (0700 under a 0700 parent, as a root user's
// clone in a private home: PostgreSQL, which runs as its own user, must
// manage without reaching it) on ports of its own, `weir stack up` (which
// runs weir init), `weir demo`, and the answers it printed checked against
// the generator's ground truth; then `weir stack down`, after which no
// process of the stack may be left. It ignores the shared test stack: every
// WEIR_* variable is replaced by the new stack's.
func TestDemoOnFreshStack(t *testing.T) {
	bin := stacktest.Weir(t)
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	// RemoveAll only on success: a failure leaves the logs for a look.
	parent, dir, err := localstack.PrivateStackDir("weir-fresh-")
	if err != nil {
		t.Fatal(err)
	}
	// 2000 or more above the shared stack's offset (the cluster profile
	// takes +1000).
	shared, _ := strconv.Atoi(os.Getenv("WEIR_STACK_PORT_OFFSET"))
	offset, err := localstack.FreePortOffset(localstack.Single, shared+2000, shared+6000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	base := []string{
		"WEIR_STACK_DIR=" + dir,
		"WEIR_STACK_PORT_OFFSET=" + strconv.Itoa(offset),
		"WEIR_CACHE_DIR=" + localstack.SharedCache(repo),
	}
	t.Logf("fresh stack in %s, port offset %d", dir, offset)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	if out, err := weir(ctx, bin, repo, base, "stack", "up"); err != nil {
		weir(context.Background(), bin, repo, base, "stack", "down")
		t.Fatalf("weir stack up on a fresh directory: %v\n%s", err, out)
	}
	upTook := time.Since(start)
	t.Cleanup(func() {
		if out, err := weir(context.Background(), bin, repo, base, "stack", "down"); err != nil {
			t.Errorf("weir stack down: %v\n%s", err, out)
		}
		if st, err := localstack.New(dir, "", localstack.Single, nil); err != nil {
			t.Error(err)
		} else if left := st.Processes(); len(left) > 0 {
			t.Errorf("processes of the stack left after down: %v", left)
		}
		if !t.Failed() {
			os.RemoveAll(parent)
		}
	})

	env := stackEnv(t, dir)
	work := filepath.Join(parent, "demo")
	start = time.Now()
	out, err := weir(ctx, bin, repo, env, "demo", "--history", "6h", "--rate", "2", "--anomaly-every", "1h", "--work-dir", work)
	if err != nil {
		t.Fatalf("weir demo on the fresh stack: %v\n%s", err, out)
	}
	demoTook := time.Since(start)
	if strings.Contains(out, "query failed") {
		t.Errorf("a section's query failed:\n%s", out)
	}
	if !strings.Contains(out, ArchiveTitle) {
		t.Errorf("the demo printed no archive move (%q)", ArchiveTitle)
	}
	checkAnswers(t, work, out)
	t.Logf("stack up %s, demo %s", upTook.Round(time.Second), demoTook.Round(time.Second))
}

// checkAnswers compares the web-log answers the demo printed (and wrote to
// answers.json) with the generator's expectations in its summary.
func checkAnswers(t *testing.T, work, printed string) {
	t.Helper()
	var sum generate.Summary
	readJSON(t, filepath.Join(work, "summary.json"), &sum)
	var answers []Answer
	readJSON(t, filepath.Join(work, AnswersFile), &answers)
	section := func(prefix string) Answer {
		for _, a := range answers {
			if strings.HasPrefix(a.Title, prefix) {
				return a
			}
		}
		t.Fatalf("the demo printed no section %q", prefix)
		return Answer{}
	}
	x := sum.Expected.Access
	if x.Rows == 0 {
		t.Fatal("the generator expects no access-log rows: nothing to check")
	}

	var want []string
	for _, ip := range x.TopClientIPs {
		want = append(want, fmt.Sprintf("%s %d", ip.IP, ip.Requests))
	}
	compareRows(t, "top 10 client IPs", section("Web traffic · top 10 client IPs"), want)

	spans := section("Web traffic · distinct client IPs and days of data")
	compareRows(t, "distinct client IPs and days", Answer{Rows: firstColumns(spans.Rows, 2)},
		[]string{fmt.Sprintf("%d %d", x.DistinctClientIPs, x.Days)})

	want = nil
	for _, cls := range []string{"1xx", "2xx", "3xx", "4xx", "5xx"} {
		if b := x.ByStatusClass[cls]; b != nil {
			want = append(want, fmt.Sprintf("%s %d %d %d %d %d", cls, b.Requests, b.Logged, b.Sum, b.Max, b.Min))
		}
	}
	compareRows(t, "response bytes by status class", Answer{Rows: firstColumns(section("Web traffic · response bytes by status class").Rows, 6)}, want)

	// silver.rejects holds the invalid and the future records, by class.
	var rejected, future int64
	for _, row := range section(RejectsTitle).Rows {
		n, err := strconv.ParseInt(row[2], 10, 64)
		if err != nil {
			t.Fatalf("rejects row %v: %v", row, err)
		}
		rejected += n
		if row[1] == lakehouse.RejectFuture {
			future += n
		}
	}
	if rejected != sum.Rejected || future != sum.Future {
		t.Errorf("silver rejected %d records, %d future; the generator expects %d, %d future", rejected, future, sum.Rejected, sum.Future)
	}

	// What was written to answers.json is what was printed.
	if want := fmt.Sprint(x.DistinctClientIPs); !strings.Contains(printed, want) {
		t.Errorf("the printed output lacks the distinct client IP count %s", want)
	}
}

func compareRows(t *testing.T, what string, a Answer, want []string) {
	t.Helper()
	var got []string
	for _, r := range a.Rows {
		got = append(got, strings.Join(r, " "))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: the demo answered\n  %s\nthe generator expects\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func firstColumns(rows [][]string, n int) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = r[:min(n, len(r))]
	}
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
}

// weir runs the binary in the repository with exactly env's WEIR_*
// variables (none inherited from the shared test stack) and returns its
// combined output.
func weir(ctx context.Context, bin, repo string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = repo
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WEIR_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// stackEnv reads the variables `weir stack up` wrote to dir/env.sh.
func stackEnv(t *testing.T, dir string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "env.sh"))
	if err != nil {
		t.Fatalf("the new stack wrote no env.sh: %v", err)
	}
	var env []string
	for _, line := range strings.Split(string(raw), "\n") {
		if kv, ok := strings.CutPrefix(strings.TrimSpace(line), "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			env = append(env, k+"="+strings.Trim(v, `'"`))
		}
	}
	return env
}
