package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"weir/wait"
)

// portWait is how long a start waits for a busy port to be released (a
// process of an earlier stack that is still shutting down) before it fails.
const portWait = 30 * time.Second

// awaitPorts returns nil once every address can be listened on. A port held
// by something else for longer than portWait is an error that names the
// holder, so the service is never started only to exit, and a health check
// never answers for a stranger listening on our port.
func awaitPorts(ctx context.Context, name string, addrs []string) error {
	wctx, cancel := context.WithTimeout(ctx, portWait)
	defer cancel()
	var busy string
	err := wait.Until(wctx, 500*time.Millisecond, func(context.Context) error {
		if busy = busyAddr(addrs); busy != "" {
			return errors.New("port in use")
		}
		return nil
	})
	if err == nil || ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s: %s is in use by %s; stop it, or run the stack on other ports with WEIR_STACK_PORT_OFFSET",
		name, busy, portHolder(busy))
}

// busyAddr returns the first address that cannot be listened on, or "".
func busyAddr(addrs []string) string {
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			return a
		}
		l.Close()
	}
	return ""
}

// portHolder describes the process listening on addr's port, as far as
// /proc tells (another user's process may be hidden).
func portHolder(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "another process"
	}
	port, _ := strconv.Atoi(p)
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fields := strings.Fields(line)
			// local_address is HEXIP:HEXPORT; state 0A is LISTEN; inode is field 9.
			if len(fields) < 10 || fields[3] != "0A" {
				continue
			}
			_, hexPort, _ := strings.Cut(fields[1], ":")
			if v, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(v) == port {
				inodes["socket:["+fields[9]+"]"] = true
			}
		}
	}
	procs, _ := os.ReadDir("/proc")
	for _, e := range procs {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", e.Name(), "fd"))
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join("/proc", e.Name(), "fd", fd.Name()))
			if err == nil && inodes[target] {
				cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
				return fmt.Sprintf("pid %s (%s)", e.Name(), shorten(strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " "), 160))
			}
		}
	}
	return "another process"
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// logTail returns the last lines a service wrote since its latest start, for
// error messages: a failed start in CI shows its cause without the log file.
func logTail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	text := string(b)
	if i := strings.LastIndex(text, "\n==== "); i >= 0 {
		text = text[i+1:]
	}
	all := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return "\n    | " + strings.Join(all, "\n    | ")
}

// FreshOffsetFrom is where fresh test and soak stacks look for a free port
// offset: clear of the offsets people give their stacks (0, 12500, 15000,
// each +1000 for its cluster and +2000…+6000 for its fresh demo test), and
// low enough that every port stays below the ephemeral range.
const FreshOffsetFrom = 7000

// FreePortOffset returns the first port offset in [from, to], in steps of
// step, at which none of the ports a stack of profile p listens on (its
// scheduler's included) is in use, preferring offsets that keep every port
// out of the kernel's ephemeral range: an outgoing connection may take an
// ephemeral port between the moment it is found free and the moment the
// service binds it (Kafka then exits with "Address already in use", as a
// soak run showed).
func FreePortOffset(p Profile, from, to, step int) (int, error) {
	base := &Stack{Profile: p}
	addrs := base.listenAddrs()
	lo, hi := ephemeralPorts()
	for _, avoidEphemeral := range []bool{true, false} {
	next:
		for off := from; off <= to; off += step {
			var shifted []string
			for _, a := range addrs {
				host, port, err := net.SplitHostPort(a)
				if err != nil {
					return 0, err
				}
				n, _ := strconv.Atoi(port)
				if avoidEphemeral && n+off >= lo && n+off <= hi {
					continue next
				}
				shifted = append(shifted, net.JoinHostPort(host, strconv.Itoa(n+off)))
			}
			if busyAddr(shifted) == "" {
				return off, nil
			}
		}
	}
	return 0, fmt.Errorf("no free port offset between %d and %d", from, to)
}

// ephemeralPorts is the kernel's range of local ports for outgoing
// connections (Linux's default when it cannot be read).
func ephemeralPorts() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			lo, err1 := strconv.Atoi(f[0])
			hi, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil {
				return lo, hi
			}
		}
	}
	return 32768, 60999
}

// listenAddrs is every address the stack's services (and the weir
// processes: stream, alerts, scheduler, silver follow mode) listen on.
func (s *Stack) listenAddrs() []string {
	var out []string
	for _, sv := range s.services(Secrets{}) {
		out = append(out, sv.listens...)
	}
	stream, alerts, sched, follow := s.weirListens()
	return append(out, stream, alerts, sched, follow)
}
