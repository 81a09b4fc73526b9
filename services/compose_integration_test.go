//go:build compose

package services

// The compose stack under a real Docker engine (make test-compose): the
// images make build_images built, every service up and healthy, a known
// batch of records through the deployed stream, scheduler and Trino with
// exact counts, the stream container killed mid-load, an injected anomaly
// in the deployed Alertmanager, maintenance as its own MinIO identity, and
// nothing left after the stack is taken down. No mocks: the containers are
// the services.
//
// WEIR_COMPOSE_NETWORK=host loads compose.host.yaml (engines without bridge
// networking); its host ports are shifted by WEIR_COMPOSE_PORT_SHIFT
// (default 1000: 12000–12999), so a deployment of make deploy_services on
// the default ports can run beside the test.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trinodb/trino-go-client/trino"

	"weir/internal/stacktest"
	"weir/jobs/generate"
)

// TestMain removes the weir binary the test built.
func TestMain(m *testing.M) { stacktest.Main(m) }

type composeRun struct {
	project string
	args    []string // global compose arguments: project, files, env files
	env     map[string]string
	host    bool
	ports   map[string]int // WEIR_PORT_* in use (host networking)
}

func (c *composeRun) cmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "docker", append(append([]string{"compose"}, c.args...), args...)...)
	cmd.Env = append(os.Environ(), "COMPOSE_PROFILES=prometheus")
	return cmd
}

// run runs a compose command and fails the test with its output.
func (c *composeRun) run(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := c.cmd(ctx, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("docker compose %s: no result in %s (stopped)\n%s", strings.Join(args, " "), timeout, tail(out, 60))
	}
	if err != nil {
		t.Fatalf("docker compose %s: %v\n%s", strings.Join(args, " "), err, tail(out, 60))
	}
	return string(out)
}

func tail(b []byte, lines int) string {
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

var portSetting = regexp.MustCompile(`\$\{(WEIR_PORT_[A-Z0-9_]+):-(\d+)\}`)

func newComposeRun(t *testing.T) *composeRun {
	t.Helper()
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Fatalf("no Docker engine (make docker_engine starts one): %v\n%s", err, out)
	}
	checkDiskHeadroom(t)
	images := os.Getenv("WEIR_COMPOSE_IMAGES")
	if images == "" {
		images = "local"
	}
	// One fixed project name: a run killed before its cleanup (a test
	// timeout) leaves containers and volumes that the next run removes.
	c := &composeRun{project: "weir-compose-test", host: os.Getenv("WEIR_COMPOSE_NETWORK") == "host", ports: map[string]int{}}
	if out, err := exec.Command("docker", "compose", "-p", c.project, "down", "--volumes", "--remove-orphans", "--timeout", "5").CombinedOutput(); err != nil {
		t.Fatalf("remove what an earlier run left: %v\n%s", err, out)
	}
	envFile := filepath.Join(t.TempDir(), ".env")
	if _, err := EnsureEnvFile(envFile); err != nil {
		t.Fatal(err)
	}
	env, err := ReadEnvFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	// Counts must be exact: no background traffic.
	env["TRAFFIC_REPLICAS"] = "0"
	files := []string{"-f", "compose.yaml"}
	if c.host {
		files = append(files, "-f", hostOverride)
		shift := 1000
		if s := os.Getenv("WEIR_COMPOSE_PORT_SHIFT"); s != "" {
			if shift, err = strconv.Atoi(s); err != nil {
				t.Fatalf("WEIR_COMPOSE_PORT_SHIFT: %v", err)
			}
		}
		raw, err := os.ReadFile(hostOverride)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range portSetting.FindAllStringSubmatch(string(raw), -1) {
			base, _ := strconv.Atoi(m[2])
			c.ports[m[1]] = base + shift
			env[m[1]] = strconv.Itoa(base + shift)
		}
		for name, port := range c.ports {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Fatalf("%s: port %d is not free: %v", name, port, err)
			}
			l.Close()
		}
	}
	if err := WriteEnvFile(envFile, env); err != nil {
		t.Fatal(err)
	}
	if c.host {
		// Prometheus scrapes the shifted ports: `make services_env`
		// renders its configuration for them, as for any deployment on
		// other ports.
		prom, err := EnsureHostPrometheusConfig(envFile, func(string) string { return "" })
		if err != nil || prom == "" {
			t.Fatalf("host Prometheus configuration for the shifted ports: %q, %v", prom, err)
		}
		if env, err = ReadEnvFile(envFile); err != nil {
			t.Fatal(err)
		}
	}
	c.env = env
	c.args = append([]string{"-p", c.project, "--project-directory", "."}, files...)
	c.args = append(c.args, "--env-file", "images."+images+".env", "--env-file", envFile)
	return c
}

