// Package gold builds weir's gold layer (DESIGN §5) in Trino from the SQL in
// sql/gold: views (one file each) and rollup tables (heavy aggregations kept
// as gold Iceberg tables, refreshed incrementally, with views on top).
//
// Contract:
//   - Load reads the definitions and orders them so every object comes after
//     the gold objects it reads; a reference to an undefined gold object, a
//     cycle, a duplicate name or a second statement in a file is an error.
//   - Runner.Apply is idempotent: it creates what is missing, replaces what
//     changed (the fingerprint of the normalized SQL, kept in the object's
//     comment because Trino stores view SQL reformatted) or no longer
//     analyzes, and reports every object as created, replaced or unchanged.
//   - Runner.Refresh recomputes, per rollup, only the UTC days whose source
//     record counts changed since the last refresh (late events included),
//     merging them in one commit per rollup; a crash at any point is repaired
//     by the next run, which recomputes rather than skips.
//   - Schemas are logical in the SQL (silver, gold, archive, bronze); Target
//     maps them to physical schemas, so a test can build gold on schemas of
//     its own next to the shared ones.
//   - A view may read another Trino catalog by three-part name: the
//     pipeline views read the scheduler's store as scheduler.public.*
//     (Trino's read-only "scheduler" catalog, on both stacks). Target does
//     not map those names, a rollup may not read them, and EnsureSources
//     migrates the scheduler store so the views can be created before the
//     scheduler's first start.
package gold
