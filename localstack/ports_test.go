package localstack

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestBusyPortNamesItsHolder(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	if got := busyAddr([]string{addr}); got != addr {
		t.Fatalf("busyAddr = %q, want %q", got, addr)
	}
	holder := portHolder(addr)
	if !strings.Contains(holder, "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("portHolder(%s) = %q, want this test's pid %d", addr, holder, os.Getpid())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := awaitPorts(ctx, "svc", []string{addr}); err == nil {
		t.Error("awaitPorts on a held port returned nil")
	}
	l.Close()
	if err := awaitPorts(context.Background(), "svc", []string{addr}); err != nil {
		t.Errorf("awaitPorts after release: %v", err)
	}
}

func TestLogTailShowsOnlyTheLatestStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "svc.log")
	log := "\n==== t0 start old\nold failure\n\n==== t1 start new\nline 1\nFATAL drive not supported\n"
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got := logTail(path, 15)
	if strings.Contains(got, "old failure") || !strings.Contains(got, "FATAL drive not supported") {
		t.Errorf("logTail = %q", got)
	}
}

func TestODirectProbe(t *testing.T) {
	// ext4, xfs and tmpfs (Linux >= 6.6) take O_DIRECT writes; some FUSE
	// and network filesystems refuse them with EINVAL. Whichever the test
	// machine's temp dir is, the probe answers without error or with that
	// refusal, and leaves nothing behind.
	dir := t.TempDir()
	err := oDirectWritable(dir)
	if err != nil && !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("oDirectWritable(%s): %v, want nil or EINVAL", dir, err)
	}
	t.Logf("O_DIRECT in %s: %v", dir, err)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("probe left %d files", len(entries))
	}
}

// TestFreePortOffsetAvoidsEphemeralPorts: an offset whose ports lie in the
// ephemeral range is taken only when no other is free.
func TestFreePortOffsetAvoidsEphemeralPorts(t *testing.T) {
	lo, _ := ephemeralPorts()
	// From 30000 every port of a stack (15432 and up) is ephemeral on
	// Linux's default range; from FreshOffsetFrom none is.
	if lo < 15432+30000 {
		off, err := FreePortOffset(Single, FreshOffsetFrom, 30000, 500)
		if err != nil {
			t.Fatal(err)
		}
		if off+19903 >= lo {
			t.Errorf("offset %d puts ports in the ephemeral range from %d", off, lo)
		}
	}
	// Only ephemeral offsets asked for: one is still taken. Any single one
	// may be busy by chance (an outgoing connection of another test), so
	// several are offered.
	off, err := FreePortOffset(Single, 40000, 44000, 500)
	if err != nil {
		t.Errorf("only ephemeral offsets asked for: %v", err)
	} else if off < 40000 || off > 44000 {
		t.Errorf("offset %d outside the range asked for", off)
	}
}
