//go:build integration && cluster

package localstack_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"weir/config"
	"weir/localstack"
	"weir/objectstore"
)

func clusterStack(t *testing.T) (*localstack.Stack, config.Config) {
	t.Helper()
	if os.Getenv("WEIR_STACK_PROFILE") != "cluster" {
		t.Fatal("cluster tests need the cluster profile: make test-cluster")
	}
	s, err := localstack.New(os.Getenv("WEIR_STACK_DIR"), os.Getenv("WEIR_CACHE_DIR"), localstack.Cluster, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg
}

// With one of three brokers stopped, an RF 3 / min ISR 2 topic keeps
// accepting acks=all writes and serving reads.
func TestClusterKafkaBrokerDown(t *testing.T) {
	s, cfg := clusterStack(t)
	ctx := context.Background()
	if err := s.StopService(ctx, "kafka2"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.StartService(context.Background(), "kafka2"); err != nil {
			t.Errorf("restart kafka2: %v", err)
		}
	})
	// Only the live brokers are given: the client must not need kafka2.
	live := []string{cfg.Kafka.Brokers[0], cfg.Kafka.Brokers[2]}
	produceConsume(t, live, fmt.Sprintf("it.broker-down.%d", rand.Int64N(1e9)), 3, 2000)
}

// With one of four MinIO nodes stopped, the erasure-coded pool keeps
// serving reads (of objects written before) and writes.
func TestClusterMinIONodeDown(t *testing.T) {
	s, cfg := clusterStack(t)
	ctx := context.Background()
	c, err := objectstore.NewS3(cfg.S3)
	if err != nil {
		t.Fatal(err)
	}
	before := fmt.Sprintf("it/node-down/%d/before", rand.Int64N(1e9))
	payload := bytes.Repeat([]byte("weir"), 64<<10)
	if _, err := c.PutObject(ctx, cfg.S3.Bucket, before, bytes.NewReader(payload), int64(len(payload)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.StopService(ctx, "minio3"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.StartService(context.Background(), "minio3"); err != nil {
			t.Errorf("restart minio3: %v", err)
		}
	})
	read := func(key string) []byte {
		t.Helper()
		var last error
		for i := 0; i < 20; i++ {
			obj, err := c.GetObject(ctx, cfg.S3.Bucket, key, minio.GetObjectOptions{})
			if err == nil {
				var b []byte
				if b, err = io.ReadAll(obj); err == nil {
					return b
				}
			}
			last = err
			time.Sleep(500 * time.Millisecond)
		}
		t.Fatalf("read %s with a node down: %v", key, last)
		return nil
	}
	if !bytes.Equal(read(before), payload) {
		t.Fatal("object written before the outage reads back different")
	}
	after := before[:len(before)-len("before")] + "after"
	var err2 error
	for i := 0; i < 20; i++ {
		if _, err2 = c.PutObject(ctx, cfg.S3.Bucket, after, bytes.NewReader(payload), int64(len(payload)), minio.PutObjectOptions{}); err2 == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err2 != nil {
		t.Fatalf("write with a node down: %v", err2)
	}
	if !bytes.Equal(read(after), payload) {
		t.Fatal("object written during the outage reads back different")
	}
}
