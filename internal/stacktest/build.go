package stacktest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Weir returns the weir binary, built from this module once per test
// process into a temporary directory that Main removes (and the next build
// removes, should the process die before Main could). The build fails
// rather than hand out a binary of a tree that changed while it was built
// (an editor saving mid-build): the Go files and embedded files of
// cmd/weir's packages, go.mod and go.sum are hashed before and after.
func Weir(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.path, build.err = buildWeir() })
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

func buildWeir() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	sweepBuilds()
	if build.dir, err = os.MkdirTemp("", fmt.Sprintf("%s%d-", buildDirPrefix, os.Getpid())); err != nil {
		return "", err
	}
	bin := filepath.Join(build.dir, "weir")
	for attempt := 0; ; attempt++ {
		before, err := sourceHash(root)
		if err != nil {
			return "", err
		}
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/weir")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build weir: %v\n%s", err, out)
		}
		after, err := sourceHash(root)
		if err != nil {
			return "", err
		}
		if before == after {
			return bin, nil
		}
		if attempt == 2 {
			return "", fmt.Errorf("build weir: the source tree under %s changed during each of %d builds; not testing a binary of a half-edited tree", root, attempt+1)
		}
	}
}

// sourceHash hashes every file the weir binary is built from: the Go,
// cgo and embedded files of the module's packages cmd/weir depends on, and
// go.mod and go.sum.
func sourceHash(root string) (string, error) {
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if and .Module .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}
{{end}}{{range .CgoFiles}}{{$d}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}
{{end}}{{end}}`, "./cmd/weir")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list ./cmd/weir: %v\n%s", err, stderr.String())
	}
	files := append(strings.Fields(string(out)), filepath.Join(root, "go.mod"), filepath.Join(root, "go.sum"))
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// buildDirPrefix names the build directories: weir-stacktest-<pid>-<random>.
const buildDirPrefix = "weir-stacktest-"

// sweepBuilds removes the build directories of test processes that are
// gone without their TestMain's cleanup (killed, or timed out by go test).
func sweepBuilds() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), buildDirPrefix+"*-*"))
	for _, dir := range dirs {
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(dir), buildDirPrefix), "-", 2)[0])
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(dir)
		}
	}
}

func cleanupBuild() {
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
}
