// Package stream is weir's bronze stream job (DESIGN §3): it consumes the
// source topics and lands every record, as-is, in one bronze Iceberg table
// per topic (lakehouse.BronzeTable), with its Kafka coordinates, ingestion
// time and a best-effort event time, exactly once.
//
// Contract:
//   - The table is the source of truth for positions. Every bronze commit
//     records in its snapshot summary the next offset of every partition the
//     table has ever covered (lakehouse.SummaryOffsetPrefix) and a commit id.
//     On start and after every rebalance a partition resumes from its topic
//     table's recorded offset (the log start when there is none), never from
//     the consumer group; group offsets are committed after the table commit,
//     for lag monitoring only.
//   - A commit adds, per partition, only records at or above the offset the
//     table recorded when the commit is attempted (re-checked on every retry
//     against the reloaded table), so a stale instance that lost its
//     partitions, a restart after SIGKILL or a re-read after a rebalance never
//     adds a record twice; Kafka offsets are immutable, so whichever writer
//     lands an offset first wins. A batch that would leave a hole (its first
//     offset above the recorded one) is dropped and the partition re-read.
//   - Records that cannot be stored as-is (larger than MaxRecordBytes,
//     headers that are not UTF-8) go to bronze.dead_letters with a reason and
//     their coordinates. Per flush, dead letters commit before the topic
//     tables and carry their own offsets, so a record lands in exactly one of
//     the two.
//   - Commits are triggered by time (CommitInterval) and size (CommitBytes);
//     one flush is in flight while the next batch fills; when buffered bytes
//     reach MemoryBudget all partitions are paused until a flush completes.
//   - Run returns when ctx is cancelled, after committing what it consumed.
//   - /metrics serves Prometheus metrics, /readyz answers 200 while the job
//     is subscribed, /healthz while it runs, /debug/pprof/ profiles it.
package stream
