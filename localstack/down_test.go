//go:build stackdown

package localstack_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"weir/localstack"
)

// TestDownLeavesNothing stops the stack and checks that no process of it is
// left and no port of it still listens. `make test` runs it last.
func TestDownLeavesNothing(t *testing.T) {
	s, err := localstack.New(os.Getenv("WEIR_STACK_DIR"), os.Getenv("WEIR_CACHE_DIR"), localstack.Single, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Down(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left := s.Processes(); len(left) > 0 {
		t.Fatalf("processes left after down: %v", left)
	}
	for _, a := range []struct {
		host string
		port int
	}{{"127.0.0.1", 15432}, {"127.0.0.1", 19000}, {"127.0.0.2", 19010}, {"127.0.0.1", 19092}, {"127.0.0.1", 19192}, {"127.0.0.1", 18080}, {"127.0.0.1", 18081}, {"127.0.0.1", 18443}, {"127.0.0.1", 19050}, {"127.0.0.1", 19903}} {
		addr := net.JoinHostPort(a.host, strconv.Itoa(a.port+s.PortOffset))
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after down", addr)
		}
	}
	fmt.Println("stack down: no process left, no port listening")
}
