package localstack

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

const minioPort = 19000

func (s *Stack) minio(sec Secrets) []*service {
	env := []string{
		"MINIO_ROOT_USER=" + MinIORootUser,
		"MINIO_ROOT_PASSWORD=" + sec["MINIO_ROOT_PASSWORD"],
		// The sandbox looks like a container; without this MinIO refuses
		// drives on the root filesystem.
		"MINIO_CI_CD=1",
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	}
	if s.Profile == Single {
		// One node, four drives: erasure-coded (EC:2) on one machine.
		drives := filepath.Join(s.path("data", "minio"), "d{1...4}")
		return []*service{{
			name:         "minio",
			group:        "storage",
			endpoint:     fmt.Sprintf("http://127.0.0.1:%d", s.port(minioPort)),
			argv:         []string{s.minioBin(), "server", drives, "--address", fmt.Sprintf("127.0.0.1:%d", s.port(minioPort)), "--console-address", fmt.Sprintf("127.0.0.1:%d", s.port(minioPort+1))},
			env:          env,
			startTimeout: 60 * time.Second,
			healthy:      minioHealthy(fmt.Sprintf("127.0.0.1:%d", s.port(minioPort))),
		}}
	}
	// Four nodes on 127.0.0.1–4, two drives each, one distributed
	// erasure-coded pool. Each node also listens on 127.0.0.1 and ::1 at its
	// port whatever --address says, so the nodes need distinct ports too.
	// Loopback peers all look local to MinIO, so each node is told which
	// endpoint is its own.
	nodeAddr := func(i int) (api, console string) {
		port := s.port(minioPort + (i-1)*10)
		return fmt.Sprintf("127.0.0.%d:%d", i, port), fmt.Sprintf("127.0.0.%d:%d", i, port+1)
	}
	var endpoints []string
	for i := 1; i <= 4; i++ {
		for d := 1; d <= 2; d++ {
			api, _ := nodeAddr(i)
			endpoints = append(endpoints, "http://"+api+s.path("data", "minio", fmt.Sprintf("n%d", i), fmt.Sprintf("d%d", d)))
		}
	}
	var out []*service
	for i := 1; i <= 4; i++ {
		addr, console := nodeAddr(i)
		argv := append([]string{s.minioBin(), "server", "--address", addr, "--console-address", console}, endpoints...)
		out = append(out, &service{
			name:         fmt.Sprintf("minio%d", i),
			group:        "storage",
			endpoint:     "http://" + addr,
			argv:         argv,
			env:          append(append([]string{}, env...), "_MINIO_SERVER_LOCAL="+addr),
			startTimeout: 120 * time.Second,
			healthy:      minioHealthy(addr),
		})
	}
	return out
}

// minioHealthy asks the node whether the cluster has write quorum.
func minioHealthy(addr string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		return httpOK(ctx, "http://"+addr+"/minio/health/cluster")
	}
}

func httpOK(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

func joinLines(lines ...string) string { return strings.Join(lines, "\n") + "\n" }
