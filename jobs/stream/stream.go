package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"weir/config"
	"weir/kafkaio"
	"weir/lakehouse"
)

// Job is one instance of the stream job.
type Job struct {
	cfg     Config
	kafka   config.Kafka
	lake    *lakehouse.Lakehouse
	log     *slog.Logger
	metrics *metrics
	commit  *committer

	consumer *kafka.Consumer
	// assigned maps every owned partition to the next offset the job
	// expects from it (fromBeginning until the first record).
	assigned map[lakehouse.TopicPartition]int64
	open     *batch
	inflight *inflight
	paused   bool
	// fatal is an error raised inside the rebalance callback.
	fatal error
}

type inflight struct {
	b    *batch
	done chan struct{}
	res  flushResult
	err  error
}

// New prepares a job; Run starts it. endpoints.Run serves Handler on
// cfg.Listen beside it.
func New(cfg Config, kcfg config.Kafka, lake *lakehouse.Lakehouse, log *slog.Logger) (*Job, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("stream config: %w", err)
	}
	m := newMetrics()
	// Until its first commit the job's start counts as its last one, so a
	// job that never manages to commit is caught as well.
	m.lastCommitUnix.Store(cfg.Now().Unix())
	return &Job{
		cfg:      cfg,
		kafka:    kcfg,
		lake:     lake,
		log:      log,
		metrics:  m,
		commit:   &committer{lake: lake, metrics: m, log: log, now: cfg.Now, hook: cfg.Hook, dead: cfg.DeadLetters},
		assigned: map[lakehouse.TopicPartition]int64{},
		open:     newBatch(),
	}, nil
}

// Run consumes until ctx is cancelled, then commits what it consumed and
// leaves the group. It returns the first error that makes exactly-once
// unsafe to continue (a commit that failed after its retries); the next
// start resumes from the tables.
func (j *Job) Run(ctx context.Context) (err error) {
	ctx, err = j.lake.WithS3Client(ctx)
	if err != nil {
		return err
	}
	if err := EnsureTables(ctx, j.lake, j.cfg.Topics, j.cfg.DeadLetters); err != nil {
		return err
	}
	c, err := newConsumer(j.kafka, j.cfg.Group, j.cfg.InstanceID, j.cfg.SessionTimeout)
	if err != nil {
		return err
	}
	j.consumer = c
	if err := c.SubscribeTopics(j.cfg.Topics, j.rebalance); err != nil {
		c.Close()
		return fmt.Errorf("subscribe to %v: %w", j.cfg.Topics, err)
	}
	j.metrics.ready.Store(true)
	j.log.Info("stream started", "topics", j.cfg.Topics, "group", j.cfg.Group,
		"commit_interval", j.cfg.CommitInterval, "memory_budget", j.cfg.MemoryBudget)

	runErr := j.loop(ctx)
	j.metrics.ready.Store(false)
	if runErr == nil {
		runErr = j.shutdown(ctx)
	}
	// Close leaves the group; the revoke it triggers finds nothing buffered.
	if err := c.Close(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("close consumer: %w", err))
	}
	return runErr
}

// Handler serves /healthz, /readyz (ready once the partitions are assigned
// and resumed), /metrics and pprof.
func (j *Job) Handler() http.Handler { return j.metrics.handler() }

func (j *Job) loop(ctx context.Context) error {
	for ctx.Err() == nil {
		ev := j.consumer.Poll(100)
		if j.fatal != nil {
			return j.fatal
		}
		switch e := ev.(type) {
		case *kafka.Message:
			if err := e.TopicPartition.Error; err != nil {
				if err := j.consumeError(err); err != nil {
					return err
				}
				break
			}
			j.add(e)
		case kafka.Error:
			if err := j.consumeError(e); err != nil {
				return err
			}
		}
		if err := j.step(ctx, false); err != nil {
			return err
		}
	}
	return nil
}

