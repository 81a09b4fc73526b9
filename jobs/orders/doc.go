// Package orders is the order case of weir (issue 17 item 3): a micro-batch
// enrich job that turns app.events into app.events.enriched for downstream
// consumers, and the order marts built in Trino over silver.
//
// Contract:
//   - Enrich reads app.events from its consumer group's committed offsets up
//     to the high watermarks it saw at start, produces every valid event to
//     app.events.enriched (contract events.EnrichedVersion, see the README)
//     keyed by event_id with its item's name and category from dims.items
//     (read in full each run, the last record of a key winning, tombstones
//     deleting), flushes, and only then commits the offsets. A crash before
//     the commit re-produces the same keys with the same bytes, and so does
//     a replay of the same input: consumers keep the last message per key
//     (the topic is compacted), so the topic's distinct content is unchanged.
//     Records that do not parse are counted and skipped (silver.rejects keeps
//     them with their reason).
//   - Marts.Run upserts gold.orders by order id with one Trino MERGE from
//     silver.events and silver.dim_items, then (re)creates the two mart views
//     over it. The merge is monotonic (bought and refunded only turn true,
//     the order time only moves earlier), so replaying input, re-running a
//     run, or events of an order split across runs or tiers never double
//     count or reopen an order: running it twice on the same silver changes
//     no row.
//   - An order counts (closed) when it is not refunded and either it was
//     bought (a buy with status ok), or, when final statuses are configured,
//     one of its events carries one of them in its status field (an extra
//     field of app.events, "order_status" by default).
package orders
