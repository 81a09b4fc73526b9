package lakehouse

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
)

// SummaryCommitID is the snapshot-summary key that carries the id of the weir
// commit which produced a snapshot. Commit writes it into every snapshot it
// creates, and looks for it to resolve an ambiguous commit outcome.
const SummaryCommitID = "weir.commit-id"

// ErrNothingToCommit may be returned by a BuildFunc to end Commit without a
// snapshot, e.g. when everything it was about to append is already in the
// table. Commit then returns a nil error and a result without a snapshot.
var ErrNothingToCommit = errors.New("nothing to commit")

// TableSpec describes a table Commit creates on first use. Properties are
// set at creation only; columns of Schema that an existing table lacks are
// added (by name, without rewriting data).
type TableSpec struct {
	Schema     *iceberg.Schema
	Spec       iceberg.PartitionSpec
	SortOrder  table.SortOrder
	Properties iceberg.Properties
	// Location is where the table lives; Lakehouse.Commit fills it from
	// TableLocation when empty.
	Location string
}

// Attempt is one try of a commit. A BuildFunc stages its changes on Tx and
// must pass Summary (or a superset of it) as the snapshot properties of every
// snapshot-producing call (AddDataFiles, Append, ReplaceDataFiles, ...).
type Attempt struct {
	// Number counts attempts from 1.
	Number int
	// Table is the table state the attempt builds on: on a retry it is the
	// table reloaded from the catalog, so checks made against it (e.g. the
	// offsets already recorded) are current.
	Table *table.Table
	// Tx is a fresh transaction on Table.
	Tx *table.Transaction
	// Summary holds the caller's summary properties plus SummaryCommitID.
	Summary iceberg.Properties
}

// BuildFunc stages one attempt's changes. It is called again, with a fresh
// transaction on the reloaded table, after every failed attempt, so it must
// not assume that state from an earlier attempt still holds.
type BuildFunc func(ctx context.Context, a *Attempt) error

// CommitOptions tune Commit. The zero value is usable.
type CommitOptions struct {
	// CommitID identifies the commit in the snapshot summary; a random
	// UUID when empty. Reusing an id makes Commit a no-op once a snapshot
	// carrying it is found after an ambiguous outcome.
	CommitID string
	// Summary is added to the snapshot summary of every snapshot.
	Summary map[string]string
	// Create, when set, creates the table on first use.
	Create *TableSpec
	// MaxAttempts bounds the attempts (default 10).
	MaxAttempts int
	// Backoff is the wait before the second attempt; it doubles up to
	// MaxBackoff (defaults 100ms and 5s).
	Backoff, MaxBackoff time.Duration
	// OnRetry, when set, is called after every failed attempt; conflict
	// tells a clean optimistic-concurrency conflict from an outcome that
	// had to be resolved by looking for the commit id.
	OnRetry func(attempt int, conflict bool, err error)
	// Hook, when set, is called at PointCommitBuilt and PointCommitted
	// (Lakehouse.Commit passes the lakehouse's).
	Hook func(point string)
}

// Fault points of a commit, for Hook: a SIGKILL at any of them must
// neither lose nor repeat a row.
const (
	// PointCommitBuilt: the attempt's data files are written and its
	// changes staged; the catalog has not been asked.
	PointCommitBuilt = "commit-built"
	// PointMetadataWritten: the new table metadata file is in object
	// storage; the catalog's compare-and-swap to it has not been sent.
	PointMetadataWritten = "metadata-written"
	// PointCommitted: the catalog switched to the new metadata; the
	// caller has not heard of it.
	PointCommitted = "committed"
)

// CommitResult reports what Commit did.
type CommitResult struct {
	CommitID string
	// Table is the table after the commit (or as last loaded).
	Table *table.Table
	// Snapshot is the snapshot carrying CommitID; nil when nothing was
	// committed (ErrNothingToCommit).
	Snapshot *table.Snapshot
	// Attempts is how many attempts were made.
	Attempts int
	// Recovered is true when the commit was found in the table after an
	// attempt whose outcome was unknown.
	Recovered bool
}