// addr is where the host reaches a service's port.
func (c *composeRun) addr(t *testing.T, hostPortVar string, bridgePort int) string {
	t.Helper()
	if c.host {
		return fmt.Sprintf("127.0.0.1:%d", c.ports[hostPortVar])
	}
	return fmt.Sprintf("127.0.0.1:%d", bridgePort)
}

func TestComposeDeployment(t *testing.T) {
	c := newComposeRun(t)
	weir := stacktest.Weir(t) // the generator, run on the host
	downDone := false
	t.Cleanup(func() {
		if !downDone {
			ps, _ := c.cmd(context.Background(), "ps", "--all", "--format", "table {{.Service}}\t{{.State}}\t{{.Status}}").CombinedOutput()
			out, _ := c.cmd(context.Background(), "logs", "--no-color", "--tail", "40").CombinedOutput()
			t.Logf("services before cleanup:\n%s\nlogs before cleanup:\n%s", ps, tail(out, 400))
			_ = c.cmd(context.Background(), "down", "--volumes", "--remove-orphans", "--timeout", "20").Run()
		}
	})

	freeBefore := engineFree(t)
	deployStart := time.Now()
	// Ceilings, not expectations: healthy in 6–7 min at load average ~15
	// on 2 cores, not in 20 at load ~57 (weir-gold-init's views took ~50 s
	// each through the deployed Trino).
	c.run(t, 35*time.Minute, "up", "-d", "--wait", "--wait-timeout", "1800")
	freeAfter := engineFree(t)
	t.Logf("deploy: every service healthy after %s; the containers took %.1f GB of disk (%.1f GB free)",
		time.Since(deployStart).Round(time.Second), gb(freeBefore)-gb(freeAfter), gb(freeAfter))
	t.Log(c.run(t, time.Minute, "ps", "--all", "--format", "table {{.Service}}\t{{.State}}\t{{.Status}}"))

	t.Run("no secret on a command line", func(t *testing.T) { checkNoSecretInArgs(t, c) })

	if !c.host {
		t.Skip("the rest reaches the services at host ports: WEIR_COMPOSE_NETWORK=host")
	}
	brokers := strings.Join([]string{
		c.addr(t, "WEIR_PORT_KAFKA1", 0), c.addr(t, "WEIR_PORT_KAFKA2", 0), c.addr(t, "WEIR_PORT_KAFKA3", 0),
	}, ",")
	db := c.trino(t)

	// A known batch: 30 minutes of traffic ending now, every anomaly kind
	// injected (one every 10 minutes) and the generator's default faults.
	end := time.Now().UTC().Truncate(time.Second)
	first := produce(t, weir, brokers, 11, end.Add(-30*time.Minute), "30m", "10m")
	want := map[string]int64{}
	addProduced(want, first)
	waitBronze(t, db, want, 5*time.Minute)
	t.Logf("bronze holds the first batch exactly: %v", want)

	// silver_build through the deployed scheduler: init, the four silver
	// builds, the gold rollups.
	c.run(t, 10*time.Minute, "exec", "-T", "weir-scheduler", "weir", "dags", "trigger", "silver_build", "--wait")
	checkSilver(t, db, first)
	var ips int
	if err := db.QueryRow("SELECT distinct_client_ips FROM gold.web_distinct_client_ips").Scan(&ips); err != nil {
		t.Fatal(err)
	}
	if ips != first.Expected.Access.DistinctClientIPs {
		t.Errorf("gold.web_distinct_client_ips = %d, want %d (generator ground truth)", ips, first.Expected.Access.DistinctClientIPs)
	}
	t.Logf("first gold answer %s after deploy started (distinct client IPs %d)", time.Since(deployStart).Round(time.Second), ips)

	t.Run("alert reaches the deployed Alertmanager", func(t *testing.T) {
		// The batch is history (its last event is now): an anomaly's alert
		// fires and, its window long closed, resolves at once, so it is
		// not in GET /api/v2/alerts for long. Alertmanager counts every
		// alert it received.
		metrics := "http://" + c.addr(t, "WEIR_PORT_ALERTMANAGER", 9093) + "/metrics"
		deadline := time.Now().Add(4 * time.Minute)
		for {
			if n := receivedFiring(t, metrics); n > 0 {
				t.Logf("Alertmanager received %d firing alerts (injected anomalies: %v)", n, first.Anomalies)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("Alertmanager received no firing alert 4 min after the batch (injected %v)", first.Anomalies)
			}
			time.Sleep(5 * time.Second)
		}
	})

	t.Run("Prometheus scrapes every target", func(t *testing.T) {
		checkPrometheusTargets(t, "http://"+c.addr(t, "WEIR_PORT_PROMETHEUS", 9090))
	})

	t.Run("Alertmanager notifies the scheduler's webhook", func(t *testing.T) {
		checkWebhook(t, "http://"+c.addr(t, "WEIR_PORT_ALERTMANAGER", 9093), "http://"+c.addr(t, "WEIR_PORT_SCHEDULER", 8700),
			c.env["SCHEDULER_VIEWER_PASSWORD"])
	})

	t.Run("stream container killed mid-load", func(t *testing.T) {
		// A second batch over an earlier half hour, so silver's event ids
		// are new; the stream is killed while it lands.
		gen := make(chan *generate.Summary, 1)
		go func() { gen <- produce(t, weir, brokers, 12, end.Add(-90*time.Minute), "30m", "0") }()
		before := sum(want)
		deadline := time.Now().Add(3 * time.Minute)
		for bronzeTotal(t, db) <= before {
			if time.Now().After(deadline) {
				t.Fatal("the second batch never reached bronze")
			}
			time.Sleep(200 * time.Millisecond)
		}
		c.run(t, time.Minute, "kill", "-s", "SIGKILL", "weir-stream")
		t.Logf("killed weir-stream with %d of the second batch's rows in bronze", bronzeTotal(t, db)-before)
		second := <-gen
		if second == nil {
			t.FailNow()
		}
		c.run(t, 5*time.Minute, "up", "-d", "--wait", "weir-stream")
		addProduced(want, second)
		waitBronze(t, db, want, 5*time.Minute)
		// Still exact a while later: nothing replayed twice after the restart.
		time.Sleep(15 * time.Second)
		checkBronze(t, db, want)
		c.run(t, 10*time.Minute, "exec", "-T", "weir-scheduler", "weir", "dags", "trigger", "silver_build", "--wait")
		checkSilver(t, db, first, second)
	})

	t.Run("maintenance rewrites bronze and silver as weir-maintain", func(t *testing.T) {
		c.run(t, 10*time.Minute, "exec", "-T", "weir-scheduler", "weir", "dags", "trigger", "maintenance", "--wait")
		checkBronze(t, db, want)
	})

	db.Close()
	start := time.Now()
	c.run(t, 5*time.Minute, "down", "--volumes", "--remove-orphans", "--timeout", "30")
	downDone = true
	t.Logf("down in %s", time.Since(start).Round(time.Second))
	checkNothingLeft(t, c)
}

