package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

const trinoPort = 18080

// trinoNode is the coordinator or one worker.
type trinoNode struct {
	name        string
	port        int
	coordinator bool
	heap        string
}

func (s *Stack) trinoNodes() []trinoNode {
	if s.Profile == Single {
		return []trinoNode{{name: "trino", port: s.port(trinoPort), coordinator: true, heap: "-Xmx3G"}}
	}
	return []trinoNode{
		{name: "trino", port: s.port(trinoPort), coordinator: true, heap: "-Xmx1536M"},
		{name: "trino-worker1", port: s.port(trinoPort + 1), heap: "-Xmx2G"},
		{name: "trino-worker2", port: s.port(trinoPort + 2), heap: "-Xmx2G"},
	}
}

func (s *Stack) trino(sec Secrets) []*service {
	var out []*service
	for _, node := range s.trinoNodes() {
		etc := s.path("etc", node.name)
		argv := append([]string{"java", node.heap}, trinoJVMFlags...)
		argv = append(argv,
			"-Dconfig="+filepath.Join(etc, "config.properties"),
			"-Dlog.levels-file="+filepath.Join(etc, "log.properties"),
			"-cp", filepath.Join(s.trinoHome(), "lib")+"/*",
			"io.trino.server.TrinoServer")
		sv := &service{
			name:     node.name,
			endpoint: fmt.Sprintf("http://127.0.0.1:%d", node.port),
			listens:  []string{fmt.Sprintf("127.0.0.1:%d", node.port)},
			argv:     argv,
			dir:      s.path("data", node.name), // Trino's working (data) directory
			// Trino starts in about a minute here; at load average ~35 it
			// took 3.1 minutes.
			startTimeout: 5 * time.Minute,
			healthy:      trinoHealthy(node.port),
		}
		sv.prepare = func(ctx context.Context) error {
			java, err := s.trinoJava(ctx)
			if err != nil {
				return err
			}
			sv.argv[0] = java
			if err := os.MkdirAll(sv.dir, 0o755); err != nil {
				return err
			}
			return s.prepareTrino(node, etc, sec)
		}
		if java, ok := findJava(TrinoMinJava, 0); ok {
			sv.argv[0] = java
		}
		out = append(out, sv)
	}
	return out
}

// trinoJVMFlags follow Trino's recommended jvm.config.
var trinoJVMFlags = []string{
	"-XX:+UseG1GC",
	"-XX:G1HeapRegionSize=32M",
	"-XX:+ExplicitGCInvokesConcurrent",
	"-XX:+ExitOnOutOfMemoryError",
	"-XX:-OmitStackTraceInFastThrow",
	"-XX:ReservedCodeCacheSize=256M",
	"-XX:PerMethodRecompilationCutoff=10000",
	"-XX:PerBytecodeRecompilationCutoff=10000",
	"-XX:+EnableDynamicAgentLoading",
	"-Djdk.attach.allowAttachSelf=true",
	"-Djdk.nio.maxCachedBufferSize=2000000",
	"-Dfile.encoding=UTF-8",
}

func (s *Stack) prepareTrino(node trinoNode, etc string, sec Secrets) error {
	conf := []string{
		fmt.Sprintf("coordinator=%t", node.coordinator),
		fmt.Sprintf("http-server.http.port=%d", node.port),
		fmt.Sprintf("discovery.uri=http://127.0.0.1:%d", s.port(trinoPort)),
		"node.environment=weir",
		"node.id=" + node.name,
		"node.internal-address=127.0.0.1",
		"plugin.dir=" + filepath.Join(s.trinoHome(), "plugin"),
		"catalog.config-dir=" + filepath.Join(etc, "catalog"),
	}
	if node.coordinator {
		conf = append(conf, fmt.Sprintf("node-scheduler.include-coordinator=%t", s.Profile == Single))
	}
	if err := writeFile(filepath.Join(etc, "config.properties"), joinLines(conf...), 0o644); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(etc, "log.properties"), joinLines("io.trino=INFO", "org.apache.iceberg=WARN"), 0o644); err != nil {
		return err
	}
	// The scheduler's run history, read-only, for the pipeline-health
	// dashboard.
	if err := writeFile(filepath.Join(etc, "catalog", "scheduler.properties"), joinLines(
		"connector.name=postgresql",
		fmt.Sprintf("connection-url=jdbc:postgresql://127.0.0.1:%d/weir_scheduler", s.port(pgPort)),
		"connection-user="+PGReader,
		"connection-password="+sec["PG_READER_PASSWORD"],
	), 0o600); err != nil {
		return err
	}
	// Trino commits to the catalog as its own role (services/postgres/roles.sql)
	// when the stack has them.
	catalogUser, catalogPassword := PGUser, sec["PG_PASSWORD"]
	if s.pgRoles() {
		catalogUser, catalogPassword = "trino", pgRolePassword(sec, "trino")
	}
	// Catalog files hold passwords: 0600, for Trino (which runs as weir's
	// user) alone. Trino reads everything and writes only gold (the views and rollups
	// it owns): its own MinIO user, see objectstore.ServiceUsers.
	return writeFile(filepath.Join(etc, "catalog", "iceberg.properties"), joinLines(
		"connector.name=iceberg",
		"iceberg.catalog.type=jdbc",
		"iceberg.jdbc-catalog.driver-class=org.postgresql.Driver",
		fmt.Sprintf("iceberg.jdbc-catalog.connection-url=jdbc:postgresql://127.0.0.1:%d/iceberg_catalog", s.port(pgPort)),
		"iceberg.jdbc-catalog.connection-user="+catalogUser,
		"iceberg.jdbc-catalog.connection-password="+catalogPassword,
		"iceberg.jdbc-catalog.catalog-name=weir",
		"iceberg.jdbc-catalog.default-warehouse-dir=s3://weir-lake/warehouse",
		"iceberg.jdbc-catalog.schema-version=V1",
		"iceberg.unique-table-location=true",
		"fs.native-s3.enabled=true",
		fmt.Sprintf("s3.endpoint=http://127.0.0.1:%d", s.port(minioPort)),
		"s3.path-style-access=true",
		"s3.region=us-east-1",
		"s3.aws-access-key=weir-trino",
		"s3.aws-secret-key="+sec["S3_TRINO_SECRET"],
	), 0o600)
}

// trinoHealthy is true once the node has finished starting.
func trinoHealthy(port int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/v1/info", port), nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var info struct {
			Starting bool `json:"starting"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
			return err
		}
		if info.Starting {
			return fmt.Errorf("starting")
		}
		return nil
	}
}