func (o CommitOptions) withDefaults() CommitOptions {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Second
	}
	if o.CommitID == "" {
		o.CommitID = uuid.NewString()
	}
	return o
}

// Commit is weir's one way to change a table. It loads the table (creating it
// from opts.Create on first use), lets build stage changes on a fresh
// transaction and commits it, with the commit id in the snapshot summary.
//
// Every failure of the catalog commit is followed by a reload of the table:
//   - if a snapshot carrying the commit id is among the ancestors added since
//     the attempt's base, the commit did happen (a timeout, a dropped
//     connection or a 5xx after the catalog accepted it) and Commit returns it;
//   - otherwise the attempt did not commit — a conflict with a concurrent
//     writer (table.ErrCommitFailed, a failed requirement) or an error before
//     the catalog switched metadata — and build runs again on the reloaded
//     table, after a backoff.
//
// iceberg-go's own retry (commit.retry.num-retries) defaults to 0; Commit
// retries explicitly so that build can re-check its preconditions against the
// current table on every attempt. Errors from build end Commit at once. A
// catalog that cannot be reached (Unavailable) is waited for until ctx
// ends, without using up attempts.
//
// ctx should outlive a shutdown signal (context.WithoutCancel plus a
// timeout): cancelling it in the middle of a catalog commit makes the outcome
// unknown until the next reload.
func Commit(ctx context.Context, cat catalog.Catalog, ident table.Identifier, build BuildFunc, opts CommitOptions) (CommitResult, error) {
	opts = opts.withDefaults()
	res := CommitResult{CommitID: opts.CommitID}
	name := strings.Join(ident, ".")

	wait := opts.Backoff
	backoff := func(lastErr error) error {
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("commit %s to %s: %w (last error: %w)", opts.CommitID, name, err, lastErr)
		}
		wait = min(2*wait, opts.MaxBackoff)
		return nil
	}

	// The catalog being away (its database restarting, a network blip)
	// is waited out until ctx ends; it does not use up attempts.
	tbl, err := LoadOrCreate(ctx, cat, ident, opts.Create)
	for err != nil && Unavailable(err) {
		if opts.OnRetry != nil {
			opts.OnRetry(0, false, err)
		}
		if berr := backoff(err); berr != nil {
			return res, berr
		}
		tbl, err = LoadOrCreate(ctx, cat, ident, opts.Create)
	}
	if err != nil {
		return res, err
	}
	res.Table = tbl

	var lastErr error
	for attempt := 1; attempt <= opts.MaxAttempts; {
		if lastErr != nil {
			if err := backoff(lastErr); err != nil {
				return res, err
			}
		}
		res.Attempts = attempt

		var base *int64
		if s := tbl.CurrentSnapshot(); s != nil {
			id := s.SnapshotID
			base = &id
		}
		a := &Attempt{Number: attempt, Table: tbl, Tx: tbl.NewTransaction(), Summary: summaryWithID(opts.Summary, opts.CommitID)}
		if err := build(ctx, a); err != nil {
			if errors.Is(err, ErrNothingToCommit) {
				return res, nil
			}
			return res, fmt.Errorf("build commit %s for %s: %w", opts.CommitID, name, err)
		}

		if opts.Hook != nil {
			opts.Hook(PointCommitBuilt)
		}
		committed, err := a.Tx.Commit(ctx)
		if err == nil && opts.Hook != nil {
			opts.Hook(PointCommitted)
		}
		if err == nil {
			res.Table = committed
			res.Snapshot = FindCommit(committed, opts.CommitID, base)
			if res.Snapshot == nil {
				// The transaction staged no snapshot (metadata-only change).
				res.Snapshot = committed.CurrentSnapshot()
			}
			return res, nil
		}
		lastErr = err
		conflict := IsConflict(err)
		if opts.OnRetry != nil {
			opts.OnRetry(attempt, conflict, err)
		}

		fresh, lerr := cat.LoadTable(ctx, ident)
		if lerr != nil {
			// Building on the stale table is safe: if the lost attempt did
			// commit, the next one fails its requirements and reloads again.
			lastErr = errors.Join(err, fmt.Errorf("reload table %s: %w", name, lerr))
			if !Unavailable(lerr) {
				attempt++
			}
			continue
		}
		res.Table = fresh
		if snap := FindCommit(fresh, opts.CommitID, base); snap != nil {
			res.Snapshot = snap
			res.Recovered = true
			return res, nil
		}
		tbl = fresh
		attempt++
	}
	return res, fmt.Errorf("commit %s to %s after %d attempts: %w", opts.CommitID, name, res.Attempts, lastErr)
}