// consumeError handles an error the consumer reports, as an event or on a
// partition's fetch. A position below the log start (auto.offset.reset is
// "error") is a retention gap; other errors are logged and librdkafka
// retries them, unless they are fatal.
func (j *Job) consumeError(err error) error {
	var ke kafka.Error
	if !errors.As(err, &ke) {
		j.log.Warn("kafka consumer error", "err", err)
		return nil
	}
	switch {
	case ke.IsFatal():
		return fmt.Errorf("kafka consumer: %w", ke)
	case ke.Code() == kafka.ErrAutoOffsetReset || ke.Code() == kafka.ErrOffsetOutOfRange:
		return j.retentionGaps()
	}
	j.log.Warn("kafka consumer error", "err", ke, "code", ke.Code().String())
	return nil
}

// retentionGaps finds the owned partitions whose next offset lies below
// their log start: Kafka deleted records the job had not read (or above
// its end: the log lost records the table holds, an error). Never a
// silent jump: the job stops with a RetentionGap naming the hole, or, with
// OnRetentionGap=record, records the hole as one dead letter (so the
// tables move past it exactly once), counts it and reads on from the log
// start.
func (j *Job) retentionGaps() error {
	for _, tp := range lakehouse.SortedPartitions(j.assigned) {
		pos := j.assigned[tp]
		if pos == fromBeginning {
			continue
		}
		low, high, err := j.consumer.QueryWatermarkOffsets(tp.Topic, tp.Partition, 10_000)
		if err != nil {
			return fmt.Errorf("read the log start of %s partition %d: %w", tp.Topic, tp.Partition, err)
		}
		if pos > high {
			// Also out of range, and no gap to record: the log lost its end.
			return fmt.Errorf("%s partition %d ends at offset %d, but its table already holds offsets up to %d: "+
				"the topic was deleted and created again, or its log was truncated (unclean leader election); "+
				"new records at those offsets would be dropped as already stored", tp.Topic, tp.Partition, high, pos)
		}
		if low <= pos {
			continue
		}
		gap := &RetentionGap{Topic: tp.Topic, Partition: tp.Partition, From: pos, To: low}
		j.metrics.gapRecords.WithLabelValues(tp.Topic).Add(float64(gap.To - gap.From))
		if j.cfg.OnRetentionGap != GapRecord {
			return gap
		}
		j.log.Error("retention gap recorded in the dead letters", "topic", tp.Topic, "partition", tp.Partition, "from", gap.From, "to", gap.To)
		now := j.cfg.Now()
		j.open.add(tp, pos, gap.deadLetter(now), true, now)
		j.metrics.deadLetters.WithLabelValues(tp.Topic, ReasonRetentionGap).Inc()
		j.assigned[tp] = low
		// A partition stopped by an offset reset takes no seek: it is
		// assigned again at its log start.
		one := []kafka.TopicPartition{kafkaTP(tp, kafka.OffsetInvalid)}
		if err := j.consumer.IncrementalUnassign(one); err != nil {
			return fmt.Errorf("unassign %s partition %d: %w", tp.Topic, tp.Partition, err)
		}
		one[0].Offset = kafka.Offset(low)
		if err := j.consumer.IncrementalAssign(one); err != nil {
			return fmt.Errorf("assign %s partition %d at its log start %d: %w", tp.Topic, tp.Partition, low, err)
		}
	}
	return nil
}

// step reaps a finished flush, starts the next one when the open batch is
// due, and applies the memory budget.
func (j *Job) step(ctx context.Context, wait bool) error {
	if f := j.inflight; f != nil {
		if wait {
			<-f.done
		}
		select {
		case <-f.done:
			j.inflight = nil
			if f.err != nil {
				return f.err
			}
			j.applied(f.res)
		default:
		}
	}
	now := j.cfg.Now()
	if j.inflight == nil && j.open.records > 0 &&
		(now.Sub(j.open.opened) >= j.cfg.CommitInterval || j.open.bytes >= j.cfg.CommitBytes) {
		j.startFlush(ctx)
	}
	j.budget()
	return nil
}