// minFreeGB is the disk the deployment needs beside the images: the vfs
// storage driver copies every container's file system whole (measured: one
// deployment's 19 containers took about 22 GB), plus room for the data.
// WEIR_COMPOSE_MIN_FREE_GB overrides it (an engine with a copy-on-write
// storage driver needs far less).
const minFreeGB = 24

// checkDiskHeadroom fails the test before it deploys when the engine's data
// directory has less free space than a deployment takes: a disk that fills
// up mid-deployment fails in confusing ways, and fails other users of the
// machine too.
func checkDiskHeadroom(t *testing.T) {
	t.Helper()
	need := float64(minFreeGB)
	if s := os.Getenv("WEIR_COMPOSE_MIN_FREE_GB"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("WEIR_COMPOSE_MIN_FREE_GB: %v", err)
		}
		need = v
	}
	free := engineFree(t)
	if gb(free) < need {
		t.Fatalf("not enough disk for a deployment: %.1f GB free where the Docker engine keeps its data, %.0f GB needed "+
			"(the vfs storage driver copies every container's file system); free space, e.g. docker builder prune -af, "+
			"or set WEIR_COMPOSE_MIN_FREE_GB", gb(free), need)
	}
	t.Logf("disk: %.1f GB free for the engine's data (%.0f GB needed)", gb(free), need)
}

// engineFree is the free space, in bytes, of the file system that holds
// the engine's data directory (the engine runs on this machine).
func engineFree(t *testing.T) uint64 {
	t.Helper()
	out, err := exec.Command("docker", "info", "--format", "{{.DockerRootDir}}").Output()
	if err != nil {
		t.Fatalf("docker info: %v", err)
	}
	var st syscall.Statfs_t
	dir := strings.TrimSpace(string(out))
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatalf("free space of the engine's data directory %s: %v", dir, err)
	}
	return st.Bavail * uint64(st.Bsize)
}

func gb(b uint64) float64 { return float64(b) / 1e9 }

