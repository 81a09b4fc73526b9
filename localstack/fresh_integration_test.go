//go:build integration

package localstack_test

import (
	"context"
	"os"
	"testing"
	"time"

	"weir/localstack"
)

// TestFreshStackUpDown starts a single stack from nothing in a private
// directory (0700 under a 0700 parent: as root, PostgreSQL, which runs as
// its own user, cannot reach it) on free ports, checks every service
// healthy, stops and removes it, and checks that no process, port,
// directory or PostgreSQL home of it is left. It ignores the shared test
// stack except for its download cache.
func TestFreshStackUpDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := localstack.FreshCycle(ctx, localstack.SharedCache(".."), localstack.FreshOffsetFrom, os.Stderr)
	if err != nil {
		t.Fatalf("fresh stack in %s (port offset %d): %v", c.Dir, c.PortOffset, err)
	}
	t.Logf("fresh stack up in %.1f s, down in %.1f s (port offset %d)", c.UpSeconds, c.DownSecs, c.PortOffset)
}
