//go:build integration && bench

package stream_test

// TestSideBySidePeer (make bench-peer) runs weir's stream job and Apache
// Iceberg's Kafka Connect sink side by side on the same stack: the same
// topics and records (the generator's mix, 4 topics × 6 partitions), the
// same MinIO, the same JDBC catalog on the same PostgreSQL, each into its
// own namespace, in rounds A B A B (the first pair one after the other, the
// second interleaved with it, so the machine's drift hits both). Then, for
// each, freshness under a fixed produce rate and exactness after kill -9
// mid-load and a restart, counted through Trino. It writes
// bench/results/peer.json with the raw figures and the ratios weir/peer.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"weir/internal/stacktest"
	"weir/jobs/generate"
	"weir/kafkaio"
	"weir/lakehouse"
	"weir/localstack"
	"weir/trino"
)

// peerCommitInterval is both systems' commit interval (weir's bench value;
// the sink's default is 300000 ms).
const peerCommitInterval = 3 * time.Second

type peerRound struct {
	System       string  `json:"system"`
	Round        int     `json:"round"`
	Order        string  `json:"order"`
	Messages     int64   `json:"messages"`
	DrainSeconds float64 `json:"drain_seconds"`
	WallSeconds  float64 `json:"wall_seconds"`
	MsgsPerSec   float64 `json:"msgs_per_sec"`
	MBPerSec     float64 `json:"mb_per_sec"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	CPUPer1M     float64 `json:"cpu_seconds_per_1m"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	DataFiles    int64   `json:"data_files"`
	DataBytes    int64   `json:"data_bytes"`
	Snapshots    int     `json:"snapshots"`
	LoadAvg      string  `json:"loadavg"`
}

type peerLive struct {
	System         string  `json:"system"`
	FreshnessRate  float64 `json:"freshness_load_msg_s"`
	FreshnessN     int     `json:"freshness_probes"`
	FreshnessP50   float64 `json:"freshness_p50_s"`
	FreshnessP95   float64 `json:"freshness_p95_s"`
	FreshnessMax   float64 `json:"freshness_max_s"`
	KilledAfter    float64 `json:"killed_after_s"`
	Produced       int64   `json:"produced"`
	Stored         int64   `json:"stored"`
	DeadLetters    int64   `json:"dead_letters"`
	Duplicates     int64   `json:"duplicates"`
	Missing        int64   `json:"missing"`
	RecoverSeconds float64 `json:"recovered_seconds"`
	LoadAvg        string  `json:"loadavg"`
}

// contender is one of the two systems under the same harness.
type contender struct {
	name  string
	start func(t testing.TB, round int, topics []string) *stacktest.Process
	// table is the table (namespace.name) topic lands in for round.
	table func(round int, topic string) string
	// offsetCol and coordinates name the columns Trino counts by.
	offsetCol, topicCol, partitionCol string
	// started is when the process began reading (its log), or zero.
	started func(t testing.TB, p *stacktest.Process) time.Time
	stop    func(t testing.TB, p *stacktest.Process)
	cleanup func(round int, topics []string)
}

