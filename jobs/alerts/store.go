package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the alert job's PostgreSQL state: the checkpoint (next offsets,
// one row per job, and the engine state as parts, one row each, of which a
// checkpoint writes only those that changed), the outbox of notifications (unique per
// job and notification ID), records not evaluated (late, future, invalid),
// and each sink's delivery cursor into the outbox.
type Store struct {
	pool *pgxpool.Pool
	job  string
	lock *pgxpool.Conn
}

const schema = `
CREATE TABLE IF NOT EXISTS alerts_checkpoint (
	job        text PRIMARY KEY,
	offsets    jsonb NOT NULL,
	state      bytea NOT NULL,
	watermark  bigint NOT NULL,
	batches    bigint NOT NULL DEFAULT 0,
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS alerts_state (
	job   text NOT NULL,
	part  text NOT NULL,
	value bytea NOT NULL,
	PRIMARY KEY (job, part)
);
CREATE TABLE IF NOT EXISTS alerts_outbox (
	seq          bigserial PRIMARY KEY,
	job          text NOT NULL,
	id           text NOT NULL,
	fingerprint  text NOT NULL,
	status       text NOT NULL,
	starts_at    timestamptz NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	notification jsonb NOT NULL,
	UNIQUE (job, id)
);
CREATE INDEX IF NOT EXISTS alerts_outbox_open ON alerts_outbox (job, fingerprint, starts_at);
CREATE TABLE IF NOT EXISTS alerts_late_records (
	job         text NOT NULL,
	topic       text NOT NULL,
	partition   integer NOT NULL,
	"offset"    bigint NOT NULL,
	event_ts    timestamptz,
	watermark   timestamptz,
	reason      text NOT NULL,
	recorded_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (job, topic, partition, "offset")
);
CREATE TABLE IF NOT EXISTS alerts_sink_cursor (
	job  text NOT NULL,
	sink text NOT NULL,
	seq  bigint NOT NULL,
	PRIMARY KEY (job, sink)
);
`

// ErrLocked means another instance of the same job holds the job lock.
var ErrLocked = errors.New("another instance of the alert job is running")

// OpenStore connects, creates the tables and takes the job's advisory lock,
// held on one connection until Close, so two instances never interleave
// checkpoints.
func OpenStore(ctx context.Context, dsn, job string) (*Store, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open alert state database: %w", err)
	}
	s := &Store{pool: pool, job: job}
	if err := createSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("create alert state tables: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("acquire lock connection: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('weir-alerts/' || $1))`, job).Scan(&ok); err != nil {
		conn.Release()
		pool.Close()
		return nil, fmt.Errorf("take alert job lock: %w", err)
	}
	if !ok {
		conn.Release()
		pool.Close()
		return nil, fmt.Errorf("job %s: %w", job, ErrLocked)
	}
	s.lock = conn
	return s, nil
}

// createSchema creates the tables under a transaction-scoped advisory lock
// (per database schema, as the scheduler store's migrations): PostgreSQL's
// CREATE TABLE IF NOT EXISTS is not safe against itself, so two jobs opening
// a new database at once would otherwise fail on the catalog's unique index.
func createSchema(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '/weir-alerts-schema', 0))`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schema)
		return err
	})
}

// Close releases the lock and the pool.
func (s *Store) Close() {
	if s.lock != nil {
		s.lock.Release()
	}
	s.pool.Close()
}

// Checkpoint is what Load returns.
type Checkpoint struct {
	Offsets map[string]int64 // "topic/partition" → next offset
	// Parts is the engine state (Engine.Parts); State a whole snapshot
	// (Engine.Snapshot) a job wrote before states were stored in parts.
	Parts   map[string][]byte
	State   []byte
	Batches int64
}

// StateDelta is what a checkpoint changes of the stored state parts.
type StateDelta struct {
	Put    map[string][]byte
	Delete []string
}

// Bytes is the size of the parts written.
func (d StateDelta) Bytes() int {
	n := 0
	for _, v := range d.Put {
		n += len(v)
	}
	return n
}

