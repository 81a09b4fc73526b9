// Package silver builds weir's silver tables (DESIGN §4) from bronze:
// typed, validated, deduplicated rows partitioned by day(event_ts), with
// rejects kept in silver.rejects.
//
// Contract:
//   - Incremental. Every silver commit records, per bronze table it reads,
//     the bronze snapshot it is built up to (lakehouse.SourceSnapshotKey).
//     A run reads only the data files added by bronze append snapshots after
//     that one (what iceberg-go's incremental append scan selects, planned
//     with concurrent manifest reads); compaction and expiry snapshots
//     (replace, delete) are never read again, so bronze maintenance cannot
//     make silver re-read rows.
//   - Exactly once. Each target table (the typed table, silver.rejects, the
//     dimension tables) keeps its own position, and a commit is accepted
//     only if the table's position is still the one the rows were computed
//     from (re-checked on every commit retry against the reloaded table);
//     otherwise the run starts over from the new position. Two concurrent
//     runs, a re-run, or a crash between the rejects and the typed commit
//     therefore never add a row twice nor skip one.
//   - Dedup: app events on event_id (within the run, and against the rows
//     already in the hot table and its archive twin for the days touched);
//     other topics on their bronze coordinates, which the incremental
//     position makes unique; dimensions on their key (the newest record
//     wins, an empty payload deletes the key).
//   - Records that fail parsing or validation go to silver.rejects with
//     their source coordinates, reason, error class and raw payload. A
//     record whose event time lies more than MaxFuture after its bronze
//     ingested_at (a producer with a wrong clock) goes there too, class
//     "future", so it never creates a hot partition days ahead; is_future
//     stays in the schemas and is always false. Late records land in their
//     own old day partition.
//   - Enrichment: silver.events carries item name/category and provider
//     name/kind looked up in silver.dim_* as of the run (an app_events run
//     builds the dimensions first).
//   - Runs commit in chunks of bronze snapshots (Config.ChunkRows), so
//     memory stays bounded and a long backlog makes progress commit by
//     commit. A run of every source builds dims first, then the event
//     sources concurrently (Config.Parallel); within a chunk, parsing,
//     writing and the commits of its target tables run concurrently too.
//     Data files are sorted by the table's sort order within a partition.
package silver