func TestSideBySidePeer(t *testing.T) {
	total := 1_000_000
	if testing.Short() {
		total = 100_000
	}
	if n, err := strconv.Atoi(os.Getenv("WEIR_BENCH_MESSAGES")); err == nil && n > 0 {
		total = n // quick runs; the published figure is for 1,000,000
	}
	s := openStack(t)
	ctx := context.Background()

	st := stacktest.Stack(t)
	t.Log("assembling the iceberg kafka connect sink (cached after the first run)")
	ic, err := st.InstallIcebergConnect(ctx)
	if err != nil {
		t.Fatal(err)
	}

	topics := s.newTopics(t, 6, "web.access", "app.events", "app.logs", "infra.metrics")
	prefix, _, _ := strings.Cut(topics[0], ".")
	produced, payloadBytes := s.produceGenerated(t, topics, total)
	t.Logf("produced %d generated records (%d bytes)", produced, payloadBytes)
	high := s.highWatermarks(t, topics)

	stacktest.Weir(t) // build before any clock starts
	weir := s.weirContender(prefix)
	peer := s.peerContender(t, ic, prefix)

	var rounds []peerRound
	order := []*contender{weir, peer, weir, peer}
	for i, c := range order {
		r := s.drainRound(t, c, i+1, topics, high, payloadBytes)
		r.Order = "sequential"
		if i >= 2 {
			r.Order = "interleaved"
		}
		rounds = append(rounds, r)
		t.Logf("round %d %s: %.0f msg/s, %.2f CPU s per 1M, peak RSS %.0f MB, %d files", r.Round, r.System, r.MsgsPerSec, r.CPUPer1M, r.PeakRSSMB, r.DataFiles)
	}

	var live []peerLive
	for _, c := range []*contender{weir, peer} {
		l := s.liveRound(t, c, 10+len(live), total)
		live = append(live, l)
		t.Logf("live %s: freshness p50 %.2fs p95 %.2fs; after kill -9: %d stored of %d, %d duplicates, %d missing", l.System, l.FreshnessP50, l.FreshnessP95, l.Stored, l.Produced, l.Duplicates, l.Missing)
	}

	res := map[string]any{
		"benchmark":          "peer",
		"peer":               "Apache Iceberg Kafka Connect sink " + localstack.IcebergConnectVersion + " in a Kafka Connect " + localstack.KafkaVersion + " standalone worker (tasks.max=2, -Xms256M -Xmx2G as connect-standalone.sh)",
		"messages":           produced,
		"message_bytes_avg":  float64(payloadBytes) / float64(produced),
		"topics":             len(topics),
		"partitions":         24,
		"records":            "the generator's mix (weir generate's model, default faults), keys and values as produced",
		"commit_interval":    peerCommitInterval.String(),
		"rounds":             rounds,
		"live":               live,
		"medians":            map[string]map[string]float64{"weir": medians(rounds, "weir"), "peer": medians(rounds, "peer")},
		"ratios_weir_peer":   ratios(rounds, live),
		"ratio_note":         "weir / peer of the medians over the rounds; > 1 means weir has more of it (better for msgs/s and MB/s, worse for CPU, RSS, freshness, files)",
		"drain_note":         "drain = the process's first partition assignment (its log) to the commit time of the snapshot that first holds every record; wall adds JVM or process start and the group join; CPU and peak RSS (VmHWM) of the one process, from /proc, at the end of the drain",
		"freshness_method":   "probe record every 500ms beside a steady load of 2000 msg/s (a rate both systems sustain here; the sink drains ~5-8k msg/s on this machine); Trino polled every 250ms for the highest probe offset; visible = poll completion time; the probe table exists before the first probe",
		"exactness_method":   "steady produce for 20 s, SIGKILL of the process after 10 s, restart 2 s later; when caught up, count(*) and count(DISTINCT topic, partition, offset) through Trino against the topics' high watermarks",
		"differences":        "weir stores raw bytes, key, coordinates, ingestion and event time, partitioned by day(ingested_at), sorted, zstd; the sink stores the value (HoistField) and _kafka_metadata_* columns (KafkaMetadataTransform), tables auto-created unpartitioned, its default Parquet codec",
		"measured_at":        time.Now().UTC().Format(time.RFC3339),
		"machine":            machine(),
		"java":               ic.Java,
		"short":              testing.Short(),
		"messages_requested": total,
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	out := filepath.Join(stacktest.ModuleRoot(t), "bench", "results", "peer.json")
	if total != 1_000_000 {
		out = filepath.Join(stacktest.ModuleRoot(t), "bench", "results", "peer-short.json")
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", b)
}

// produceGenerated sends the first n records of the generator's model for
// its four source topics (dimension records are left out) to topics, and
// returns the count and the payload bytes.
func (s *stack) produceGenerated(t testing.TB, topics []string, n int) (int64, int64) {
	t.Helper()
	p, err := kafkaio.NewProducer(s.cfg.Kafka, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cfg := generate.Default(time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC))
	cfg.Seed = 3
	cfg.Rate = 1000
	cfg.End = cfg.Start.Add(24 * time.Hour) // more than n; the sink stops it
	gen, err := generate.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sink := &countingSink{p: p, limit: int64(n), topics: map[string]string{}}
	for _, topic := range topics {
		_, name, _ := strings.Cut(topic, ".")
		sink.topics[name] = topic
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink.cancel = cancel
	if _, err := gen.Run(ctx, sink, nil); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if sink.n < sink.limit {
		t.Fatalf("generator stopped after %d records, want %d", sink.n, sink.limit)
	}
	fctx, fcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer fcancel()
	if err := p.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	return sink.n, sink.bytes
}

type countingSink struct {
	p         *kafkaio.Producer
	topics    map[string]string // generator topic → test topic
	limit, n  int64
	bytes     int64
	cancel    func()
	cancelled bool
}

func (c *countingSink) Produce(ctx context.Context, topic string, key, value []byte) error {
	to, ok := c.topics[topic]
	if !ok || c.n >= c.limit {
		if c.n >= c.limit && !c.cancelled {
			c.cancelled = true
			c.cancel()
		}
		return ctx.Err()
	}
	c.n++
	c.bytes += int64(len(value))
	return c.p.Produce(ctx, to, key, value)
}

// drainRound lets c read every record of topics into fresh tables and
// measures the drain.
func (s *stack) drainRound(t testing.TB, c *contender, round int, topics []string, high map[lakehouse.TopicPartition]int64, payloadBytes int64) peerRound {
	t.Helper()
	defer c.cleanup(round, topics)
	var want int64
	perTopic := map[string]int64{}
	for tp, h := range high {
		want += h
		perTopic[tp.Topic] += h
	}
	start := time.Now()
	p := c.start(t, round, topics)
	done := s.waitRecords(t, c, round, perTopic, 20*time.Minute)
	cpu := processCPU(t, p.Cmd.Process.Pid)
	rss := peakRSS(p.Cmd.Process.Pid)
	load, _ := os.ReadFile("/proc/loadavg")
	began := c.started(t, p)
	if began.IsZero() {
		began = start
	}
	c.stop(t, p)
	files, bytes, snaps := s.tableFiles(t, c, round, topics)
	drain := done.Sub(began)
	return peerRound{
		System: c.name, Round: round, Messages: want,
		DrainSeconds: drain.Seconds(), WallSeconds: done.Sub(start).Seconds(),
		MsgsPerSec: float64(want) / drain.Seconds(), MBPerSec: float64(payloadBytes) / 1e6 / drain.Seconds(),
		CPUSeconds: cpu, CPUPer1M: cpu * 1e6 / float64(want), PeakRSSMB: rss,
		DataFiles: files, DataBytes: bytes, Snapshots: snaps,
		LoadAvg: strings.TrimSpace(string(load)),
	}
}

// waitRecords waits until c's tables of round hold perTopic records each,
// and returns the commit time of the first snapshot of each table that did
// (the latest over the tables).
func (s *stack) waitRecords(t testing.TB, c *contender, round int, perTopic map[string]int64, timeout time.Duration) time.Time {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		var latest time.Time
		complete := true
		for topic, n := range perTopic {
			if n == 0 {
				continue // a short run may have no host metrics yet
			}
			tbl, err := s.lake.Catalog.LoadTable(ctx, lakehouse.Ident(c.table(round, topic)))
			if errors.Is(err, catalog.ErrNoSuchTable) {
				complete = false
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			at, ok := firstWith(tbl, n)
			if !ok {
				complete = false
				break
			}
			if at.After(latest) {
				latest = at
			}
		}
		if complete {
			return latest
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s round %d: tables not complete after %s", c.name, round, timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// firstWith is the commit time of the oldest snapshot whose total-records
// reaches n, if the current one does.
func firstWith(tbl *table.Table, n int64) (time.Time, bool) {
	var at time.Time
	for snap := range lakehouse.Ancestors(tbl) {
		if snapInt(snap, "total-records") < n {
			break
		}
		at = time.UnixMilli(snap.TimestampMs)
	}
	return at, !at.IsZero()
}

func snapInt(snap *table.Snapshot, key string) int64 {
	if snap == nil || snap.Summary == nil {
		return 0
	}
	v, _ := strconv.ParseInt(snap.Summary.Properties[key], 10, 64)
	return v
}

func (s *stack) tableFiles(t testing.TB, c *contender, round int, topics []string) (files, bytes int64, snaps int) {
	t.Helper()
	for _, topic := range topics {
		tbl, err := s.lake.Catalog.LoadTable(context.Background(), lakehouse.Ident(c.table(round, topic)))
		if errors.Is(err, catalog.ErrNoSuchTable) {
			continue // no record for it
		}
		if err != nil {
			t.Fatal(err)
		}
		snap := tbl.CurrentSnapshot()
		files += snapInt(snap, "total-data-files")
		bytes += snapInt(snap, "total-files-size")
		snaps += len(tbl.Metadata().Snapshots())
	}
	return files, bytes, snaps
}

// liveRound runs c on topics of its own: freshness under a steady load,
// then kill -9 mid-load, a restart, and the count through Trino.
func (s *stack) liveRound(t testing.TB, c *contender, round, total int) peerLive {
	t.Helper()
	topics := s.newTopics(t, 6, "web.access", "app.events", "app.logs", "infra.metrics")
	probe := s.newTopics(t, 1, "probe")[0]
	all := append(slices.Clone(topics), probe)
	defer c.cleanup(round, all)
	p := c.start(t, round, all)
	// The sink creates a table on its first record, so one record goes to
	// the probe topic first and the probe table must exist before the
	// clock starts; probe i is then at offset i+1.
	prod, err := kafkaio.NewProducer(s.cfg.Kafka, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := prod.Produce(context.Background(), probe, nil, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := prod.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	prod.Close()
	waitForTable(t, s, c.table(round, probe))
	q := fmt.Sprintf(`SELECT coalesce(max(%s), 0) - 1 FROM %s`, trino.Ident(c.offsetCol), c.table(round, probe))
	// A rate both sustain on this machine: above a system's drain rate
	// its freshness only measures its growing backlog.
	const rate = 2_000
	fresh := s.freshnessQuery(t, topics, probe, q, 20*time.Second, rate)

	// Exactness: a steady load, SIGKILL halfway, restart.
	n := max(total/40, 10_000) // per topic: 4×n records over 20 s
	prodDone := make(chan struct{})
	go func() {
		defer close(prodDone)
		s.produce(t, topics, n, 20*time.Second)
	}()
	time.Sleep(10 * time.Second)
	p.Kill()
	killedAt := time.Now()
	time.Sleep(2 * time.Second)
	p = c.start(t, round, all)
	<-prodDone
	high := s.highWatermarks(t, all)
	var want int64
	for _, h := range high {
		want += h
	}
	db, err := trino.Open(s.cfg.Trino)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var parts []string
	for _, topic := range all {
		parts = append(parts, fmt.Sprintf("SELECT %s AS tp, %s AS pa, %s AS off FROM %s",
			trino.Ident(c.topicCol), trino.Ident(c.partitionCol), trino.Ident(c.offsetCol), c.table(round, topic)))
	}
	count := fmt.Sprintf(`SELECT count(*), count(DISTINCT (tp, pa, off)) FROM (%s)`, strings.Join(parts, " UNION ALL "))
	var stored, distinct int64
	deadline := time.Now().Add(10 * time.Minute)
	for {
		// A table the restarted sink has not created yet fails the query.
		err := db.QueryRow(count).Scan(&stored, &distinct)
		if err == nil && distinct >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not caught up after 10 min: %d of %d (%v)", c.name, distinct, want, err)
		}
		time.Sleep(time.Second)
	}
	recovered := time.Since(killedAt)
	time.Sleep(2 * peerCommitInterval) // a late duplicate commit would land now
	if err := db.QueryRow(count).Scan(&stored, &distinct); err != nil {
		t.Fatal(err)
	}
	var dead int64
	if c.name == "weir" {
		_ = db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %s`, deadLetters(all))).Scan(&dead)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	c.stop(t, p)
	l := peerLive{
		System: c.name, FreshnessRate: fresh.rate, FreshnessN: len(fresh.samples),
		FreshnessP50: quantile(fresh.samples, 0.5), FreshnessP95: quantile(fresh.samples, 0.95), FreshnessMax: quantile(fresh.samples, 1),
		KilledAfter: 10, Produced: want, Stored: stored, DeadLetters: dead,
		Duplicates: stored - distinct, Missing: want - distinct - dead,
		RecoverSeconds: recovered.Seconds(), LoadAvg: strings.TrimSpace(string(load)),
	}
	if l.Duplicates != 0 || l.Missing != 0 {
		t.Errorf("%s after kill -9: %d stored of %d, %d duplicates, %d missing", c.name, stored, want, l.Duplicates, l.Missing)
	}
	return l
}

// waitForTable waits until name exists.
func waitForTable(t testing.TB, s *stack, name string) {
	t.Helper()
	deadline := time.Now().Add(6 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := s.lake.Catalog.LoadTable(context.Background(), lakehouse.Ident(name)); err == nil {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("table %s not created after 6 min", name)
}

func (s *stack) weirContender(prefix string) *contender {
	return &contender{
		name: "weir",
		start: func(t testing.TB, round int, topics []string) *stacktest.Process {
			return startStream(t, fmt.Sprintf("weir-round%d", round), topics, fmt.Sprintf("peer-weir-%s-%d", prefix, round), nil,
				"--commit-interval", peerCommitInterval.String())
		},
		table:     func(_ int, topic string) string { return lakehouse.BronzeTable(topic) },
		offsetCol: "offset", topicCol: "topic", partitionCol: "partition",
		started: func(t testing.TB, p *stacktest.Process) time.Time { return logTime(t, p, "partition assigned") },
		stop:    func(t testing.TB, p *stacktest.Process) { stop(t, p) },
		cleanup: func(_ int, topics []string) {
			// Next round starts from empty tables (weir resumes from them).
			for _, name := range append([]string{deadLetters(topics)}, topics...) {
				if name != deadLetters(topics) {
					name = lakehouse.BronzeTable(name)
				}
				_ = s.lake.Catalog.PurgeTable(context.Background(), lakehouse.Ident(name))
			}
		},
	}
}

// peerTable is the sink's table for topic in round: one namespace a round.
func peerTable(prefix string, round int, topic string) string {
	_, name, _ := strings.Cut(topic, ".")
	return fmt.Sprintf("peer_%s_r%d.%s", prefix, round, strings.NewReplacer(".", "_", "-", "_").Replace(name))
}

func (s *stack) peerContender(t testing.TB, ic localstack.IcebergConnect, prefix string) *contender {
	return &contender{
		name: "peer",
		start: func(t testing.TB, round int, topics []string) *stacktest.Process {
			return s.startConnect(t, ic, prefix, round, topics)
		},
		table:     func(round int, topic string) string { return peerTable(prefix, round, topic) },
		offsetCol: "_kafka_metadata_offset", topicCol: "_kafka_metadata_topic", partitionCol: "_kafka_metadata_partition",
		started: func(t testing.TB, p *stacktest.Process) time.Time {
			return connectLogTime(p, "Adding newly assigned partitions")
		},
		stop: func(t testing.TB, p *stacktest.Process) {
			p.Signal(syscall.SIGTERM)
			select {
			case <-p.Done():
			case <-time.After(90 * time.Second):
				p.Kill()
			}
		},
		cleanup: func(round int, topics []string) {
			ctx := context.Background()
			for _, topic := range topics {
				_ = s.lake.Catalog.PurgeTable(ctx, lakehouse.Ident(peerTable(prefix, round, topic)))
			}
			ns, _, _ := strings.Cut(peerTable(prefix, round, topics[0]), ".")
			_ = s.lake.Catalog.DropNamespace(ctx, table.Identifier{ns})
		},
	}
}

// startConnect starts a Kafka Connect standalone worker running the sink
// for topics into round's namespace (same connector name on a restart, so
// it resumes).
func (s *stack) startConnect(t testing.TB, ic localstack.IcebergConnect, prefix string, round int, topics []string) *stacktest.Process {
	t.Helper()
	ctx := context.Background()
	ns, _, _ := strings.Cut(peerTable(prefix, round, topics[0]), ".")
	if err := s.lake.Catalog.CreateNamespace(ctx, table.Identifier{ns}, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		t.Fatal(err)
	}
	name := fmt.Sprintf("peer-%s-%d", prefix, round)
	control := name + "-control"
	if err := kafkaio.EnsureTopics(ctx, s.cfg.Kafka, []kafkaio.TopicSpec{{Name: control, Partitions: 1}}); err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("WEIR_TEST_LOGS")
	if dir == "" {
		dir = t.TempDir()
	}
	dir = filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}

	cat := s.cfg.Catalog
	u, err := parseJDBC(cat.URI)
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http://"
	if s.cfg.S3.UseSSL {
		scheme = "https://"
	}
	worker := map[string]string{
		"bootstrap.servers":                 strings.Join(s.cfg.Kafka.Brokers, ","),
		"key.converter":                     "org.apache.kafka.connect.converters.ByteArrayConverter",
		"value.converter":                   "org.apache.kafka.connect.converters.ByteArrayConverter",
		"offset.storage.file.filename":      filepath.Join(dir, "connect.offsets"),
		"plugin.path":                       ic.PluginPath,
		"listeners":                         "http://" + stacktest.FreeAddr(t),
		"plugin.discovery":                  "only_scan",
		"consumer.auto.offset.reset":        "earliest",
		"offset.flush.interval.ms":          "10000",
		"task.shutdown.graceful.timeout.ms": "10000",
	}
	var tables []string
	conn := map[string]string{
		"name":                                 name,
		"connector.class":                      "org.apache.iceberg.connect.IcebergSinkConnector",
		"tasks.max":                            "2",
		"topics":                               strings.Join(topics, ","),
		"transforms":                           "hoist,meta",
		"transforms.hoist.type":                "org.apache.kafka.connect.transforms.HoistField$Value",
		"transforms.hoist.field":               "payload",
		"transforms.meta.type":                 "org.apache.iceberg.connect.transforms.KafkaMetadataTransform",
		"iceberg.tables.route-field":           "_kafka_metadata_topic",
		"iceberg.tables.auto-create-enabled":   "true",
		"iceberg.control.topic":                control,
		"iceberg.control.commit.interval-ms":   strconv.FormatInt(peerCommitInterval.Milliseconds(), 10),
		"iceberg.catalog":                      cat.Name,
		"iceberg.catalog.type":                 "jdbc",
		"iceberg.catalog.uri":                  u.url,
		"iceberg.catalog.jdbc.user":            u.user,
		"iceberg.catalog.jdbc.password":        u.password,
		"iceberg.catalog.jdbc.schema-version":  "V1",
		"iceberg.catalog.warehouse":            cat.Warehouse,
		"iceberg.catalog.io-impl":              "org.apache.iceberg.aws.s3.S3FileIO",
		"iceberg.catalog.s3.endpoint":          scheme + s.cfg.S3.Endpoint,
		"iceberg.catalog.s3.path-style-access": "true",
		"iceberg.catalog.s3.access-key-id":     s.cfg.S3.AccessKey,
		"iceberg.catalog.s3.secret-access-key": s.cfg.S3.SecretKey,
		"iceberg.catalog.client.region":        s.cfg.S3.Region,
		"iceberg.kafka.bootstrap.servers":      strings.Join(s.cfg.Kafka.Brokers, ","),
	}
	for _, topic := range topics {
		tbl := peerTable(prefix, round, topic)
		tables = append(tables, tbl)
		conn["iceberg.table."+tbl+".route-regex"] = "^" + regexp.QuoteMeta(topic) + "$"
	}
	conn["iceberg.tables"] = strings.Join(tables, ",")
	writeProps(t, filepath.Join(dir, "worker.properties"), worker)
	writeProps(t, filepath.Join(dir, "connector.properties"), conn)
	log4j := filepath.Join(dir, "log4j2.properties")
	if err := os.WriteFile(log4j, []byte(connectLog4j), 0o600); err != nil {
		t.Fatal(err)
	}

	logPath := filepath.Join(dir, fmt.Sprintf("connect-%d.log", time.Now().UnixNano()))
	cmd := exec.Command(ic.Java, "-Xms256M", "-Xmx2G", "-XX:+UseG1GC",
		"-Dlog4j2.configurationFile="+log4j,
		"-cp", filepath.Join(ic.WorkerLibs, "*"),
		"org.apache.kafka.connect.cli.ConnectStandalone",
		filepath.Join(dir, "worker.properties"), filepath.Join(dir, "connector.properties"))
	return stacktest.Start(t, cmd, logPath)
}

const connectLog4j = `status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = %d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %p %c{1} - %m%n
rootLogger.level = INFO
rootLogger.appenderRefs = stdout
rootLogger.appenderRef.stdout.ref = STDOUT
`

// connectLogTime is the time of the first worker log line containing
// substr (zero if none).
func connectLogTime(p *stacktest.Process, substr string) time.Time {
	out, _ := os.ReadFile(p.Log)
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, substr) {
			continue
		}
		ts, _, _ := strings.Cut(line, " ")
		if at, err := time.Parse("2006-01-02T15:04:05.000Z07:00", ts); err == nil {
			return at
		}
	}
	return time.Time{}
}

func writeProps(t testing.TB, path string, props map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		// Properties files treat backslashes as escapes.
		fmt.Fprintf(&b, "%s=%s\n", k, strings.ReplaceAll(props[k], `\`, `\\`))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

type jdbcURL struct{ url, user, password string }

// parseJDBC turns the catalog's postgres:// URI into the JDBC URL and
// credentials the sink's catalog takes.
func parseJDBC(uri string) (jdbcURL, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return jdbcURL{}, err
	}
	pw, _ := u.User.Password()
	return jdbcURL{url: "jdbc:postgresql://" + u.Host + u.Path, user: u.User.Username(), password: pw}, nil
}

// peakRSS is VmHWM of pid in MB.
func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func medians(rounds []peerRound, system string) map[string]float64 {
	get := map[string]func(r peerRound) float64{
		"msgs_per_sec":       func(r peerRound) float64 { return r.MsgsPerSec },
		"mb_per_sec":         func(r peerRound) float64 { return r.MBPerSec },
		"cpu_seconds_per_1m": func(r peerRound) float64 { return r.CPUPer1M },
		"peak_rss_mb":        func(r peerRound) float64 { return r.PeakRSSMB },
		"data_files":         func(r peerRound) float64 { return float64(r.DataFiles) },
		"data_bytes":         func(r peerRound) float64 { return float64(r.DataBytes) },
		"drain_seconds":      func(r peerRound) float64 { return r.DrainSeconds },
	}
	out := map[string]float64{}
	for k, f := range get {
		var v []float64
		for _, r := range rounds {
			if r.System == system {
				v = append(v, f(r))
			}
		}
		slices.Sort(v)
		if len(v) > 0 {
			out[k] = (v[(len(v)-1)/2] + v[len(v)/2]) / 2
		}
	}
	return out
}

func ratios(rounds []peerRound, live []peerLive) map[string]float64 {
	w, p := medians(rounds, "weir"), medians(rounds, "peer")
	out := map[string]float64{}
	for k, v := range w {
		if p[k] != 0 {
			out[k] = v / p[k]
		}
	}
	var lw, lp *peerLive
	for i := range live {
		switch live[i].System {
		case "weir":
			lw = &live[i]
		case "peer":
			lp = &live[i]
		}
	}
	if lw != nil && lp != nil && lp.FreshnessP50 > 0 && lp.FreshnessP95 > 0 {
		out["freshness_p50_s"] = lw.FreshnessP50 / lp.FreshnessP50
		out["freshness_p95_s"] = lw.FreshnessP95 / lp.FreshnessP95
	}
	return out
}