func (j *Job) startFlush(ctx context.Context) {
	b := j.open
	j.open = newBatch()
	f := &inflight{b: b, done: make(chan struct{})}
	j.inflight = f
	go func() {
		defer close(f.done)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), j.cfg.CommitTimeout)
		defer cancel()
		start := j.cfg.Now()
		f.res, f.err = j.commit.flush(cctx, b)
		j.metrics.flushSeconds.Observe(j.cfg.Now().Sub(start).Seconds())
	}()
}

// applied finishes a successful flush on the consumer side: group offsets
// for monitoring, lag, re-reads of fenced partitions, memory.
func (j *Job) applied(res flushResult) {
	j.metrics.lastCommitUnix.Store(j.cfg.Now().Unix())
	var offsets []kafka.TopicPartition
	for tp, next := range res.next {
		if _, owned := j.assigned[tp]; !owned {
			continue
		}
		offsets = append(offsets, kafkaTP(tp, kafka.Offset(next)))
		if _, high, err := j.consumer.GetWatermarkOffsets(tp.Topic, tp.Partition); err == nil && high >= 0 {
			j.metrics.lag.WithLabelValues(tp.Topic, strconv.Itoa(int(tp.Partition))).Set(float64(max(high-next, 0)))
		}
	}
	if len(offsets) > 0 {
		// Stored locally and committed by librdkafka in the background: a
		// slow group coordinator must not stall consumption for offsets
		// that only feed lag monitoring.
		if _, err := j.consumer.StoreOffsets(offsets); err != nil {
			j.log.Debug("store group offsets (monitoring only)", "err", err)
		}
	}
	for tp, from := range res.resync {
		if _, owned := j.assigned[tp]; !owned {
			continue
		}
		j.log.Warn("re-reading partition: its table is behind the batch", "topic", tp.Topic, "partition", tp.Partition, "offset", from)
		j.open.drop(tp)
		j.assigned[tp] = from
		if err := j.consumer.Seek(kafkaTP(tp, kafka.Offset(from)), 0); err != nil {
			j.fatal = fmt.Errorf("seek %s to %d: %w", tp, from, err)
		}
	}
}

// budget pauses all partitions while buffered bytes reach the budget.
func (j *Job) budget() {
	buffered := j.open.bytes
	if j.inflight != nil {
		buffered += j.inflight.b.bytes
	}
	j.metrics.bufferedBytes.Set(float64(buffered))
	switch {
	case !j.paused && buffered >= j.cfg.MemoryBudget:
		j.setPaused(true)
	case j.paused && buffered < j.cfg.MemoryBudget*3/4:
		j.setPaused(false)
	}
}

func (j *Job) setPaused(paused bool) {
	tps := j.assignment()
	var err error
	if paused {
		err = j.consumer.Pause(tps)
	} else {
		err = j.consumer.Resume(tps)
	}
	if err != nil {
		j.log.Warn("pause/resume partitions", "paused", paused, "err", err)
		return
	}
	j.paused = paused
	j.metrics.paused.Set(map[bool]float64{false: 0, true: 1}[paused])
	j.log.Info("memory budget", "paused", paused, "partitions", len(tps))
}

func (j *Job) assignment() []kafka.TopicPartition {
	out := make([]kafka.TopicPartition, 0, len(j.assigned))
	for _, tp := range lakehouse.SortedPartitions(j.assigned) {
		out = append(out, kafkaTP(tp, kafka.OffsetInvalid))
	}
	return out
}

