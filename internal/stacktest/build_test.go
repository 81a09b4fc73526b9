package stacktest

import (
	"fmt"
	"os"
	"testing"
)

// The build directory of a test process that is gone is swept; that of a
// live one (this process) stays.
func TestSweepBuilds(t *testing.T) {
	mine, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", buildDirPrefix, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(mine)
	// No process has pid 2^22+1 (above Linux's pid_max).
	gone, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", buildDirPrefix, 1<<22+1))
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(gone)
	sweepBuilds()
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a live process's build directory was swept: %v", err)
	}
	if _, err := os.Stat(gone); !os.IsNotExist(err) {
		t.Errorf("a gone process's build directory is left: %v", err)
	}
}