// Load returns the job's checkpoint, or nil when it has none.
func (s *Store) Load(ctx context.Context) (*Checkpoint, error) {
	var raw []byte
	cp := &Checkpoint{}
	err := s.pool.QueryRow(ctx, `SELECT offsets, state, batches FROM alerts_checkpoint WHERE job = $1`, s.job).Scan(&raw, &cp.State, &cp.Batches)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load alert checkpoint: %w", err)
	}
	if err := json.Unmarshal(raw, &cp.Offsets); err != nil {
		return nil, fmt.Errorf("decode alert checkpoint offsets: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT part, value FROM alerts_state WHERE job = $1`, s.job)
	if err != nil {
		return nil, fmt.Errorf("load alert state: %w", err)
	}
	defer rows.Close()
	cp.Parts = map[string][]byte{}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("load alert state: %w", err)
		}
		cp.Parts[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load alert state: %w", err)
	}
	return cp, nil
}

// Save stores one batch atomically: the new offsets, the state parts that
// changed, its notifications (already stored ones are skipped by ID) and
// its unevaluated records. The whole-snapshot column of older jobs is
// emptied: the parts replace it.
func (s *Store) Save(ctx context.Context, offsets map[string]int64, state StateDelta, watermark int64, ns []Notification, late []LateRecord) error {
	rawOffsets, err := json.Marshal(offsets)
	if err != nil {
		return fmt.Errorf("encode offsets: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin alert checkpoint: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO alerts_checkpoint (job, offsets, state, watermark, batches, updated_at)
		VALUES ($1, $2, $3, $4, 1, now())
		ON CONFLICT (job) DO UPDATE SET offsets = $2, state = $3, watermark = $4,
			batches = alerts_checkpoint.batches + 1, updated_at = now()`, s.job, rawOffsets, []byte{}, watermark)
	for _, k := range state.Delete {
		b.Queue(`DELETE FROM alerts_state WHERE job = $1 AND part = $2`, s.job, k)
	}
	for k, v := range state.Put {
		b.Queue(`INSERT INTO alerts_state (job, part, value) VALUES ($1, $2, $3)
			ON CONFLICT (job, part) DO UPDATE SET value = $3`, s.job, k, v)
	}
	for _, n := range ns {
		raw, err := json.Marshal(n)
		if err != nil {
			return fmt.Errorf("encode notification %s: %w", n.ID, err)
		}
		b.Queue(`INSERT INTO alerts_outbox (job, id, fingerprint, status, starts_at, notification)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (job, id) DO NOTHING`,
			s.job, n.ID, n.Fingerprint, n.Status, n.StartsAt, raw)
	}
	for _, l := range late {
		var wm *time.Time
		if l.Watermark > 0 {
			t := time.UnixMilli(l.Watermark).UTC()
			wm = &t
		}
		var ts *time.Time
		if l.TS != 0 {
			t := time.UnixMilli(l.TS).UTC()
			ts = &t
		}
		b.Queue(`INSERT INTO alerts_late_records (job, topic, partition, "offset", event_ts, watermark, reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			s.job, l.Topic, l.Partition, l.Offset, ts, wm, l.Reason)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write alert checkpoint: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit alert checkpoint: %w", err)
	}
	return nil
}

// Stored is one outbox row.
type Stored struct {
	Seq int64
	Notification
}

// Pending returns up to limit outbox rows after sink's cursor, oldest first.
func (s *Store) Pending(ctx context.Context, sink string, limit int) ([]Stored, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, notification FROM alerts_outbox
		WHERE job = $1 AND seq > COALESCE((SELECT seq FROM alerts_sink_cursor WHERE job = $1 AND sink = $2), 0)
		ORDER BY seq LIMIT $3`, s.job, sink, limit)
	if err != nil {
		return nil, fmt.Errorf("read alert outbox for %s: %w", sink, err)
	}
	return scanStored(rows)
}

func scanStored(rows pgx.Rows) ([]Stored, error) {
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var st Stored
		var raw []byte
		if err := rows.Scan(&st.Seq, &raw); err != nil {
			return nil, fmt.Errorf("scan alert outbox: %w", err)
		}
		if err := json.Unmarshal(raw, &st.Notification); err != nil {
			return nil, fmt.Errorf("decode notification %d: %w", st.Seq, err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// Ack moves sink's cursor to seq (never backwards).
func (s *Store) Ack(ctx context.Context, sink string, seq int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO alerts_sink_cursor (job, sink, seq) VALUES ($1, $2, $3)
		ON CONFLICT (job, sink) DO UPDATE SET seq = GREATEST(alerts_sink_cursor.seq, $3)`, s.job, sink, seq)
	if err != nil {
		return fmt.Errorf("advance %s cursor: %w", sink, err)
	}
	return nil
}

