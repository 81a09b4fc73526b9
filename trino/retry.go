package trino

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	client "github.com/trinodb/trino-go-client/trino"
)

// transient are the Trino error names of queries that did not run (the
// server was starting, stopping, full or lost a node): running the same
// statement again is safe and may succeed. A failed Iceberg commit is not
// among them: its outcome can be unknown.
var transient = map[string]bool{
	"SERVER_STARTING_UP":       true,
	"SERVER_SHUTTING_DOWN":     true,
	"NO_NODES_AVAILABLE":       true,
	"TOO_MANY_REQUESTS_FAILED": true,
	"PAGE_TRANSPORT_ERROR":     true,
	"PAGE_TRANSPORT_TIMEOUT":   true,
	"REMOTE_HOST_GONE":         true,
	"QUERY_QUEUE_FULL":         true,
	"CLUSTER_OUT_OF_MEMORY":    true,
}

// catalogUnavailable begins the message of the GENERIC_INTERNAL_ERROR
// Trino fails a statement with when its Iceberg JDBC catalog could not
// open the catalog database (PostgreSQL restarting, a connection of the
// pool gone): before planning, so the statement did not run. Seen in CI
// on a read of gold.rollup_state after a test restarted PostgreSQL.
const catalogUnavailable = "Cannot check and eventually update SQL schema"

// Retryable reports whether err is one Trino reports as transient (by name,
// or the catalog database unreachable), or an HTTP 502/503/504 from the
// coordinator (or a proxy in front of it).
func Retryable(err error) bool {
	var te *client.ErrTrino
	if errors.As(err, &te) {
		return transient[te.ErrorName] || te.ErrorName == "GENERIC_INTERNAL_ERROR" && strings.HasPrefix(te.Message, catalogUnavailable)
	}
	var qf *client.ErrQueryFailed
	if errors.As(err, &qf) {
		switch qf.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
	}
	return false
}

// retryDelays are the pauses between the tries of Retry.
var retryDelays = []time.Duration{500 * time.Millisecond, 2 * time.Second, 5 * time.Second}

// Retry calls fn until it succeeds, fails with an error that is not
// Retryable, the tries are used up, or ctx ends.
func Retry(ctx context.Context, fn func() error) error {
	for i := 0; ; i++ {
		err := fn()
		var p permanentError
		if errors.As(err, &p) {
			return p.err
		}
		if err == nil || !Retryable(err) || i == len(retryDelays) {
			return err
		}
		t := time.NewTimer(retryDelays[i])
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
