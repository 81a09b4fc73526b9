package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"weir/jobs/generate"
	"weir/trino"
)

// RejectsTitle is the title of the report section of silver's rejects.
const RejectsTitle = "Pipeline · records silver rejected, by topic and error class (future: stamped after ingestion + max_future)"

// report prints the answers of the gold views, and next to silver's
// rejects what the generator expected of them.
func (d *Demo) report(ctx context.Context, job, truthPath string, sum *generate.Summary) error {
	sections := []struct {
		title, sql string
	}{
		{"Web traffic · top 10 client IPs", "SELECT client_ip, requests FROM gold.web_top_client_ips ORDER BY requests DESC, client_ip"},
		{"Web traffic · 6 most requested endpoints (not files)", "SELECT endpoint, requests FROM gold.web_top_endpoints ORDER BY requests DESC, endpoint"},
		{"Web traffic · distinct client IPs and days of data", "SELECT (SELECT distinct_client_ips FROM gold.web_distinct_client_ips) AS distinct_client_ips, days, first_day, last_day FROM gold.web_days_of_data"},
		{"Web traffic · response bytes by status class", "SELECT status_class, requests, bytes_logged, bytes_total, bytes_max, bytes_min, round(bytes_avg, 1) AS bytes_avg FROM gold.web_bytes_by_status_class ORDER BY status_class"},
		{"Web traffic · weekday with the most 4xx errors", "SELECT weekday, errors_4xx FROM gold.web_4xx_by_weekday WHERE rank = 1"},
		{"Web traffic · CDN bandwidth by client (null: not in the log format)", `SELECT client, sum(requests) AS requests, round(100.0 * sum(cache_hits) / sum(requests), 1) AS cache_hit_pct,
  sum(bytes_user_edge) AS user_edge, sum(bytes_edge_origin) AS edge_origin, sum(bytes_origin_edge) AS origin_edge, sum(bytes_edge_user) AS edge_user
FROM gold.cdn_bandwidth GROUP BY client ORDER BY requests DESC, client LIMIT 5`},
		{"Business · per day", `SELECT CAST(t.bucket AS date) AS day, t.transactions, t.failed_buys, t.page_views, round(t.revenue, 2) AS revenue,
  u.viewing_users, u.buying_users, round(100.0 * u.buying_users / nullif(u.viewing_users, 0), 1) AS conversion_pct
FROM gold.transactions_page_views t JOIN gold.simultaneous_users u ON u.grain = '1d' AND u.bucket = t.bucket
WHERE t.grain = '1d' ORDER BY 1 DESC LIMIT 5`},
		{"Business · revenue by payment provider", "SELECT provider, sum(transactions) AS transactions, round(sum(revenue), 2) AS revenue FROM gold.revenue_by_provider GROUP BY provider ORDER BY 3 DESC"},
		{"Business · payments by attempts and outcome", "SELECT attempts, outcome, payments FROM gold.retry_outcomes ORDER BY attempts, outcome"},
		{"Orders · closed orders per user and category (order marts, top 8)", "SELECT user_id, category, orders, round(amount, 2) AS amount, first_order_at, last_order_at FROM gold.orders_by_user_category ORDER BY orders DESC, amount DESC, user_id, category LIMIT 8"},
		{"Performance · slowest operations (p95)", "SELECT service, operation, operations, round(avg_ms, 1) AS avg_ms, round(p50_ms, 1) AS p50_ms, round(p95_ms, 1) AS p95_ms, round(p99_ms, 1) AS p99_ms, max_ms FROM gold.operation_duration ORDER BY p95_ms DESC LIMIT 8"},
		{"Anomalies · bursts of one operation by one user (top 8)", "SELECT user_id, operation, count(*) AS burst_windows, max(operations) AS max_per_window, min(window_start) AS first_seen FROM gold.anomaly_operation_bursts GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 8"},
		{"Anomalies · buy followed by refund within 10 minutes (top 8)", "SELECT user_id, item, bought_at, seconds_between FROM gold.anomaly_buy_then_refund ORDER BY refunded_at DESC LIMIT 8"},
		{"Alerts raised by this demo's alert job", "SELECT rule, severity, count(*) AS alerts, min(starts_at) AS first, max(starts_at) AS last FROM gold.alerts_raised WHERE job = " + trino.String(job) + " GROUP BY rule, severity ORDER BY alerts DESC"},
		{"Hot and archive tiers", "SELECT table_name, tier, rows, first_day, last_day FROM gold.data_span WHERE rows > 0 ORDER BY table_name, tier"},
		{"Storage per tier (live data files)", "SELECT tier, count(*) AS tables, sum(files) AS files, round(sum(bytes) / 1048576.0, 1) AS mib, sum(rows) AS rows FROM gold.pipeline_storage GROUP BY tier ORDER BY min(table_name)"},
		{RejectsTitle, "SELECT topic, error_class, sum(records) AS records FROM gold.pipeline_rejects GROUP BY topic, error_class ORDER BY topic, error_class"},
	}
	var answers []Answer
	for _, s := range sections {
		d.printf("── %s\n", s.title)
		a, err := d.printQuery(ctx, s.sql, 12)
		if err != nil {
			d.printf("   (query failed: %v)\n", err)
		}
		a.Title = s.title
		answers = append(answers, a)
		if s.title == RejectsTitle {
			d.printf("   the generator expected %d rejects, %d of them future (its summary.json)\n", sum.Rejected, sum.Future)
		}
		d.printf("\n")
	}
	if err := writeJSON(filepath.Join(d.opts.WorkDir, AnswersFile), answers); err != nil {
		return err
	}
	if kinds, err := truthKinds(truthPath); err == nil {
		d.printf("── Anomalies injected by the generator (ground truth, %s)\n", truthPath)
		for _, k := range sortedKeys(kinds) {
			d.printf("   %-22s %d\n", k, kinds[k])
		}
		d.printf("\n")
	}
	d.printf(`── Where to look next
   Trino       %s  (catalog iceberg, schema gold; e.g. with the Trino CLI,
               the password being WEIR_TRINO_URL's:
               trino %s --catalog iceberg --schema gold \
                 --execute "SELECT * FROM web_top_client_ips")
   Trace one operation:  SELECT * FROM gold.request_trace WHERE action_id = '<id>' ORDER BY event_ts
   All gold objects:     weir gold list
   Dashboards            %s/dashboards/  (the provisioned Grafana dashboards, services/grafana/dashboards,
                         drawn by the scheduler's web UI; make deploy_services provisions them in Grafana too)
   Logs of this run      %s
`, redactURL(d.opts.TrinoURL), trinoCLIFlags(d.opts.TrinoURL), d.schedulerURL(), d.opts.WorkDir)
	d.printSchedulerHints()
	return nil
}