// Cursor returns sink's cursor (0 when it has none).
func (s *Store) Cursor(ctx context.Context, sink string) (int64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT seq FROM alerts_sink_cursor WHERE job = $1 AND sink = $2`, s.job, sink).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s cursor: %w", sink, err)
	}
	return seq, nil
}

// Open returns the firing notifications up to seq that no later resolution
// ended (the alerts Alertmanager must keep hearing about), for a sink
// restarting. "Later" by outbox order: an episode late data re-opened fires
// again after its first resolution.
func (s *Store) Open(ctx context.Context, upTo int64) ([]Stored, error) {
	rows, err := s.pool.Query(ctx, `SELECT o.seq, o.notification FROM alerts_outbox o
		WHERE o.job = $1 AND o.seq <= $2 AND o.status = 'firing' AND NOT (o.notification ? 'ends_at')
		AND NOT EXISTS (SELECT 1 FROM alerts_outbox r WHERE r.job = o.job AND r.fingerprint = o.fingerprint
			AND r.starts_at = o.starts_at AND r.status = 'resolved' AND r.seq > o.seq AND r.seq <= $2)
		ORDER BY o.seq`, s.job, upTo)
	if err != nil {
		return nil, fmt.Errorf("read open alerts: %w", err)
	}
	return scanStored(rows)
}

// Reset deletes the job's checkpoint, outbox, late records and cursors (for
// tests and for a deliberate re-evaluation from scratch).
func (s *Store) Reset(ctx context.Context) error {
	for _, t := range []string{"alerts_checkpoint", "alerts_state", "alerts_outbox", "alerts_late_records", "alerts_sink_cursor"} {
		if _, err := s.pool.Exec(ctx, `DELETE FROM `+t+` WHERE job = $1`, s.job); err != nil {
			return fmt.Errorf("reset %s: %w", t, err)
		}
	}
	return nil
}

// Prune deletes outbox rows every sink has delivered and that are older than
// keep, and late records older than keep.
func (s *Store) Prune(ctx context.Context, sinks []string, keep time.Duration) error {
	if len(sinks) == 0 {
		return nil
	}
	cutoff := time.Now().Add(-keep)
	_, err := s.pool.Exec(ctx, `DELETE FROM alerts_outbox WHERE job = $1 AND created_at < $2
		AND seq <= (SELECT COALESCE(MIN(seq), 0) FROM alerts_sink_cursor WHERE job = $1 AND sink = ANY($3))
		AND (SELECT count(*) FROM alerts_sink_cursor WHERE job = $1 AND sink = ANY($3)) = $4`,
		s.job, cutoff, sinks, len(sinks))
	if err != nil {
		return fmt.Errorf("prune alert outbox: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM alerts_late_records WHERE job = $1 AND recorded_at < $2`, s.job, cutoff); err != nil {
		return fmt.Errorf("prune late records: %w", err)
	}
	return nil
}

// Notifications returns the job's stored notifications created since
// (oldest first): what `weir alerts list` shows.
func (s *Store) Notifications(ctx context.Context, since time.Time) ([]Notification, error) {
	rows, err := s.pool.Query(ctx, `SELECT notification FROM alerts_outbox WHERE job = $1 AND created_at >= $2 ORDER BY seq`, s.job, since)
	if err != nil {
		return nil, fmt.Errorf("read alert notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("read alert notifications: %w", err)
		}
		var n Notification
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("decode alert notification: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