// trino opens the deployed coordinator over HTTPS as user weir, trusting
// the certificate trino-secrets generated (copied out of the stack).
func (c *composeRun) trino(t *testing.T) *sql.DB {
	t.Helper()
	crt := filepath.Join(t.TempDir(), "trino.crt")
	c.run(t, time.Minute, "cp", "weir-scheduler:/etc/weir/trino-ca/trino.crt", crt)
	pem, err := os.ReadFile(crt)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("trino.crt: no certificate")
	}
	key := "compose-" + c.project
	err = trino.RegisterCustomClient(key, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}})
	if err != nil {
		t.Fatal(err)
	}
	dsn := fmt.Sprintf("https://weir:%s@%s?catalog=iceberg&custom_client=%s", c.env["TRINO_WEIR_PASSWORD"], c.addr(t, "WEIR_PORT_TRINO_HTTPS", 8443), key)
	db, err := sql.Open("trino", dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// produce runs weir generate against the deployed brokers and returns its
// summary (what each table must hold).
func produce(t *testing.T, weir, brokers string, seed int, start time.Time, history, anomalyEvery string) *generate.Summary {
	summary := filepath.Join(t.TempDir(), "summary.json")
	args := []string{"generate", "--seed", strconv.Itoa(seed), "--start", start.Format(time.RFC3339),
		"--history", history, "--rate", "40", "--ensure-topics=false", "--summary", summary}
	if anomalyEvery == "0" {
		args = append(args, "--anomalies", "none")
	} else {
		args = append(args, "--anomaly-every", anomalyEvery)
	}
	cmd := exec.Command(weir, args...)
	cmd.Env = append(os.Environ(), "WEIR_KAFKA_BROKERS="+brokers)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("weir generate: %v\n%s", err, tail(out, 30))
		return nil
	}
	raw, err := os.ReadFile(summary)
	if err != nil {
		t.Error(err)
		return nil
	}
	var s generate.Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Error(err)
		return nil
	}
	return &s
}

// sources are the topics whose bronze and silver tables the test counts.
var sources = map[string]string{ // topic → silver table
	"web.access":    "silver.access_logs",
	"app.events":    "silver.events",
	"app.logs":      "silver.logs",
	"infra.metrics": "silver.metrics",
}

func bronzeTable(topic string) string {
	return "bronze." + strings.ReplaceAll(topic, ".", "_")
}

func addProduced(want map[string]int64, s *generate.Summary) {
	for topic := range sources {
		if ts := s.Topics[topic]; ts != nil {
			want[topic] += ts.Produced
		}
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func count(t *testing.T, db *sql.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func bronzeTotal(t *testing.T, db *sql.DB) int64 {
	var n int64
	for topic := range sources {
		n += count(t, db, bronzeTable(topic))
	}
	return n
}

func waitBronze(t *testing.T, db *sql.DB, want map[string]int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := map[string]int64{}
		done := true
		for topic, n := range want {
			got[topic] = count(t, db, bronzeTable(topic))
			if got[topic] > n {
				t.Fatalf("%s: %d rows, more than the %d produced (duplicates)", bronzeTable(topic), got[topic], n)
			}
			done = done && got[topic] == n
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bronze after %s: %v, want %v", timeout, got, want)
		}
		time.Sleep(2 * time.Second)
	}
}

func checkBronze(t *testing.T, db *sql.DB, want map[string]int64) {
	t.Helper()
	for topic, n := range want {
		if got := count(t, db, bronzeTable(topic)); got != n {
			t.Errorf("%s: %d rows, want %d", bronzeTable(topic), got, n)
		}
	}
}

func checkSilver(t *testing.T, db *sql.DB, batches ...*generate.Summary) {
	t.Helper()
	for topic, table := range sources {
		var want int64
		for _, b := range batches {
			if ts := b.Topics[topic]; ts != nil {
				want += ts.SilverRows
			}
		}
		if got := count(t, db, table); got != want {
			t.Errorf("%s: %d rows, want %d (generator ground truth)", table, got, want)
		}
	}
}

// checkWebhook posts a pipeline alert to the deployed Alertmanager and waits
// for the scheduler to list its notification (group_wait 10 s as shipped):
// the routing tree, the webhook URL config and the receiver secret work.
func checkWebhook(t *testing.T, am, scheduler, viewerPassword string) {
	t.Helper()
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	body, _ := json.Marshal([]map[string]any{{"labels": map[string]string{
		"alertname": "WeirComposeWebhookTest", "source": "pipeline", "severity": "warning", "test_run": run}}})
	resp, err := http.Post(am+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post alert: %s", resp.Status)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequest("GET", scheduler+"/api/v1/notifications", nil)
		req.SetBasicAuth("viewer", viewerPassword)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Notifications []struct {
				Receiver string `json:"receiver"`
				Status   string `json:"status"`
				Alerts   []struct {
					Labels map[string]string `json:"labels"`
				} `json:"alerts"`
			} `json:"notifications"`
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/v1/notifications: %s %v", resp.Status, err)
		}
		for _, n := range list.Notifications {
			if len(n.Alerts) > 0 && n.Alerts[0].Labels["test_run"] == run {
				if n.Receiver != "pipeline" || n.Status != "firing" {
					t.Errorf("notification to %s, %s; want pipeline, firing", n.Receiver, n.Status)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no notification at the scheduler 2 min after the alert reached Alertmanager")
		}
		time.Sleep(2 * time.Second)
	}
}

// receivedFiring reads alertmanager_alerts_received_total{status="firing"}.
func receivedFiring(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "alertmanager_alerts_received_total{") && strings.Contains(line, `status="firing"`) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += int(v)
		}
	}
	return n
}