// printSchedulerHints says where the demo's DAG runs can be seen.
func (d *Demo) printSchedulerHints() {
	if d.opts.KeepScheduler && d.sched != nil && !d.sched.exited() {
		pid := d.sched.cmd.Process.Pid
		d.printf("   Scheduler UI          %s  (kept running with its cron schedules off, pid %d, log %s;\n", d.schedulerURL(), pid, d.sched.log)
		d.printf("                         stop it with: kill %d; bin/weir scheduler runs the DAGs on their schedules)\n", pid)
	} else {
		d.printf("   Scheduler UI          %s  (start it with: bin/weir scheduler)\n", d.schedulerURL())
	}
	if d.opts.madeUpPasswords {
		d.printf("                         sign in as operator, password %s (made up for this demo: no scheduler.operator_password configured)\n", d.opts.SchedulerOperatorPassword)
	} else {
		d.printf("                         sign in as operator or viewer: passwords WEIR_SCHEDULER_OPERATOR_PASSWORD and _VIEWER_PASSWORD (the stack's env.sh)\n")
	}
	for _, r := range d.runs {
		d.printf("     %-20s %s  %s  (weir dags runs %s; weir dags logs %s %s %s)\n", r.DAGID, r.Run.RunID, r.Run.State,
			r.DAGID, r.DAGID, r.Run.RunID, r.Tasks[len(r.Tasks)-1].ID)
	}
	d.printf("     pipeline health: SELECT * FROM gold.pipeline_dag_runs WHERE latest\n")
}

// AnswersFile is the file in Options.WorkDir where the demo writes the
// answers it printed, for programs and tests to check.
const AnswersFile = "answers.json"

// Answer is one printed section: its columns and every row, each cell as
// printed.
type Answer struct {
	Title   string     `json:"title"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return os.WriteFile(path, raw, 0o644)
}

// printQuery prints up to limit rows of query as an aligned table and
// returns all of them.
func (d *Demo) printQuery(ctx context.Context, query string, limit int) (Answer, error) {
	var a Answer
	rows, err := d.db.QueryContext(ctx, query)
	if err != nil {
		return a, err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return a, err
	}
	a.Columns = cols
	w := tabwriter.NewWriter(d.opts.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "   "+strings.Join(cols, "\t"))
	n := 0
	err = trino.Values(rows, func(vals []any) error {
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = cell(v)
		}
		a.Rows = append(a.Rows, cells)
		n++
		if n <= limit {
			fmt.Fprintln(w, "   "+strings.Join(cells, "\t"))
		}
		return nil
	})
	if err != nil {
		return a, err
	}
	if n == 0 {
		fmt.Fprintln(w, "   (no rows)")
	} else if n > limit {
		fmt.Fprintf(w, "   … %d more rows\n", n-limit)
	}
	return a, w.Flush()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.UTC().Format(time.DateOnly)
		}
		return x.UTC().Format("2006-01-02 15:04:05")
	case float64:
		return fmt.Sprintf("%.6g", x)
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// truthKinds counts the ground-truth anomalies per kind.
func truthKinds(path string) (map[string]int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var a struct {
			Kind string `json:"kind"`
		}
		if json.Unmarshal(sc.Bytes(), &a) == nil && a.Kind != "" {
			out[a.Kind]++
		}
	}
	return out, sc.Err()
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
