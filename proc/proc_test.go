package proc

import (
	"context"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"weir/wait"
)

// TestTerminate: a group whose leader ignores SIGTERM is killed after the
// grace period, children included; one that exits on SIGTERM is not.
func TestTerminate(t *testing.T) {
	cases := []struct {
		name, script string
		wantKill     bool
	}{
		{"exits on term", "sleep 60 & wait", false},
		{"ignores term", "trap '' TERM; sleep 60 & wait; sleep 60", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", c.script)
			cmd.SysProcAttr = Detached()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			time.Sleep(100 * time.Millisecond) // let the shell set its trap
			var calls int
			gone := Terminate(cmd.Process.Pid, 0, 300*time.Millisecond, 5*time.Second, func(d time.Duration) bool {
				calls++
				select {
				case <-done:
					return true
				case <-time.After(d):
					return false
				}
			})
			if !gone {
				t.Fatal("process still there")
			}
			if killed := calls == 2; killed != c.wantKill {
				t.Errorf("killed = %v, want %v", killed, c.wantKill)
			}
			// The orphaned sleep is reaped by init a moment later.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := wait.Until(ctx, 50*time.Millisecond, func(context.Context) error {
				if err := syscall.Kill(-cmd.Process.Pid, 0); err == nil {
					return errors.New("the group still has members")
				}
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
}
