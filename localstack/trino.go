package localstack

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	trinoconf "weir/services/trino"
)

// trinoPort is each node's plain HTTP port: the workers' internal requests
// (signed with the shared secret), /v1/info and the workers' /metrics. The
// coordinator refuses clients there: with password authentication on,
// Trino turns authentication over plain HTTP off.
const trinoPort = 18080

// trinoHTTPSPort is where the coordinator serves clients: HTTPS with the
// stack's certificate (TrinoCAFile), users and passwords of
// etc/trino/password.db, access rules of services/trino/coordinator.
const trinoHTTPSPort = 18443

// trinoFSCacheSize bounds each node's file system cache of the Iceberg
// catalog (fs.cache.max-sizes).
const trinoFSCacheSize = "2GB"

// trinoNode is the coordinator or one worker.
type trinoNode struct {
	name        string
	port        int
	httpsPort   int // the coordinator's
	coordinator bool
	heap        string
}

func (s *Stack) trinoNodes() []trinoNode {
	if s.Profile == Single {
		return []trinoNode{{name: "trino", port: s.port(trinoPort), httpsPort: s.port(trinoHTTPSPort), coordinator: true, heap: "-Xmx3G"}}
	}
	return []trinoNode{
		{name: "trino", port: s.port(trinoPort), httpsPort: s.port(trinoHTTPSPort), coordinator: true, heap: "-Xmx1536M"},
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
			endpoint: fmt.Sprintf("http://127.0.0.1:%d", node.port), // a worker's
			listens:  []string{fmt.Sprintf("127.0.0.1:%d", node.port)},
			argv:     argv,
			dir:      s.path("data", node.name), // Trino's working (data) directory
			// Trino starts in about a minute here; at load average ~35 it
			// took 3.1 minutes.
			startTimeout: 5 * time.Minute,
			healthy:      trinoHealthy(node.port),
		}
		if node.coordinator {
			sv.endpoint = s.TrinoEndpoint()
			sv.listens = append(sv.listens, fmt.Sprintf("127.0.0.1:%d", node.httpsPort))
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
		// Required once the coordinator authenticates clients: it signs
		// the nodes' internal requests.
		"internal-communication.shared-secret=" + sec["TRINO_SHARED_SECRET"],
	}
	if node.coordinator {
		if err := s.prepareTrinoSecurity(sec); err != nil {
			return err
		}
		conf = append(conf,
			fmt.Sprintf("node-scheduler.include-coordinator=%t", s.Profile == Single),
			"http-server.https.enabled=true",
			fmt.Sprintf("http-server.https.port=%d", node.httpsPort),
			"http-server.https.keystore.path="+s.path("etc", "trino-tls", "keystore.pem"),
			"http-server.authentication.type=PASSWORD",
			"password-authenticator.config-files="+s.path("etc", "trino-tls", "password-authenticator.properties"),
			"access-control.config-files="+s.path("etc", "trino-tls", "access-control.properties"),
		)
	}
	// 0600: the shared secret.
	if err := writeFile(filepath.Join(etc, "config.properties"), joinLines(conf...), 0o600); err != nil {
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
		// Data and metadata files are immutable: each node keeps the ones
		// it read on local disk, so repeated dashboard queries stop paying
		// MinIO's erasure decoding and the HTTP reads, CPU that Trino, MinIO
		// and the jobs share on a small machine. Bounded, inside the stack
		// directory.
		"fs.cache.enabled=true",
		"fs.cache.directories="+s.path("data", node.name, "fs-cache"),
		"fs.cache.max-sizes="+trinoFSCacheSize,
	), 0o600)
}

