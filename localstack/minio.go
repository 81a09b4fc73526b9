package localstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const minioPort = 19000

// archiveMinIOPort is the archive tier's MinIO, in both profiles.
const archiveMinIOPort = 19050

// ArchiveParity is the erasure-coding parity of the archive tier's MinIO:
// EC:1 over its four drives (three data shards and one parity: 75% of the
// raw space usable, one drive may fail), cheaper than the warehouse's EC:2
// (single profile) or EC:4 (cluster profile).
const ArchiveParity = 1

// ArchiveTierName is the tier's name on the warehouse MinIO (the storage
// class a moved object reports).
const ArchiveTierName = "ARCHIVE"

// archiveTierBucket is the tier's bucket on the archive MinIO.
const archiveTierBucket = "weir-archive-tier"

func (s *Stack) minio(sec Secrets) []*service {
	env := []string{
		"MINIO_ROOT_USER=" + MinIORootUser,
		"MINIO_ROOT_PASSWORD=" + sec["MINIO_ROOT_PASSWORD"],
		// The sandbox looks like a container; without this MinIO refuses
		// drives on the root filesystem.
		"MINIO_CI_CD=1",
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		// Prometheus scrapes /minio/v2/metrics/cluster without a token:
		// MinIO listens on loopback only.
		"MINIO_PROMETHEUS_AUTH_TYPE=public",
	}
	// Names the drives' fallback directory; the root password is random per
	// stack, so a new stack never meets an old one's drives.
	sum := sha256.Sum256([]byte(s.Dir + sec["MINIO_ROOT_PASSWORD"]))
	prepare := func(ctx context.Context) error { return s.prepareMinIOData("minio", hex.EncodeToString(sum[:6])) }
	if s.Profile == Single {
		// One node, four drives: erasure-coded (EC:2) on one machine.
		drives := filepath.Join(s.path("data", "minio"), "d{1...4}")
		return []*service{{
			name:         "minio",
			group:        "storage",
			endpoint:     fmt.Sprintf("http://127.0.0.1:%d", s.port(minioPort)),
			listens:      []string{fmt.Sprintf("127.0.0.1:%d", s.port(minioPort)), fmt.Sprintf("127.0.0.1:%d", s.port(minioPort+1))},
			argv:         []string{s.minioBin(), "server", drives, "--address", fmt.Sprintf("127.0.0.1:%d", s.port(minioPort)), "--console-address", fmt.Sprintf("127.0.0.1:%d", s.port(minioPort+1))},
			env:          env,
			prepare:      prepare,
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
			listens:      []string{addr, console},
			argv:         argv,
			env:          append(append([]string{}, env...), "_MINIO_SERVER_LOCAL="+addr),
			prepare:      prepare,
			startTimeout: 120 * time.Second,
			healthy:      minioHealthy(addr),
		})
	}
	return out
}

// minioArchive is the archive tier's MinIO (config.ArchiveTier): a
// deployment of its own, one node on four drives of its own with
// ArchiveParity, that the warehouse MinIO moves the archive bucket's objects
// to (objectstore.EnsureArchiveTier). On a real machine its drives would be
// the cheaper disks.
func (s *Stack) minioArchive(sec Secrets) *service {
	addr := fmt.Sprintf("127.0.0.1:%d", s.port(archiveMinIOPort))
	console := fmt.Sprintf("127.0.0.1:%d", s.port(archiveMinIOPort+1))
	sum := sha256.Sum256([]byte(s.Dir + sec["MINIO_ARCHIVE_ROOT_PASSWORD"]))
	return &service{
		name:     "minio-archive",
		group:    "storage",
		endpoint: "http://" + addr,
		listens:  []string{addr, console},
		argv:     []string{s.minioBin(), "server", filepath.Join(s.path("data", "minio-archive"), "d{1...4}"), "--address", addr, "--console-address", console},
		env: []string{
			"MINIO_ROOT_USER=" + ArchiveRootUser,
			"MINIO_ROOT_PASSWORD=" + sec["MINIO_ARCHIVE_ROOT_PASSWORD"],
			fmt.Sprintf("MINIO_STORAGE_CLASS_STANDARD=EC:%d", ArchiveParity),
			"MINIO_CI_CD=1",
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
			"MINIO_PROMETHEUS_AUTH_TYPE=public",
		},
		prepare: func(ctx context.Context) error {
			return s.prepareMinIOData("minio-archive", hex.EncodeToString(sum[:6]))
		},
		startTimeout: 60 * time.Second,
		healthy:      minioHealthy(addr),
	}
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

// prepareMinIOData makes sure MinIO's drives sit on a filesystem that
// supports O_DIRECT, which erasure-coded MinIO requires (it exits at once
// with "drive not supported" otherwise, e.g. on some FUSE or network
// mounts). When the stack directory's filesystem lacks it, the drives go to
// the first directory that has it, linked from <stack>/data/minio so every
// path and process still names the stack directory. name is the
// deployment's directory under <stack>/data.
func (s *Stack) prepareMinIOData(name, id string) error {
	dir := s.path("data", name)
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		// Redirected by an earlier start; the target may be on a tmpfs
		// that a reboot emptied.
		target, err := filepath.EvalSymlinks(dir)
		if err != nil {
			target, _ = os.Readlink(dir)
		}
		return os.MkdirAll(target, 0o755)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	probe := oDirectWritable(dir)
	if probe == nil {
		return nil
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		return fmt.Errorf("%s holds MinIO data but its filesystem does not take O_DIRECT writes (%v)", dir, probe)
	}
	candidates := []string{filepath.Join(s.Cache, "minio-data"), "/var/tmp", os.TempDir(), "/dev/shm"}
	for _, c := range candidates {
		alt := filepath.Join(c, "weir-"+name+"-"+id)
		if err := os.MkdirAll(alt, 0o755); err != nil {
			continue
		}
		if oDirectWritable(alt) != nil {
			os.RemoveAll(alt)
			continue
		}
		if err := os.Remove(dir); err != nil {
			return err
		}
		if err := os.Symlink(alt, dir); err != nil {
			return err
		}
		s.logf("  %-14s %s does not take O_DIRECT writes (%v); drives in %s", name, dir, probe, alt)
		return nil
	}
	return fmt.Errorf("MinIO's erasure-coded drives need a filesystem with O_DIRECT writes; %s has none (%v) and neither has any of %v; set WEIR_STACK_DIR to a directory on ext4, xfs or tmpfs",
		dir, probe, candidates)
}

// oDirectWritable writes one aligned block with O_DIRECT into dir, as MinIO
// does when it opens a drive.
func oDirectWritable(dir string) error {
	name := filepath.Join(dir, ".odirect-check")
	defer os.Remove(name)
	fd, err := syscall.Open(name, syscall.O_CREAT|syscall.O_WRONLY|syscall.O_TRUNC|syscall.O_DIRECT, 0o644)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	// An anonymous mapping is page-aligned, as O_DIRECT wants its buffer.
	buf, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return err
	}
	defer syscall.Munmap(buf)
	_, err = syscall.Write(fd, buf)
	return err
}
