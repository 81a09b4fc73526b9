package alerts

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
	"github.com/prometheus/client_golang/prometheus"

	"weir/config"
	"weir/endpoints"
	"weir/jobs/alerts/rules"
	"weir/jobs/alerts/window"
	"weir/kafkaio"
	"weir/lakehouse"
)

// Sink names.
const (
	SinkAlertmanager = "alertmanager"
	SinkKafka        = "kafka"
	SinkIceberg      = "iceberg"
)

// Options configure the alert job. Zero values take the defaults noted;
// DefaultOptions states them (the command's flags start from it).
type Options struct {
	// Rules are the rules evaluated; when nil, New loads RulesFile.
	Rules     *rules.File
	RulesFile string
	// Job names the checkpoint, outbox and lock (default "alerts"); the
	// consumer group is "weir-<job>".
	Job string
	// StateDB is the PostgreSQL DSN of the job's state (default
	// cfg.Scheduler.Database).
	StateDB string
	// Reset deletes the job's checkpoint, outbox and sink cursors before it
	// starts (re-evaluate from scratch).
	Reset bool
	// BatchInterval is the micro-batch period (default 1s); MaxBatch caps
	// the records of one batch (default 100,000).
	BatchInterval time.Duration
	MaxBatch      int
	// StartAt is where a job without a checkpoint starts reading:
	// "earliest" (default) or "latest".
	StartAt string
	// Sinks enabled (nil: all three; empty: none).
	Sinks []string
	// AlertsTopic is the Kafka topic of notifications (default "alerts").
	AlertsTopic string
	// ResendInterval re-sends firing alerts to Alertmanager (default 30s).
	ResendInterval time.Duration
	// IcebergInterval is how often silver.alerts is appended to (default 10s).
	IcebergInterval time.Duration
	// TopicPrefix is prepended to every topic the job reads (rules name the
	// logical topics), so a test or a staging run can use its own copies.
	TopicPrefix string
	// Retention is how long delivered notifications and late-record rows
	// are kept in PostgreSQL (default 7 days); older ones are pruned hourly.
	// silver.alerts and the alerts topic keep the history.
	Retention time.Duration
	// Listen is the address where endpoints.Run serves the job's Handler
	// beside it ("" = off; DefaultOptions: config.AlertsListen shifted by
	// WEIR_STACK_PORT_OFFSET).
	Listen string
	// StopWhenCaughtUp ends Run, after a last checkpoint, once a batch read
	// nothing and the broker holds no unread record of any source
	// partition: a replay stops by itself instead of being polled and
	// signalled. Notifications are stored; sinks get the usual moment to
	// deliver them and deliver the rest at the next start.
	StopWhenCaughtUp bool
	// PartitionRefresh is how often the source topics' partition counts are
	// read again, so partitions added under a running job are read without a
	// restart (default 10s).
	PartitionRefresh time.Duration
	// Now is the wall clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
	// Registry receives the metrics (default a new registry).
	Registry *prometheus.Registry
}

// DefaultOptions returns the production options of `weir alerts`: the
// defaults below, the shipped rules file, every sink and the endpoints on
// the stack's alerts port.
func DefaultOptions() Options {
	o := Options{RulesFile: DefaultRulesFile, Sinks: []string{SinkAlertmanager, SinkKafka, SinkIceberg}, Listen: config.StackListen(config.AlertsListen)}
	o.defaults(config.Config{})
	o.Now, o.Log, o.Registry = nil, nil, nil
	return o
}

