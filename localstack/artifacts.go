package localstack

import (
	"context"
	"os"
	"path/filepath"
)

// Artifacts are the installed programs of the stack, for builders that
// package the same programs another way (make build_images puts them into
// the compose stack's images). Paths are absolute and in the cache.
type Artifacts struct {
	KafkaLibs    string // directory of the broker's jars
	TrinoHome    string // the unpacked server, only the plugins the stack loads
	JavaHome     string // a JDK both Kafka and Trino run on (Trino's minimum)
	MinIO        string // the minio binary
	Alertmanager string // the alertmanager binary
	Prometheus   string // the prometheus binary
	Promtool     string // the promtool binary ("" unless asked for)
}

// Install makes sure every artifact of the native stack is in the cache (the
// same install as stack up's), and promtool too when withPromtool, and
// returns where they are (Promtool: "" without it).
func (s *Stack) Install(ctx context.Context, withPromtool bool) (Artifacts, error) {
	if err := os.MkdirAll(s.Cache, 0o755); err != nil {
		return Artifacts{}, err
	}
	if err := s.install(ctx); err != nil {
		return Artifacts{}, err
	}
	promtool := ""
	if withPromtool {
		if err := s.goInstall(ctx, "promtool", PromtoolModule); err != nil {
			return Artifacts{}, err
		}
		promtool = filepath.Join(s.binDir(), "promtool-"+versionTag(PromtoolModule))
	}
	java, err := s.trinoJava(ctx)
	if err != nil {
		return Artifacts{}, err
	}
	// The java binary may be a symlink (alternatives); its home is two
	// levels above the real file.
	if real, err := filepath.EvalSymlinks(java); err == nil {
		java = real
	}
	return Artifacts{
		KafkaLibs:    s.kafkaLibs(),
		TrinoHome:    s.trinoHome(),
		JavaHome:     filepath.Dir(filepath.Dir(java)),
		MinIO:        s.minioBin(),
		Alertmanager: s.alertmanagerBin(),
		Prometheus:   s.prometheusBin(),
		Promtool:     promtool,
	}, nil
}
