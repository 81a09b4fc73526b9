package localstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// kafkaNode is one KRaft node (broker and controller in one process).
type kafkaNode struct {
	id        int
	port      int // client listener; the controller listens on port+1
	name      string
	replicas  int
	minISR    int
	allVoters string
	bootstrap string
}

func (s *Stack) kafkaNodes() []kafkaNode {
	n := 1
	if s.Profile == Cluster {
		n = 3
	}
	var voters, boot []string
	for i := 1; i <= n; i++ {
		port := s.port(19092 + (i-1)*100)
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", i, port+1))
		boot = append(boot, fmt.Sprintf("127.0.0.1:%d", port))
	}
	var out []kafkaNode
	for i := 1; i <= n; i++ {
		name := "kafka"
		if n > 1 {
			name = fmt.Sprintf("kafka%d", i)
		}
		minISR := 1
		if n == 3 {
			minISR = 2
		}
		out = append(out, kafkaNode{id: i, port: s.port(19092 + (i-1)*100), name: name, replicas: n, minISR: minISR,
			allVoters: strings.Join(voters, ","), bootstrap: strings.Join(boot, ",")})
	}
	return out
}

func (s *Stack) kafka() []*service {
	var out []*service
	for _, node := range s.kafkaNodes() {
		dir := s.path("data", node.name)
		props := filepath.Join(s.path("etc", node.name), "server.properties")
		log4j := filepath.Join(s.path("etc", node.name), "log4j2.properties")
		heap := "-Xmx768m"
		if node.replicas > 1 {
			heap = "-Xmx512m"
		}
		out = append(out, &service{
			name:     node.name,
			endpoint: fmt.Sprintf("127.0.0.1:%d", node.port),
			listens:  []string{fmt.Sprintf("127.0.0.1:%d", node.port), fmt.Sprintf("127.0.0.1:%d", node.port+1)},
			// argv[0] is resolved in prepare (the JDK is looked up once).
			argv: []string{"java", heap, "-Xms128m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
				"-Dlog4j2.configurationFile=" + log4j, "-cp", s.kafkaLibs() + "/*", "kafka.Kafka", props},
			startTimeout: 90 * time.Second,
			prepare: func(ctx context.Context) error {
				return s.prepareKafka(ctx, node, dir, props, log4j)
			},
			healthy: kafkaHealthy(node),
		})
	}
	java, err := kafkaJava()
	if err == nil {
		for _, sv := range out {
			sv.argv[0] = java
		}
	}
	return out
}

func (s *Stack) prepareKafka(ctx context.Context, node kafkaNode, dir, props, log4j string) error {
	conf := joinLines(
		"process.roles=broker,controller",
		fmt.Sprintf("node.id=%d", node.id),
		"controller.quorum.voters="+node.allVoters,
		fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d,CONTROLLER://127.0.0.1:%d", node.port, node.port+1),
		fmt.Sprintf("advertised.listeners=PLAINTEXT://127.0.0.1:%d", node.port),
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"controller.listener.names=CONTROLLER",
		"inter.broker.listener.name=PLAINTEXT",
		"log.dirs="+dir,
		"num.partitions=6",
		fmt.Sprintf("default.replication.factor=%d", node.replicas),
		fmt.Sprintf("min.insync.replicas=%d", node.minISR),
		fmt.Sprintf("offsets.topic.replication.factor=%d", node.replicas),
		fmt.Sprintf("transaction.state.log.replication.factor=%d", node.replicas),
		fmt.Sprintf("transaction.state.log.min.isr=%d", node.minISR),
		fmt.Sprintf("share.coordinator.state.topic.replication.factor=%d", node.replicas),
		fmt.Sprintf("share.coordinator.state.topic.min.isr=%d", node.minISR),
		"unclean.leader.election.enable=false",
		"auto.create.topics.enable=true",
		"group.initial.rebalance.delay.ms=0",
		"message.max.bytes=4194304",
		"log.retention.hours=168",
		"log.segment.bytes=268435456",
	)
	if err := writeFile(props, conf, 0o644); err != nil {
		return err
	}
	if err := writeFile(log4j, joinLines(
		"status = warn",
		"appender.console.type = Console",
		"appender.console.name = STDOUT",
		"appender.console.layout.type = PatternLayout",
		"appender.console.layout.pattern = [%d] %p %m (%c)%n",
		"rootLogger.level = info",
		"rootLogger.appenderRef.stdout.ref = STDOUT",
		"logger.kafka.name = kafka",
		"logger.kafka.level = info",
		"logger.state.name = state.change.logger",
		"logger.state.level = warn",
	), 0o644); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "meta.properties")); err == nil {
		return nil
	}
	id, err := s.kafkaClusterID()
	if err != nil {
		return err
	}
	java, err := kafkaJava()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, java, "-cp", s.kafkaLibs()+"/*", "-Dlog4j2.configurationFile="+log4j,
		"kafka.tools.StorageTool", "format", "--cluster-id="+id, "-c", props)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("format kafka storage: %w\n%s", err, tail(out))
	}
	return nil
}

// kafkaClusterID is generated once per stack and shared by all its nodes.
// It is base64 and starts with '-' one time in 64: it is passed to the
// storage tool as --cluster-id=<id>, never as a separate argument that the
// tool would take for an option.
func (s *Stack) kafkaClusterID() (string, error) {
	p := s.path("data", "kafka-cluster-"+string(s.Profile)+".id")
	if b, err := os.ReadFile(p); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 16)
	rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	return id, writeFile(p, id, 0o644)
}

// kafkaHealthy is true once the node serves metadata that lists every node
// of the cluster, i.e. it has joined the quorum.
func kafkaHealthy(node kafkaNode) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ac, err := kafka.NewAdminClient(&kafka.ConfigMap{
			"bootstrap.servers": fmt.Sprintf("127.0.0.1:%d", node.port),
			"log_level":         0,
		})
		if err != nil {
			return err
		}
		defer ac.Close()
		md, err := ac.GetMetadata(nil, false, 3000)
		if err != nil {
			return err
		}
		if len(md.Brokers) < node.replicas {
			return fmt.Errorf("%d of %d brokers registered", len(md.Brokers), node.replicas)
		}
		return nil
	}
}