func (o *Options) defaults(cfg config.Config) {
	if o.Job == "" {
		o.Job = "alerts"
	}
	if o.StateDB == "" {
		o.StateDB = cfg.Scheduler.Database
	}
	if o.BatchInterval <= 0 {
		o.BatchInterval = time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 100_000
	}
	if o.StartAt == "" {
		o.StartAt = "earliest"
	}
	if o.Sinks == nil {
		o.Sinks = []string{SinkAlertmanager, SinkKafka, SinkIceberg}
	}
	if o.AlertsTopic == "" {
		o.AlertsTopic = "alerts"
	}
	if o.ResendInterval <= 0 {
		o.ResendInterval = 30 * time.Second
	}
	if o.IcebergInterval <= 0 {
		o.IcebergInterval = 10 * time.Second
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.PartitionRefresh <= 0 {
		o.PartitionRefresh = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
}

// Job is the alert job: New checks its options, Run runs it.
type Job struct {
	cfg   config.Config
	opts  Options
	dec   Decoder
	m     *metrics
	ready atomic.Bool
}

// New checks opts (loading opts.RulesFile when opts.Rules is nil) and
// prepares a job; Run starts it. endpoints.Run serves Handler on
// opts.Listen beside it.
func New(cfg config.Config, opts Options) (*Job, error) {
	opts.defaults(cfg)
	if opts.Rules == nil && opts.RulesFile != "" {
		f, err := rules.Load(opts.RulesFile)
		if err != nil {
			return nil, err
		}
		opts.Rules = f
	}
	if opts.Rules == nil {
		return nil, errors.New("alerts: no rules")
	}
	if opts.StartAt != "earliest" && opts.StartAt != "latest" {
		return nil, fmt.Errorf("start at: want earliest or latest, got %q", opts.StartAt)
	}
	dec, err := NewDecoder(cfg, opts.TopicPrefix)
	if err != nil {
		return nil, err
	}
	return &Job{cfg: cfg, opts: opts, dec: dec, m: newMetrics(opts.Registry)}, nil
}

// Handler serves /healthz, /readyz (ready once the state is loaded and the
// sinks, the Kafka producer included, are up) and /metrics.
func (j *Job) Handler() http.Handler {
	mux := http.NewServeMux()
	endpoints.Register(mux, j.opts.Registry, nil, func(context.Context) error {
		if !j.ready.Load() {
			return errors.New("alert job starting")
		}
		return nil
	})
	return mux
}

// Run evaluates the rules over the source topics in micro-batches until
// ctx is cancelled, then stores a last checkpoint.
func (j *Job) Run(ctx context.Context) error {
	cfg, opts, m := j.cfg, j.opts, j.m
	defer j.ready.Store(false)
	log := opts.Log.With("job", opts.Job)

	store, err := OpenStore(ctx, opts.StateDB, opts.Job)
	if err != nil {
		return err
	}
	defer store.Close()
	if opts.Reset {
		if err := store.Reset(ctx); err != nil {
			return err
		}
		log.Info("reset alert job state")
	}

	eng := NewEngine(opts.Rules, opts.Now)
	cp, err := store.Load(ctx)
	if err != nil {
		return err
	}
	// written is the digest of every stored state part: a checkpoint
	// writes the parts whose bytes differ and deletes those gone.
	written := map[string][sha256.Size]byte{}
	if cp != nil {
		switch {
		case len(cp.Parts) > 0:
			err = eng.RestoreParts(cp.Parts)
			for k, v := range cp.Parts {
				written[k] = sha256.Sum256(v)
			}
		default:
			err = eng.Restore(cp.State)
		}
		if err != nil {
			return err
		}
		log.Info("restored alert checkpoint", "batches", cp.Batches, "watermark", time.UnixMilli(eng.Watermark()).UTC())
	}

	// Sinks run on their own goroutines from the stored outbox.
	sinkCtx, stopSinks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSinks()
	var sinkWG sync.WaitGroup
	var kicks []chan struct{}
	var sinkNames []string
	var producer *kafkaio.Producer
	var lake *lakehouse.Lakehouse
	defer func() {
		if producer != nil {
			producer.Close()
		}
		if lake != nil {
			lake.Close() //nolint:errcheck // closing a read pool
		}
	}()
	for _, name := range opts.Sinks {
		loop := &sinkLoop{store: store, poll: time.Second, batch: 500, maxBackoff: 30 * time.Second, metrics: m, log: log, kick: make(chan struct{}, 1)}
		switch name {
		case SinkAlertmanager:
			loop.sink = &alertmanagerSink{url: cfg.Alertmanager.URL, client: &http.Client{Timeout: 10 * time.Second},
				resend: opts.ResendInterval, now: opts.Now, store: store, active: map[string]Notification{}}
			loop.tickEvery = opts.ResendInterval
		case SinkKafka:
			if err := kafkaio.EnsureTopics(ctx, cfg.Kafka, []kafkaio.TopicSpec{{Name: opts.AlertsTopic, Partitions: 1}}); err != nil {
				return err
			}
			if producer, err = kafkaio.NewProducer(cfg.Kafka, nil); err != nil {
				return err
			}
			loop.sink = &kafkaSink{topic: opts.AlertsTopic, p: producer}
		case SinkIceberg:
			if lake, err = lakehouse.Open(ctx, cfg); err != nil {
				return err
			}
			if err := lake.EnsureNamespaces(ctx); err != nil {
				return err
			}
			loop.sink = &icebergSink{lake: lake, job: opts.Job, now: opts.Now}
			loop.poll = opts.IcebergInterval
			loop.batch = 10_000
			loop.kick = make(chan struct{}) // time-driven: few, larger commits
		default:
			return fmt.Errorf("sinks: unknown sink %q (want alertmanager, kafka, iceberg)", name)
		}
		kicks = append(kicks, loop.kick)
		sinkNames = append(sinkNames, name)
		sinkWG.Add(1)
		go func() { defer sinkWG.Done(); loop.run(sinkCtx) }()
	}
	defer func() {
		// Give the sinks a moment to deliver the last batch, then stop them.
		time.Sleep(500 * time.Millisecond)
		stopSinks()
		sinkWG.Wait()
	}()

	j.ready.Store(true)

	c, err := kafkaio.NewConsumer(cfg.Kafka, "weir-"+opts.Job, kafka.ConfigMap{"fetch.wait.max.ms": 100, "enable.partition.eof": true})
	if err != nil {
		return err
	}
	defer c.Close()

	if err := loadDimensions(ctx, cfg, eng, opts.TopicPrefix, m, log); err != nil {
		return err
	}
	var offsets map[string]int64
	if cp != nil {
		offsets = cp.Offsets
	}
	next, assigned, err := assign(c, eng, offsets, opts.StartAt, opts.TopicPrefix)
	if err != nil {
		return err
	}
	admin, err := kafka.NewAdminClientFromConsumer(c)
	if err != nil {
		return fmt.Errorf("create kafka admin client: %w", err)
	}
	defer admin.Close() // before the consumer it shares
	ends := &backlog{admin: admin, prefix: opts.TopicPrefix, startAt: opts.StartAt, eof: map[string]int64{}, log: log}
	log.Info("alert job running", "topics", eng.SourceTopics(), "prefix", opts.TopicPrefix, "checkpointed_partitions", len(next), "rules", len(opts.Rules.Rules), "sinks", sinkNames)

	lastStats := eng.Stats()
	lastPrune := time.Time{}
	lastDiscover := time.Now()
	for {
		stopping := ctx.Err() != nil
		start := time.Now()
		if time.Since(lastDiscover) >= opts.PartitionRefresh {
			lastDiscover = time.Now()
			if err := discover(c, eng, assigned, next, opts.TopicPrefix, log); err != nil {
				log.Warn("look for new source partitions", "err", err)
			}
		}
		read, err := runBatch(ctx, c, eng, next, ends, opts, j.dec, m)
		if err != nil {
			return err
		}
		if unread, known := ends.refresh(ctx, eng, next); opts.StopWhenCaughtUp && known && !unread && read == 0 && !stopping {
			eng.EndOfInput()
			log.Info("alert job caught up", "watermark", time.UnixMilli(eng.Watermark()).UTC())
			stopping = true
		}
		eng.Advance()
		ns, late := eng.Drain()
		parts, err := eng.Parts()
		if err != nil {
			return err
		}
		delta, size := changedParts(parts, written)
		if err := saveWithRetry(ctx, store, next, delta, eng.Watermark(), ns, late, log); err != nil {
			return err
		}
		for k := range delta.Put {
			written[k] = sha256.Sum256(parts[k])
		}
		for _, k := range delta.Delete {
			delete(written, k)
		}
		m.checkpoints.Inc()
		m.checkpointBytes.Add(float64(delta.Bytes()))
		m.batchSeconds.Observe(time.Since(start).Seconds())
		observe(m, eng, &lastStats, ns, late, size)
		if len(ns) > 0 {
			for _, k := range kicks {
				select {
				case k <- struct{}{}:
				default:
				}
			}
			for _, n := range ns {
				log.Info("alert", "rule", n.Rule, "status", n.Status, "fingerprint", n.Fingerprint, "starts_at", n.StartsAt, "labels", n.Labels)
			}
		}
		commitGroupOffsets(c, next)
		if time.Since(lastPrune) >= pruneEvery {
			lastPrune = time.Now()
			if err := store.Prune(ctx, sinkNames, opts.Retention); err != nil {
				log.Warn("prune delivered notifications and late records", "err", err)
			}
		}
		if stopping {
			log.Info("alert job stopped", "watermark", time.UnixMilli(eng.Watermark()).UTC())
			return nil
		}
	}
}

// changedParts returns the parts whose bytes differ from those stored (by
// digest) and the stored parts that are gone, and the state's whole size.
func changedParts(parts map[string][]byte, written map[string][sha256.Size]byte) (StateDelta, int) {
	d := StateDelta{Put: map[string][]byte{}}
	size := 0
	for k, v := range parts {
		size += len(v)
		if h, ok := written[k]; !ok || h != sha256.Sum256(v) {
			d.Put[k] = v
		}
	}
	for k := range written {
		if _, ok := parts[k]; !ok {
			d.Delete = append(d.Delete, k)
		}
	}
	sort.Strings(d.Delete)
	return d, size
}

// pruneEvery is how often delivered outbox rows and late records older than
// the retention are deleted.
const pruneEvery = time.Hour

func observe(m *metrics, eng *Engine, last *Stats, ns []Notification, late []LateRecord, stateBytes int) {
	st := eng.Stats()
	m.lateAccepted.Add(float64(st.Late - last.Late))
	m.refires.Add(float64(st.Refires - last.Refires))
	for rule, n := range st.DroppedBy {
		if d := n - last.DroppedBy[rule]; d > 0 {
			m.dropped.WithLabelValues(rule).Add(float64(d))
		}
	}
	*last = st
	for _, l := range late {
		m.notEvaluated.WithLabelValues(l.Reason).Inc()
	}
	for _, n := range ns {
		m.notified.WithLabelValues(n.Rule, n.Status).Inc()
	}
	m.stateSize.Set(float64(eng.StateSize()))
	m.stateBytes.Set(float64(stateBytes))
	if wm := eng.Watermark(); wm != window.None {
		m.watermark.Set(float64(wm) / 1000)
	}
}

// saveWithRetry stores the checkpoint; the batch's results live only in
// memory until it succeeds, so it retries (the write is idempotent) rather
// than evaluating further.
func saveWithRetry(ctx context.Context, store *Store, next map[string]int64, state StateDelta, wm int64, ns []Notification, late []LateRecord, log *slog.Logger) error {
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err := store.Save(sctx, next, state, wm, ns, late)
		cancel()
		if err == nil {
			return nil
		}
		if attempt >= 10 {
			return err
		}
		log.Warn("store alert checkpoint; retrying", "attempt", attempt, "err", err)
		time.Sleep(backoff)
		backoff = min(backoff*2, 10*time.Second)
	}
}

// backlog tells the engine which source partitions still have records on
// the broker that the job has not read, so that none of them counts as idle:
// a partition is idle when it has nothing to deliver, not when the consumer
// was busy with the others or the records arrived a moment after the
// consumer last saw its end (either would make its records too late).
type backlog struct {
	admin   *kafka.AdminClient
	prefix  string
	startAt string
	eof     map[string]int64 // tpKey → end offset the consumer reported reaching
	log     *slog.Logger
	failing bool
}

// reached records a PartitionEOF: p was read to offset end. It clears p's
// unread mark until the next refresh, so that if the broker cannot be asked
// the idle timeout alone decides and nothing stalls for good.
func (b *backlog) reached(eng *Engine, p window.Partition, end int64) {
	k := tpKey(p.Topic, p.Partition)
	if end > b.eof[k] {
		b.eof[k] = end
	}
	eng.Unread(p, false)
}

// refresh asks the broker where every source partition ends (one
// ListOffsets request per broker, read_committed like the consumer) and
// marks each partition unread or not. It runs right before every watermark
// advance, after the records that advance reads were polled, so a partition
// with records on the broker older than those is held. When the broker
// cannot be asked the marks stay as they were. It reports whether any
// source partition is unread, and whether it could tell.
func (b *backlog) refresh(ctx context.Context, eng *Engine, next map[string]int64) (anyUnread, known bool) {
	req := map[kafka.TopicPartition]kafka.OffsetSpec{}
	for _, topic := range eng.SourceTopics() {
		t := b.prefix + topic
		for _, p := range eng.wm.Partitions(topic) {
			req[kafka.TopicPartition{Topic: &t, Partition: p}] = kafka.LatestOffsetSpec
		}
	}
	if len(req) == 0 {
		return false, false
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	res, err := b.admin.ListOffsets(qctx, req, kafka.SetAdminIsolationLevel(kafka.IsolationLevelReadCommitted))
	if err != nil {
		if !b.failing {
			b.log.Warn("list source partition end offsets; idle partitions judged by the idle timeout alone", "err", err)
		}
		b.failing = true
		return false, false
	}
	if b.failing {
		b.log.Info("listing source partition end offsets again")
		b.failing = false
	}
	for tp, info := range res.ResultInfos {
		if info.Error.Code() != kafka.ErrNoError || tp.Topic == nil {
			continue
		}
		topic := strings.TrimPrefix(*tp.Topic, b.prefix)
		end, k := int64(info.Offset), tpKey(topic, tp.Partition)
		var unread bool
		pos, read := next[k]
		if eof, ok := b.eof[k]; ok && (!read || eof > pos) {
			pos, read = eof, true
		}
		switch {
		case read:
			unread = end > pos
		case b.startAt == "latest":
			unread = false // starts at the end: nothing before it is read
		default:
			unread = end > 0 // from the beginning, until a record or the end is reached
		}
		eng.Unread(window.Partition{Topic: topic, Partition: tp.Partition}, unread)
		anyUnread = anyUnread || unread
	}
	return anyUnread, len(res.ResultInfos) == len(req)
}

// advanceEvery is how many records pass between watermark updates inside
// one batch.
const advanceEvery = 5000

// runBatch polls for one batch interval (or MaxBatch records) and feeds the
// engine, advancing next offsets. It returns the records read.
func runBatch(ctx context.Context, c *kafka.Consumer, eng *Engine, next map[string]int64, ends *backlog, opts Options, dec Decoder, m *metrics) (int, error) {
	deadline := time.Now().Add(opts.BatchInterval)
	n := 0
	for n < opts.MaxBatch && ctx.Err() == nil {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		ev := c.Poll(int(min(left, 100*time.Millisecond).Milliseconds()) + 1)
		switch e := ev.(type) {
		case *kafka.Message:
			if e.TopicPartition.Error != nil {
				return n, fmt.Errorf("consume %s: %w", e.TopicPartition, e.TopicPartition.Error)
			}
			n++
			handle(eng, e, next, dec, m)
			if n%advanceEvery == 0 {
				// A large catch-up batch still moves the watermark as it goes,
				// so late records are judged and state is bounded within it.
				ends.refresh(ctx, eng, next)
				eng.Advance()
			}
		case kafka.PartitionEOF:
			if e.Topic != nil && !isDimension(eng, strings.TrimPrefix(*e.Topic, opts.TopicPrefix)) {
				ends.reached(eng, window.Partition{Topic: strings.TrimPrefix(*e.Topic, opts.TopicPrefix), Partition: e.Partition}, int64(e.Offset))
			}
		case kafka.Error:
			if e.IsFatal() {
				return n, fmt.Errorf("kafka consumer: %w", e)
			}
			opts.Log.Warn("kafka consumer", "err", e)
		}
	}
	return n, nil
}

func handle(eng *Engine, msg *kafka.Message, next map[string]int64, dec Decoder, m *metrics) {
	topic := strings.TrimPrefix(*msg.TopicPartition.Topic, dec.Prefix)
	part := msg.TopicPartition.Partition
	off := int64(msg.TopicPartition.Offset)
	if isDimension(eng, topic) {
		if f, _, err := Decode(topic, msg.Value); err == nil {
			eng.Dimension(topic, f)
		} else if msg.Value != nil {
			// Enrichment misses this key; silver keeps the record in rejects.
			m.invalid.WithLabelValues(topic).Inc()
		}
		return
	}
	next[tpKey(topic, part)] = off + 1
	f, ts, err := dec.Decode(topic, msg.Value)
	if err != nil {
		m.invalid.WithLabelValues(topic).Inc()
		eng.Invalid(Record{Topic: topic, Partition: part, Offset: off})
		return
	}
	m.records.WithLabelValues(topic).Inc()
	eng.Process(Record{Topic: topic, Partition: part, Offset: off, TS: ts.UnixMilli(), Fields: f})
}

func isDimension(eng *Engine, topic string) bool {
	_, ok := eng.dims[topic]
	return ok
}

func tpKey(topic string, p int32) string { return topic + "/" + strconv.Itoa(int(p)) }

func parseTPKey(k string) (string, int32, bool) {
	i := strings.LastIndexByte(k, '/')
	if i < 0 {
		return "", 0, false
	}
	p, err := strconv.Atoi(k[i+1:])
	return k[:i], int32(p), err == nil
}

// assign assigns every partition of the source topics at the checkpointed
// offsets (or StartAt for partitions without one), and the dimension topics
// at their end (loadDimensions read them already). It returns the next
// offsets map the batches advance, and the set of assigned source
// partitions (tpKey) that discover extends.
func assign(c *kafka.Consumer, eng *Engine, offsets map[string]int64, startAt, prefix string) (map[string]int64, map[string]bool, error) {
	next := map[string]int64{}
	assigned := map[string]bool{}
	var tps []kafka.TopicPartition
	for _, topic := range eng.SourceTopics() {
		t := prefix + topic
		ids, err := partitionIDs(c, t)
		if err != nil {
			return nil, nil, err
		}
		for _, id := range ids {
			off := kafka.OffsetBeginning
			if startAt == "latest" {
				off = kafka.OffsetEnd
			}
			if o, ok := offsets[tpKey(topic, id)]; ok {
				off = kafka.Offset(o)
				next[tpKey(topic, id)] = o
			}
			tps = append(tps, kafka.TopicPartition{Topic: &t, Partition: id, Offset: off})
			assigned[tpKey(topic, id)] = true
			eng.Register(window.Partition{Topic: topic, Partition: id})
		}
	}
	for _, topic := range eng.DimensionTopics() {
		t := prefix + topic
		md, err := c.GetMetadata(&t, false, 10_000)
		if err != nil || md.Topics[t].Error.Code() != kafka.ErrNoError {
			continue // enrichment is optional: the field is then missing
		}
		for _, p := range md.Topics[t].Partitions {
			tps = append(tps, kafka.TopicPartition{Topic: &t, Partition: p.ID, Offset: kafka.OffsetEnd})
		}
	}
	if err := c.Assign(tps); err != nil {
		return nil, nil, fmt.Errorf("assign source partitions: %w", err)
	}
	return next, assigned, nil
}

// partitionIDs lists the partitions of topic t, sorted.
func partitionIDs(c *kafka.Consumer, t string) ([]int32, error) {
	md, err := c.GetMetadata(&t, false, 10_000)
	if err != nil {
		return nil, fmt.Errorf("read metadata of topic %s: %w", t, err)
	}
	tm := md.Topics[t]
	if tm.Error.Code() != kafka.ErrNoError || len(tm.Partitions) == 0 {
		return nil, fmt.Errorf("topic %s: not found (%v)", t, tm.Error)
	}
	ids := make([]int32, 0, len(tm.Partitions))
	for _, p := range tm.Partitions {
		ids = append(ids, p.ID)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// discover assigns the partitions added to a source topic since the job
// assigned its partitions (the consumer is assigned by hand, so no
// rebalance tells it). A new partition is read from its log start, which
// is also put in next at once: the next checkpoint then holds it, and a
// restart before any of its records was read still starts there, not at
// StartAt. It is registered with the watermark tracker, which holds the
// watermark while the partition has unread records.
func discover(c *kafka.Consumer, eng *Engine, assigned map[string]bool, next map[string]int64, prefix string, log *slog.Logger) error {
	var add []kafka.TopicPartition
	for _, topic := range eng.SourceTopics() {
		t := prefix + topic
		ids, err := partitionIDs(c, t)
		if err != nil {
			return err
		}
		for _, id := range ids {
			k := tpKey(topic, id)
			if assigned[k] {
				continue
			}
			low, _, err := c.QueryWatermarkOffsets(t, id, 10_000)
			if err != nil {
				return fmt.Errorf("read start of %s/%d: %w", t, id, err)
			}
			add = append(add, kafka.TopicPartition{Topic: &t, Partition: id, Offset: kafka.Offset(low)})
			next[k] = low
			assigned[k] = true
			eng.Register(window.Partition{Topic: topic, Partition: id})
			eng.Unread(window.Partition{Topic: topic, Partition: id}, true)
			log.Info("new source partition", "topic", t, "partition", id, "offset", low)
		}
	}
	if len(add) == 0 {
		return nil
	}
	if err := c.IncrementalAssign(add); err != nil {
		return fmt.Errorf("assign new source partitions: %w", err)
	}
	return nil
}

// loadDimensions reads the dimension topics from the beginning before
// evaluation starts, so enrichment is complete from the first record. A
// record it cannot decode (not a tombstone) counts in the invalid-records
// metric and is logged: its key goes without enrichment.
func loadDimensions(ctx context.Context, cfg config.Config, eng *Engine, prefix string, m *metrics, log *slog.Logger) error {
	for _, topic := range eng.DimensionTopics() {
		n, undecodable := 0, 0
		err := kafkaio.ReadAll(ctx, cfg.Kafka, prefix+topic, func(msg *kafka.Message) error {
			if f, _, err := Decode(topic, msg.Value); err == nil {
				eng.Dimension(topic, f)
				n++
			} else if msg.Value != nil {
				undecodable++
				m.invalid.WithLabelValues(topic).Inc()
			}
			return nil
		})
		if err != nil {
			log.Warn("load dimension topic", "topic", topic, "err", err)
			continue
		}
		if undecodable > 0 {
			log.Warn("dimension records not decoded (their keys are not enriched)", "topic", topic, "records", undecodable)
		}
		log.Info("loaded dimension topic", "topic", topic, "records", n, "undecodable", undecodable)
	}
	return nil
}

// commitGroupOffsets publishes progress to the consumer group for lag
// monitoring only; the checkpoint is what restarts read.
func commitGroupOffsets(c *kafka.Consumer, next map[string]int64) {
	tps := make([]kafka.TopicPartition, 0, len(next))
	for k, o := range next {
		topic, p, ok := parseTPKey(k)
		if !ok {
			continue
		}
		tps = append(tps, kafka.TopicPartition{Topic: &topic, Partition: p, Offset: kafka.Offset(o)})
	}
	if len(tps) > 0 {
		_, _ = c.CommitOffsets(tps) // monitoring only; the next batch commits again
	}
}
