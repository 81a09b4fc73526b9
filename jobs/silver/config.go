package silver

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"weir/config"
	"weir/events"
	"weir/lakehouse"
)

// Sources a run can build (`weir batch silver --source ...`).
const (
	SourceWebAccess = "web_access"
	SourceAppEvents = "app_events"
	SourceAppLogs   = "app_logs"
	SourceMetrics   = "infra_metrics"
	SourceDims      = "dims"
	// SourceAll builds every source, dimensions first.
	SourceAll = "all"
)

// Sources lists every source in build order.
var Sources = []string{SourceDims, SourceWebAccess, SourceAppEvents, SourceAppLogs, SourceMetrics}

// Namespaces names the namespaces a job reads and writes; tests use their
// own so they never touch the shared tables.
type Namespaces struct {
	Bronze, Silver, Archive string
	// BronzePrefix is put before every bronze table name: the tables the
	// stream job writes for topics with a prefix (topic "t1.app.events"
	// lands in bronze.t1_app_events: prefix "t1_"), so tests and
	// benchmarks can build silver from a real stream job next to the
	// running pipeline.
	BronzePrefix string
}

// DefaultNamespaces are the medallion namespaces.
func DefaultNamespaces() Namespaces {
	return Namespaces{Bronze: lakehouse.Bronze, Silver: lakehouse.Silver, Archive: lakehouse.Archive}
}

// Table maps a canonical table name ("silver.events", "bronze.app_events",
// "archive.events") into these namespaces.
func (n Namespaces) Table(canonical string) string {
	ns, name, _ := strings.Cut(canonical, ".")
	switch ns {
	case lakehouse.Bronze:
		ns, name = n.Bronze, n.BronzePrefix+name
	case lakehouse.Silver:
		ns = n.Silver
	case lakehouse.Archive:
		ns = n.Archive
	}
	return ns + "." + name
}

// Config tunes a silver job. The zero value plus Lake is usable.
type Config struct {
	Namespaces Namespaces
	// MaxFuture is how far an event time may lie after the record's bronze
	// ingested_at before the record goes to silver.rejects with class
	// "future" instead of a hot partition (default events.DefaultMaxFuture,
	// the alert job's max_future default too).
	MaxFuture time.Duration
	// ChunkRows bounds the bronze rows one commit covers (default 500,000);
	// a chunk never splits a bronze snapshot.
	ChunkRows int64
	// Parallel bounds the event sources a SourceAll run builds at the same
	// time, after dims (default 2). Memory grows with it: each source holds
	// up to ChunkRows parsed rows (about 1 KB each, a third of it the raw
	// payload). On the 2-core benchmark machine, 4 was no faster than 2.
	Parallel int
	// MaxRuns bounds how often a run starts over because a concurrent run
	// moved a table's position (default 10).
	MaxRuns int
	// Promote lists, per source, fields of its extra column that become
	// typed columns of the main table (config.Config.Promote): the table's
	// schema evolves on the next run. Every column a table has beyond the
	// model's is filled from extra, promoted here or in an earlier run.
	Promote map[string][]config.Promoted
	// RunID is recorded in the summary of every commit (the scheduler's
	// WEIR_RUN_ID), to trace a snapshot back to its DAG run.
	RunID string
	// AccessFormats are the declared access-log formats by topic
	// (config.Config.AccessFormats); a topic without one, and every topic
	// when nil, reads the default format.
	AccessFormats events.AccessFormats
	Now           func() time.Time
	Log           *slog.Logger
}

// DefaultConfig returns the tuning defaults New gives zero fields (the
// command's flags start from them).
func DefaultConfig() Config {
	return Config{MaxFuture: events.DefaultMaxFuture, ChunkRows: 500_000}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Namespaces == (Namespaces{}) {
		c.Namespaces = DefaultNamespaces()
	}
	if c.MaxFuture <= 0 {
		c.MaxFuture = d.MaxFuture
	}
	if c.ChunkRows <= 0 {
		c.ChunkRows = d.ChunkRows
	}
	if c.Parallel <= 0 {
		c.Parallel = 2
	}
	if c.MaxRuns <= 0 {
		c.MaxRuns = 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// ValidateSource names a bad --source value.
func ValidateSource(s string) error {
	if s == SourceAll {
		return nil
	}
	for _, k := range Sources {
		if s == k {
			return nil
		}
	}
	return fmt.Errorf("source %q: want one of %s or %s", s, strings.Join(Sources, ", "), SourceAll)
}

// bronzeTable is the canonical bronze table of a source.
func bronzeTable(source string) string {
	switch source {
	case SourceWebAccess:
		return lakehouse.BronzeWebAccess
	case SourceAppEvents:
		return lakehouse.BronzeAppEvents
	case SourceAppLogs:
		return lakehouse.BronzeAppLogs
	case SourceMetrics:
		return lakehouse.BronzeMetrics
	default:
		return lakehouse.BronzeDims
	}
}

// mainTable is the canonical typed silver table of an event source.
func mainTable(source string) string {
	switch source {
	case SourceWebAccess:
		return lakehouse.SilverAccessLogs
	case SourceAppEvents:
		return lakehouse.SilverEvents
	case SourceAppLogs:
		return lakehouse.SilverLogs
	case SourceMetrics:
		return lakehouse.SilverMetrics
	}
	return ""
}
