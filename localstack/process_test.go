package localstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary, re-executed by a test, act as a service
// process instead of running the tests.
const childEnv = "WEIR_LOCALSTACK_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "sleep":
		time.Sleep(time.Minute) // the test kills it long before
		os.Exit(0)
	case "exit3":
		fmt.Println("child: giving up")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// testStack is a stack in a temporary directory with its run and logs
// directories; no service of it is real.
func testStack(t *testing.T) *Stack {
	t.Helper()
	s, err := New(t.TempDir(), "", Single, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"run", "logs"} {
		if err := os.Mkdir(s.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// childService runs the test binary as a service in mode (see TestMain).
func childService(s *Stack, name, mode string, extraArgs int) *service {
	argv := []string{os.Args[0], "-test.run=^$", s.Dir}
	for range extraArgs {
		argv = append(argv, "padding")
	}
	return &service{name: name, argv: argv, env: []string{childEnv + "=" + mode}, stopSignal: syscall.SIGKILL}
}

// TestLivenessRightAfterStart checks a service at once after its start, as
// waitHealthy does, both as the weir that started it and as another weir
// reading its pid file. The child is the test binary with 100k arguments,
// which makes its execve slow: a check that identifies the process by its
// command line sees an empty one (or the parent's) and calls it gone.
func TestLivenessRightAfterStart(t *testing.T) {
	s := testStack(t)
	other, err := New(s.Dir, "", Single, nil) // another invocation: no child records
	if err != nil {
		t.Fatal(err)
	}
	const starts = 60
	var started []*service
	defer func() {
		for _, sv := range started {
			c := s.children.get(sv.name)
			syscall.Kill(c.pid, syscall.SIGKILL)
			<-c.done
		}
	}()
	var goneOwn, goneOther int
	for i := range starts {
		sv := childService(s, fmt.Sprintf("child%d", i), "sleep", 100_000)
		if err := sv.start(s); err != nil {
			t.Fatal(err)
		}
		started = append(started, sv)
		if !sv.running(s) {
			goneOwn++
		}
		if !sv.running(other) {
			goneOther++
		}
	}
	t.Logf("%d starts: called gone right after start %d times by the starting weir, %d times by another", starts, goneOwn, goneOther)
	if goneOwn > 0 || goneOther > 0 {
		t.Errorf("a running service was called gone: %d of %d by the starting weir, %d by another", goneOwn, starts, goneOther)
	}
}

func TestExitDuringStartReportsStatus(t *testing.T) {
	s := testStack(t)
	sv := childService(s, "quitter", "exit3", 0)
	sv.startTimeout = 20 * time.Second
	sv.healthy = func(context.Context) error { return errors.New("not yet") }
	if err := sv.start(s); err != nil {
		t.Fatal(err)
	}
	err := s.waitHealthy(context.Background(), sv)
	if err == nil {
		t.Fatal("waitHealthy returned nil for a service that exited")
	}
	for _, want := range []string{"quitter exited during start", "exit status 3", "child: giving up"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestPidFileIdentity: a pid file names our process only if the process
// with that pid started when the file says.
func TestPidFileIdentity(t *testing.T) {
	s := testStack(t)
	self := os.Getpid()
	st, err := readProcStat(self)
	if err != nil {
		t.Fatal(err)
	}
	sv := &service{name: "svc"}
	for _, tc := range []struct {
		name, file string
		want       int
	}{
		{"same start time", fmt.Sprintf("%d %d\n", self, st.start), self},
		{"pid reused: other start time", fmt.Sprintf("%d %d\n", self, st.start+1), 0},
		{"no such process", fmt.Sprintf("%d %d\n", 1<<22+1, st.start), 0},
		{"bare pid, command line does not name the stack", strconv.Itoa(self), 0},
		{"garbage", "not a pid", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(sv.pidFile(s), []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := sv.pid(s); got != tc.want {
				t.Errorf("pid() = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestNamesDir(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		want    bool
	}{
		{"minio\x00server\x00/a/.stack/data/minio\x00", true},
		{"postgres\x00-c\x00weir.stack_dir=/a/.stack\x00", true},
		{"java\x00/a/.stack-cluster/etc/kafka1/server.properties\x00", false},
		{"", false},
	} {
		if got := namesDir(tc.cmdline, "/a/.stack"); got != tc.want {
			t.Errorf("namesDir(%q) = %t, want %t", tc.cmdline, got, tc.want)
		}
	}
}

// TestPGLayout: as root, nothing PostgreSQL (running as postgres) opens is
// in the stack directory; the stack directory links to it.
func TestPGLayout(t *testing.T) {
	const stack = "/root/clone/.stack"
	own := pgLayoutFor(stack, "")
	if own.home != "" || own.data != stack+"/data/postgres" || own.sock != stack+"/run/pgsock" || !strings.HasPrefix(own.pwfile, stack+"/") {
		t.Errorf("without a postgres home: %+v", own)
	}
	l := pgLayoutFor(stack, "/var/lib/postgresql")
	if !strings.HasPrefix(l.home, "/var/lib/postgresql/"+pgHomePrefix) {
		t.Errorf("home %q not under the postgres user's home", l.home)
	}
	for _, p := range []string{l.data, l.sock, l.pwfile} {
		if !strings.HasPrefix(p, l.home+"/") {
			t.Errorf("%s is not in %s", p, l.home)
		}
	}
	if l.dataLink != own.data || l.sockLink != own.sock {
		t.Errorf("links %s, %s: want the stack directory's paths %s, %s", l.dataLink, l.sockLink, own.data, own.sock)
	}
	if other := pgLayoutFor(stack+"2", "/var/lib/postgresql"); other.home == l.home {
		t.Errorf("two stacks share %s", l.home)
	}
	s := testStack(t)
	argv := strings.Join(s.postgres(Secrets{}).argv, "\x00") + "\x00"
	if !namesDir(argv, s.Dir) {
		t.Errorf("postgres command line does not name the stack directory: %q", argv)
	}
}

// TestStackLockExcludes: while one weir holds a stack's lock, another
// waits for it.
func TestStackLockExcludes(t *testing.T) {
	s := testStack(t)
	unlock, err := s.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := s.lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while the first is held: %v, want a deadline", err)
	}
	unlock()
	unlock2, err := s.lock(context.Background())
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

// A node restarted by a caller that sourced env.sh (which exports the
// archive tier's MINIO_ARCHIVE_ROOT_*) gets the same MINIO_* settings as
// the pool's other nodes: only its own.
func TestServiceEnvDropsCallersMinIOSettings(t *testing.T) {
	got := serviceEnv([]string{"PATH=/bin", "MINIO_ARCHIVE_ROOT_USER=a", "MINIO_ROOT_PASSWORD=b", "HOME=/root"},
		[]string{"MINIO_ROOT_USER=weir-admin", "MINIO_ROOT_PASSWORD=c"})
	want := []string{"PATH=/bin", "HOME=/root", "MINIO_ROOT_USER=weir-admin", "MINIO_ROOT_PASSWORD=c"}
	if !slices.Equal(got, want) {
		t.Fatalf("serviceEnv = %v, want %v", got, want)
	}
}