// Unavailable reports whether err says the catalog could not be reached or
// dropped the connection (its database stopping or restarting, a network
// failure), as opposed to an answer: such an error is worth waiting out.
func Unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-03: shutting down or
		// starting; 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset")
}

// Commit is Commit on the lakehouse catalog; a Create spec without a location
// gets TableLocation's.
func (l *Lakehouse) Commit(ctx context.Context, ident table.Identifier, build BuildFunc, opts CommitOptions) (CommitResult, error) {
	if opts.Hook == nil {
		opts.Hook = l.Hook
	}
	if opts.Create != nil && opts.Create.Location == "" && len(ident) == 2 {
		spec := *opts.Create
		spec.Location = l.TableLocation(ident[0], ident[1])
		opts.Create = &spec
	}
	return Commit(ctx, l.Catalog, ident, build, opts)
}

// IsConflict reports whether err from a catalog commit is a clean
// optimistic-concurrency conflict: nothing was committed and a retry on the
// reloaded table may succeed. Other errors leave the outcome unknown.
func IsConflict(err error) bool {
	if errors.Is(err, table.ErrCommitFailed) {
		return true
	}
	// Requirement failures detected by the catalog before it writes are
	// plain errors in iceberg-go v0.7.0.
	return strings.Contains(strings.ToLower(err.Error()), "requirement failed")
}

// FindCommit returns the snapshot carrying commitID among the current
// snapshot and its ancestors newer than base (all of them when base is nil),
// or nil.
func FindCommit(tbl *table.Table, commitID string, base *int64) *table.Snapshot {
	for snap := range Ancestors(tbl) {
		if base != nil && snap.SnapshotID == *base {
			return nil
		}
		if snap.Summary != nil && snap.Summary.Properties[SummaryCommitID] == commitID {
			return snap
		}
	}
	return nil
}

// Ancestors yields the current snapshot of tbl and then its parents, newest
// first, as far back as the table still keeps them.
func Ancestors(tbl *table.Table) func(yield func(*table.Snapshot) bool) {
	return func(yield func(*table.Snapshot) bool) {
		meta := tbl.Metadata()
		snap := tbl.CurrentSnapshot()
		seen := map[int64]bool{}
		for snap != nil && !seen[snap.SnapshotID] {
			seen[snap.SnapshotID] = true
			if !yield(snap) {
				return
			}
			if snap.ParentSnapshotID == nil {
				return
			}
			snap = meta.SnapshotByID(*snap.ParentSnapshotID)
		}
	}
}

// LoadOrCreate loads the table; when it does not exist and spec is not nil it
// creates it, tolerating a concurrent creator. Columns of spec.Schema the
// existing table lacks are added by name, and so are the properties of
// spec it lacks (a property it has keeps its value: an operator's change
// wins).
func LoadOrCreate(ctx context.Context, cat catalog.Catalog, ident table.Identifier, spec *TableSpec) (*table.Table, error) {
	name := strings.Join(ident, ".")
	tbl, err := cat.LoadTable(ctx, ident)
	if err == nil {
		if spec == nil {
			return tbl, nil
		}
		return evolve(ctx, cat, ident, tbl, spec.Schema, spec.Properties)
	}
	if !errors.Is(err, catalog.ErrNoSuchTable) || spec == nil {
		return nil, fmt.Errorf("load table %s: %w", name, err)
	}

	createOpts := []catalog.CreateTableOpt{
		catalog.WithPartitionSpec(&spec.Spec),
		catalog.WithSortOrder(spec.SortOrder),
		catalog.WithProperties(spec.Properties),
	}
	if spec.Location != "" {
		createOpts = append(createOpts, catalog.WithLocation(spec.Location))
	}
	tbl, err = cat.CreateTable(ctx, ident, spec.Schema, createOpts...)
	if err == nil {
		return tbl, nil
	}
	// Another writer may have created it between our load and create; the
	// catalog reports that as "already exists" or as a serialization
	// failure, so whatever the error, a table that now loads wins.
	if existing, lerr := cat.LoadTable(ctx, ident); lerr == nil {
		return evolve(ctx, cat, ident, existing, spec.Schema, spec.Properties)
	}
	return nil, fmt.Errorf("create table %s: %w", name, err)
}

