package stream

import (
	"errors"
	"fmt"
	"time"

	"weir/config"
	"weir/events"
	"weir/lakehouse"
)

// Config tunes the stream job. Zero fields take the defaults of
// DefaultConfig through WithDefaults.
type Config struct {
	// Topics to consume; an entry starting with "^" is a regular
	// expression (all dims.* topics by default).
	Topics []string
	// InstanceID, when set, is the static group membership id
	// (group.instance.id): a restarted instance gets its partitions back
	// at once instead of after a rebalance.
	InstanceID string
	// DeadLetters is the dead-letter table (lakehouse.BronzeDeadLetters;
	// tests use their own).
	DeadLetters string
	// Group is the consumer group (partition split and lag monitoring).
	Group string
	// CommitInterval is the longest a consumed record waits for its commit.
	CommitInterval time.Duration
	// CommitBytes triggers a commit once a batch buffers this much.
	CommitBytes int64
	// MemoryBudget pauses every partition while consumed, uncommitted
	// bytes (the open batch plus the one being committed) reach it.
	MemoryBudget int64
	// MaxRecordBytes is the largest key+value stored in a topic table;
	// larger records go to the dead letters, truncated.
	MaxRecordBytes int
	// Listen is the address where endpoints.Run serves the job's Handler
	// (/metrics, /readyz, /healthz) beside it ("" = off).
	Listen string
	// CommitTimeout bounds one table commit, retries included.
	CommitTimeout time.Duration
	// SessionTimeout is the consumer-group session timeout: how long a
	// silent instance keeps its partitions.
	SessionTimeout time.Duration
	// OnRetentionGap says what to do when Kafka no longer has the next
	// offset a partition's table expects (retention deleted records before
	// the job read them): GapFail (stop with an error naming the hole) or
	// GapRecord (record the hole as a dead letter, count it, go on).
	OnRetentionGap string
	// Hook, when set, is called at the fault points (CrashBeforeCommit,
	// CrashAfterCommit); fault tests use it to SIGKILL or stall the
	// process there (killpoint.At, StallAt).
	Hook func(point string)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// DefaultConfig returns the production defaults.
func DefaultConfig() Config {
	return Config{
		Topics:         []string{events.TopicWebAccess, events.TopicAppEvents, events.TopicAppLogs, events.TopicMetrics, `^dims\..*`},
		DeadLetters:    lakehouse.BronzeDeadLetters,
		Group:          "weir-stream",
		CommitInterval: 3 * time.Second,
		CommitBytes:    64 << 20,
		MemoryBudget:   512 << 20,
		MaxRecordBytes: 4 << 20,
		Listen:         config.StackListen(config.StreamListen),
		CommitTimeout:  2 * time.Minute,
		SessionTimeout: 15 * time.Second,
		OnRetentionGap: GapFail,
	}
}

// WithDefaults fills zero fields from DefaultConfig.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if len(c.Topics) == 0 {
		c.Topics = d.Topics
	}
	if c.Group == "" {
		c.Group = d.Group
	}
	if c.DeadLetters == "" {
		c.DeadLetters = d.DeadLetters
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = d.CommitInterval
	}
	if c.CommitBytes == 0 {
		c.CommitBytes = d.CommitBytes
	}
	if c.MemoryBudget == 0 {
		c.MemoryBudget = d.MemoryBudget
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = d.MaxRecordBytes
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = d.CommitTimeout
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = d.SessionTimeout
	}
	if c.OnRetentionGap == "" {
		c.OnRetentionGap = d.OnRetentionGap
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	switch {
	case len(c.Topics) == 0:
		return errors.New("topics: at least one topic is required")
	case len(lakehouse.Ident(c.DeadLetters)) != 2:
		return fmt.Errorf("dead_letters: %q is not namespace.table", c.DeadLetters)
	case c.Group == "":
		return errors.New("group: must not be empty")
	case c.CommitInterval < 100*time.Millisecond:
		return fmt.Errorf("commit_interval: %s is below 100ms", c.CommitInterval)
	case c.CommitBytes < 1<<20:
		return fmt.Errorf("commit_bytes: %d is below 1 MiB", c.CommitBytes)
	case c.MemoryBudget < 2*c.CommitBytes:
		return fmt.Errorf("memory_budget: %d must be at least twice commit_bytes (%d): one batch commits while the next fills", c.MemoryBudget, c.CommitBytes)
	case c.MaxRecordBytes < 1024:
		return fmt.Errorf("max_record_bytes: %d is below 1 KiB", c.MaxRecordBytes)
	case c.CommitTimeout < time.Second:
		return fmt.Errorf("commit_timeout: %s is below 1s", c.CommitTimeout)
	case c.SessionTimeout < time.Second:
		return fmt.Errorf("session_timeout: %s is below 1s", c.SessionTimeout)
	case c.OnRetentionGap != GapFail && c.OnRetentionGap != GapRecord:
		return fmt.Errorf("on_retention_gap: %q is neither %q nor %q", c.OnRetentionGap, GapFail, GapRecord)
	}
	return nil
}