// add buffers one consumed message.
func (j *Job) add(m *kafka.Message) {
	if m.TopicPartition.Topic == nil {
		return
	}
	tp := lakehouse.TopicPartition{Topic: *m.TopicPartition.Topic, Partition: m.TopicPartition.Partition}
	pos, owned := j.assigned[tp]
	off := int64(m.TopicPartition.Offset)
	if !owned || (pos != fromBeginning && off < pos) {
		// Delivered before a revoke or seek took effect: not ours, or
		// already buffered.
		return
	}
	msg := Message{Topic: tp.Topic, Partition: tp.Partition, Offset: off, Key: m.Key, Value: m.Value}
	if m.TimestampType != kafka.TimestampNotAvailable {
		msg.Timestamp = m.Timestamp
	}
	if len(m.Headers) > 0 {
		msg.Headers = make([]Header, len(m.Headers))
		for i, h := range m.Headers {
			msg.Headers[i] = Header{Key: h.Key, Value: h.Value}
		}
	}
	now := j.cfg.Now()
	r, dead := toRow(&msg, now, j.cfg.MaxRecordBytes)
	j.open.add(tp, pos, r, dead, now)
	j.assigned[tp] = off + 1
	j.metrics.consumed.WithLabelValues(tp.Topic).Inc()
	if dead {
		reason := r.reason
		if len(reason) >= len(ReasonOversized) && reason[:len(ReasonOversized)] == ReasonOversized {
			reason = ReasonOversized
		}
		j.metrics.deadLetters.WithLabelValues(tp.Topic, reason).Inc()
		j.log.Debug("dead letter", "topic", tp.Topic, "partition", tp.Partition, "offset", off, "reason", r.reason)
	}
}

// rebalance runs inside Poll. Assignments resume from the offsets the
// tables record; revocations drop what was buffered for the partitions
// (their new owner re-reads it from the tables' offsets).
func (j *Job) rebalance(c *kafka.Consumer, ev kafka.Event) error {
	cooperative := c.GetRebalanceProtocol() == "COOPERATIVE"
	switch e := ev.(type) {
	case kafka.AssignedPartitions:
		j.metrics.rebalances.WithLabelValues("assign").Inc()
		// No waiting for a commit in flight: a stalled commit would hold up
		// the whole group's rebalance. If it covers a partition assigned
		// here, the rows read again are dropped by the fence.
		tps, err := j.startOffsets(e.Partitions)
		if err != nil {
			j.fatal = err
			return err
		}
		if cooperative {
			err = c.IncrementalAssign(tps)
		} else {
			err = c.Assign(tps)
		}
		if err != nil {
			j.fatal = fmt.Errorf("assign partitions: %w", err)
			return j.fatal
		}
		if j.paused {
			if err := c.Pause(tps); err != nil {
				j.log.Warn("pause new partitions", "err", err)
			}
		}
		for _, tp := range tps {
			start := int64(tp.Offset)
			if tp.Offset == kafka.OffsetBeginning {
				start = fromBeginning
			}
			j.assigned[lakehouse.TopicPartition{Topic: *tp.Topic, Partition: tp.Partition}] = start
			j.log.Info("partition assigned", "topic", *tp.Topic, "partition", tp.Partition, "offset", tp.Offset.String())
		}
	case kafka.RevokedPartitions:
		j.metrics.rebalances.WithLabelValues("revoke").Inc()
		for _, ktp := range e.Partitions {
			tp := lakehouse.TopicPartition{Topic: *ktp.Topic, Partition: ktp.Partition}
			j.open.drop(tp)
			delete(j.assigned, tp)
			j.log.Info("partition revoked", "topic", tp.Topic, "partition", tp.Partition, "lost", c.AssignmentLost())
		}
		var err error
		if cooperative {
			err = c.IncrementalUnassign(e.Partitions)
		} else {
			err = c.Unassign()
		}
		if err != nil {
			j.log.Warn("unassign partitions", "err", err)
		}
	}
	j.metrics.assigned.Set(float64(len(j.assigned)))
	return nil
}

// startOffsets sets the offset of every partition to what its topic table
// records, or the beginning of the log when the table records nothing.
func (j *Job) startOffsets(tps []kafka.TopicPartition) ([]kafka.TopicPartition, error) {
	ctx, cancel := context.WithTimeout(context.Background(), j.cfg.CommitTimeout)
	defer cancel()
	recorded := map[string]map[lakehouse.TopicPartition]int64{}
	out := make([]kafka.TopicPartition, len(tps))
	for i, ktp := range tps {
		tp := lakehouse.TopicPartition{Topic: *ktp.Topic, Partition: ktp.Partition}
		name := lakehouse.BronzeTable(tp.Topic)
		offsets, ok := recorded[name]
		if !ok {
			var err error
			offsets, err = tableOffsets(ctx, j.lake, name)
			if err != nil {
				return nil, err
			}
			recorded[name] = offsets
		}
		out[i] = kafkaTP(tp, kafka.OffsetBeginning)
		if next, ok := offsets[tp]; ok {
			out[i].Offset = kafka.Offset(next)
		}
	}
	return out, nil
}