// EvolveSchema adds the columns of want that tbl lacks, by name, and makes
// optional the columns want has optional that tbl requires (e.g. a field
// that became nullable). Existing data files keep their schema; the new
// columns read as null in them. A column tbl has optional stays optional.
func EvolveSchema(ctx context.Context, cat catalog.Catalog, ident table.Identifier, tbl *table.Table, want *iceberg.Schema) (*table.Table, error) {
	return evolve(ctx, cat, ident, tbl, want, nil)
}

// evolve brings tbl to want (EvolveSchema) and sets the properties of
// props it lacks, in one commit, retried when another writer committed
// first.
func evolve(ctx context.Context, cat catalog.Catalog, ident table.Identifier, tbl *table.Table, want *iceberg.Schema, props iceberg.Properties) (*table.Table, error) {
	name := strings.Join(ident, ".")
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		evolveSchema := want != nil && needsEvolution(tbl.Schema(), want)
		missing := missingProperties(tbl.Properties(), props)
		if !evolveSchema && len(missing) == 0 {
			return tbl, nil
		}
		tx := tbl.NewTransaction()
		if evolveSchema {
			if err := tx.UpdateSchema(true, false).UnionByNameWith(want).Commit(); err != nil {
				return nil, fmt.Errorf("evolve schema of %s: %w", name, err)
			}
		}
		if len(missing) > 0 {
			if err := tx.SetProperties(missing); err != nil {
				return nil, fmt.Errorf("set properties of %s: %w", name, err)
			}
		}
		next, err := tx.Commit(ctx)
		if err == nil {
			return next, nil
		}
		lastErr = err
		if tbl, err = cat.LoadTable(ctx, ident); err != nil {
			return nil, fmt.Errorf("reload table %s: %w", name, err)
		}
	}
	return nil, fmt.Errorf("evolve %s: %w", name, lastErr)
}

// missingProperties are the properties of want that have lacks, except
// the reserved ones (format-version and the like live outside the
// properties once a table exists, and cannot be set).
func missingProperties(have, want iceberg.Properties) iceberg.Properties {
	out := iceberg.Properties{}
	for k, v := range want {
		if _, ok := have[k]; !ok && !slices.Contains(table.ReservedProperties[:], k) {
			out[k] = v
		}
	}
	return out
}

// needsEvolution reports whether want has a column have lacks, or one
// have requires and want does not.
func needsEvolution(have, want *iceberg.Schema) bool {
	for _, f := range want.Fields() {
		if h, ok := have.FindFieldByName(f.Name); !ok || (h.Required && !f.Required) {
			return true
		}
	}
	return false
}

func summaryWithID(summary map[string]string, id string) iceberg.Properties {
	props := make(iceberg.Properties, len(summary)+1)
	for k, v := range summary {
		props[k] = v
	}
	props[SummaryCommitID] = id
	return props
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// RemoveUncommitted deletes data files a job wrote but did not commit
// (a commit that lost a conflict, a failed write); what it cannot delete is
// left to orphan removal.
func RemoveUncommitted(ctx context.Context, tbl *table.Table, files []iceberg.DataFile, log *slog.Logger) {
	if len(files) == 0 {
		return
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return
	}
	rm, ok := fs.(interface{ Remove(string) error })
	if !ok {
		return
	}
	for _, df := range files {
		if err := rm.Remove(df.FilePath()); err != nil {
			log.Warn("remove uncommitted data file", "path", df.FilePath(), "err", err)
		}
	}
}