// checkNoSecretInArgs looks for every generated secret in the containers'
// entrypoints and commands (docker inspect) and in every process's command
// line on this host (containers' processes included).
func checkNoSecretInArgs(t *testing.T, c *composeRun) {
	ids := strings.Fields(c.run(t, time.Minute, "ps", "--all", "-q"))
	out, err := exec.Command("docker", append([]string{"inspect", "--format", "{{.Name}} {{json .Path}} {{json .Args}} {{json .Config.Cmd}} {{json .Config.Entrypoint}}"}, ids...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker inspect: %v\n%s", err, out)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var cmdlines [][]byte
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil {
			cmdlines = append(cmdlines, b)
		}
	}
	for _, name := range Secrets {
		v := c.env[name]
		if v == "" {
			continue
		}
		if bytes.Contains(out, []byte(v)) {
			t.Errorf("%s appears in a container's command (docker inspect)", name)
		}
		for _, cl := range cmdlines {
			if bytes.Contains(cl, []byte(v)) {
				t.Errorf("%s appears on a command line: %q", name, strings.ReplaceAll(string(cl), "\x00", " ")[:min(60, len(cl))])
				break
			}
		}
	}
}

// checkNothingLeft: no container, volume or listening port of the project.
func checkNothingLeft(t *testing.T, c *composeRun) {
	t.Helper()
	for _, what := range [][]string{
		{"ps", "-a", "-q", "--filter", "label=com.docker.compose.project=" + c.project},
		{"volume", "ls", "-q", "--filter", "label=com.docker.compose.project=" + c.project},
	} {
		out, err := exec.Command("docker", what...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(what, " "), err, out)
		}
		if s := strings.TrimSpace(string(out)); s != "" {
			t.Errorf("left after down (docker %s): %s", what[0], s)
		}
	}
	for name, port := range c.ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Errorf("%s: port %d still in use after down: %v", name, port, err)
			continue
		}
		l.Close()
	}
}

// checkPrometheusTargets waits until the deployed Prometheus has scraped
// every target it is configured with successfully (health "up").
func checkPrometheusTargets(t *testing.T, prom string) {
	t.Helper()
	type target struct {
		Job       string `json:"scrapePool"`
		URL       string `json:"scrapeUrl"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
	}
	var active, down []target
	stacktest.Eventually(t, 3*time.Minute, 5*time.Second, func() (bool, error) {
		resp, err := http.Get(prom + "/api/v1/targets?state=active")
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				ActiveTargets []target `json:"activeTargets"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("GET /api/v1/targets: %s %v", resp.Status, err)
		}
		active, down = body.Data.ActiveTargets, nil
		for _, tg := range active {
			if tg.Health != "up" {
				down = append(down, tg)
			}
		}
		return len(active) > 0 && len(down) == 0, nil
	}, func() string {
		return fmt.Sprintf("Prometheus: %d of %d targets not up 3 min after the deployment was healthy: %+v", len(down), len(active), down)
	})
	jobs := map[string]bool{}
	for _, tg := range active {
		jobs[tg.Job] = true
	}
	for _, job := range []string{"weir-stream", "weir-alerts", "weir-scheduler", "weir-silver-follow", "minio", "trino", "trino-coordinator", "alertmanager", "prometheus"} {
		if !jobs[job] {
			t.Errorf("Prometheus has no target of job %s (jobs: %v)", job, jobs)
		}
	}
	t.Logf("Prometheus: all %d targets up", len(active))
}