// restartUnauthenticatedTrino stops the Trino nodes of a coordinator that
// an older weir started without client authentication, so that this Up
// starts them with the configuration env.sh points clients at (HTTPS,
// passwords, the nodes' shared secret).
func (s *Stack) restartUnauthenticatedTrino(byName map[string]*service) error {
	if sv := byName["trino"]; sv == nil || sv.pid(s) == 0 {
		return nil
	}
	conf, err := os.ReadFile(s.path("etc", "trino", "config.properties"))
	if err != nil || strings.Contains(string(conf), "http-server.authentication.type=PASSWORD") {
		return nil
	}
	s.logf("  trino          started by an older weir without client authentication: restarting it")
	for _, node := range s.trinoNodes() {
		if sv := byName[node.name]; sv != nil && sv.pid(s) != 0 {
			if err := sv.stop(s); err != nil {
				return err
			}
		}
	}
	return nil
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

// Trino's client users on the stack (services/trino/coordinator/rules.json):
// weir runs the pipeline, grafana reads the gold views (the Dashboards
// page), prometheus reads system information (the coordinator's /metrics).
var trinoUsers = []struct{ name, secret string }{
	{"weir", "TRINO_WEIR_PASSWORD"},
	{"grafana", "TRINO_GRAFANA_PASSWORD"},
	{"prometheus", "TRINO_PROMETHEUS_PASSWORD"},
}

// TrinoEndpoint is the coordinator's client address: HTTPS.
func (s *Stack) TrinoEndpoint() string {
	return fmt.Sprintf("https://127.0.0.1:%d", s.port(trinoHTTPSPort))
}

// TrinoHTTPEndpoint is the coordinator's plain HTTP address (see trinoPort).
func (s *Stack) TrinoHTTPEndpoint() string {
	return fmt.Sprintf("http://127.0.0.1:%d", s.port(trinoPort))
}

// TrinoCAFile is the coordinator's certificate, self-signed at the stack's
// first start: what clients check the coordinator against.
func (s *Stack) TrinoCAFile() string { return s.path("etc", "trino-tls", "trino.crt") }

// trinoURL is a config.Trino URL for one of trinoUsers: HTTPS, the
// password, the certificate to check.
func (s *Stack) trinoURL(sec Secrets, user string) string {
	secret := ""
	for _, u := range trinoUsers {
		if u.name == user {
			secret = sec[u.secret]
		}
	}
	u := url.URL{Scheme: "https", User: url.UserPassword(user, secret), Host: fmt.Sprintf("127.0.0.1:%d", s.port(trinoHTTPSPort)),
		RawQuery: url.Values{"SSLCertPath": {s.TrinoCAFile()}}.Encode()}
	return u.String()
}

// prepareTrinoSecurity writes the coordinator's TLS key pair (once), its
// password file (PBKDF2 hashes of the stack's secrets), and the password
// authenticator and access control files.
func (s *Stack) prepareTrinoSecurity(sec Secrets) error {
	dir := s.path("etc", "trino-tls")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	keystore := filepath.Join(dir, "keystore.pem")
	if _, err := os.Stat(keystore); err != nil {
		key, cert, err := selfSignedTrinoCert()
		if err != nil {
			return err
		}
		if err := writeFileAtomic(keystore, string(key)+string(cert), 0o600); err != nil {
			return err
		}
		if err := writeFileAtomic(s.TrinoCAFile(), string(cert), 0o644); err != nil {
			return err
		}
	}
	var pw strings.Builder
	for _, u := range trinoUsers {
		h, err := trinoconf.PasswordHash(sec[u.secret], rand.Reader)
		if err != nil {
			return err
		}
		fmt.Fprintf(&pw, "%s:%s\n", u.name, h)
	}
	for name, content := range map[string]string{
		"password.db": pw.String(),
		"password-authenticator.properties": joinLines("password-authenticator.name=file",
			"file.password-file="+filepath.Join(dir, "password.db")),
		"access-control.properties": joinLines("access-control.name=file",
			"security.config-file="+filepath.Join(dir, "rules.json")),
		"rules.json": string(trinoconf.AccessRules),
	} {
		if err := writeFileAtomic(filepath.Join(dir, name), content, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// selfSignedTrinoCert makes the coordinator's key (PKCS #8) and a
// certificate for 127.0.0.1 and localhost, ten years, PEM encoded: Trino
// reads the two from one PEM keystore.
func selfSignedTrinoCert() (key, cert []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "weir local trino"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