// tableOffsets reads the offsets a bronze table records; none if the table
// does not exist yet.
func tableOffsets(ctx context.Context, lake *lakehouse.Lakehouse, name string) (map[lakehouse.TopicPartition]int64, error) {
	tbl, err := lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return map[lakehouse.TopicPartition]int64{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load offsets of %s: %w", name, err)
	}
	return lakehouse.RecordedOffsets(tbl), nil
}

// EnsureTables creates the bronze namespace and tables the job will write
// (the topic tables of topics, bronze.dims for a dims regex, the dead
// letters), so views over them can be defined before the first record.
func EnsureTables(ctx context.Context, lake *lakehouse.Lakehouse, topics []string, deadLetters string) error {
	if err := lake.EnsureNamespaces(ctx); err != nil {
		return err
	}
	names := map[string]bool{deadLetters: true}
	for _, t := range topics {
		switch {
		case strings.HasPrefix(t, "^dims"):
			names[lakehouse.BronzeDims] = true
		case !strings.HasPrefix(t, "^"):
			names[lakehouse.BronzeTable(t)] = true
		}
	}
	for name := range names {
		ident := lakehouse.Ident(name)
		spec := lakehouse.BronzeTableSpec(name == deadLetters)
		spec.Location = lake.TableLocation(ident[0], ident[1])
		if _, err := lakehouse.LoadOrCreate(ctx, lake.Catalog, ident, spec); err != nil {
			return err
		}
	}
	return nil
}

// shutdown commits the open batch after the one in flight.
func (j *Job) shutdown(ctx context.Context) error {
	if err := j.step(ctx, true); err != nil {
		return err
	}
	if j.open.records == 0 {
		return nil
	}
	j.log.Info("flushing before exit", "records", j.open.records)
	j.startFlush(ctx)
	return j.step(ctx, true)
}

func kafkaTP(tp lakehouse.TopicPartition, offset kafka.Offset) kafka.TopicPartition {
	topic := tp.Topic
	return kafka.TopicPartition{Topic: &topic, Partition: tp.Partition, Offset: offset}
}

// Offsets returns the offsets the topic tables record for topics, for
// tests and tooling.
func Offsets(ctx context.Context, lake *lakehouse.Lakehouse, topics []string) (map[lakehouse.TopicPartition]int64, error) {
	out := map[lakehouse.TopicPartition]int64{}
	seen := map[string]bool{}
	for _, t := range topics {
		name := lakehouse.BronzeTable(t)
		if seen[name] {
			continue
		}
		seen[name] = true
		offs, err := tableOffsets(ctx, lake, name)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, offs)
	}
	return out, nil
}

// newConsumer opens the job's consumer through kafkaio. Group offsets are
// for monitoring only: the job stores them after each table commit (the
// automatic offset store stays off) and librdkafka commits what was stored
// in the background. Cooperative rebalancing keeps unaffected partitions
// flowing during a rebalance.
func newConsumer(k config.Kafka, group, instance string, session time.Duration) (*kafka.Consumer, error) {
	overrides := kafka.ConfigMap{
		"enable.auto.commit":            true, // commits only what StoreOffsets stored
		"auto.commit.interval.ms":       5000,
		"partition.assignment.strategy": "cooperative-sticky",
		"session.timeout.ms":            int(session.Milliseconds()),
		"queued.max.messages.kbytes":    32768,
		"fetch.max.bytes":               16 << 20,
		"client.id":                     "weir-stream",
		// A position Kafka no longer has is a retention gap the job must
		// see (retentionGaps), never a silent jump to the log start.
		"auto.offset.reset": "error",
	}
	if instance != "" {
		overrides["group.instance.id"] = instance
	}
	return kafkaio.NewConsumer(k, group, overrides)
}
