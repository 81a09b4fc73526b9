package localstack

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// IcebergConnect is Apache Iceberg's Kafka Connect sink, assembled from
// Maven Central jars for make bench-peer: a Connect worker of the stack's
// Kafka version (its classpath) and the sink as a plugin directory for the
// worker's plugin.path, so the sink's newer Jackson and Hadoop stay in its
// own class loader.
type IcebergConnect struct {
	WorkerLibs string // the worker's jars: java -cp WorkerLibs/*
	PluginPath string // plugin.path; the sink's jars are in a directory under it
	Java       string // a java binary Kafka runs on
}

// InstallIcebergConnect resolves the worker's and the sink's jars into the
// cache (once) and returns where they are.
func (s *Stack) InstallIcebergConnect(ctx context.Context) (IcebergConnect, error) {
	home := filepath.Join(s.Cache, "iceberg-connect-"+IcebergConnectVersion)
	c := IcebergConnect{
		WorkerLibs: filepath.Join(home, "worker-"+KafkaVersion, "libs"),
		PluginPath: filepath.Join(home, "plugins"),
	}
	worker := fmt.Sprintf(connectWorkerPOM, KafkaVersion, KafkaVersion, Log4jVersion, Log4jVersion, SLF4JVersion)
	if err := s.resolveJars(ctx, "kafka connect worker "+KafkaVersion, c.WorkerLibs, worker); err != nil {
		return IcebergConnect{}, err
	}
	var ex strings.Builder
	for _, e := range hadoopExclusions {
		g, a, _ := strings.Cut(e, ":")
		fmt.Fprintf(&ex, "<exclusion><groupId>%s</groupId><artifactId>%s</artifactId></exclusion>", g, a)
	}
	v := IcebergConnectVersion
	sink := fmt.Sprintf(icebergSinkPOM, v, v, v, v, v, PostgresJDBCVersion, HadoopVersion, ex.String())
	if err := s.resolveJars(ctx, "iceberg kafka connect "+v, filepath.Join(c.PluginPath, "iceberg-sink", "libs"), sink); err != nil {
		return IcebergConnect{}, err
	}
	java, err := kafkaJava()
	if err != nil {
		return IcebergConnect{}, err
	}
	c.Java = java
	return c, nil
}

// hadoopExclusions keep hadoop-common to what the sink's Configuration and
// FileIO loading need (commons-configuration2, woodstox, shaded guava):
// no servers, no Kerberos, no ZooKeeper, no second logging backend.
var hadoopExclusions = []string{
	"log4j:*", "org.slf4j:*", "ch.qos.reload4j:*", "org.apache.avro:avro",
	"com.google.guava:*", "com.google.protobuf:*", "org.apache.curator:*",
	"org.apache.zookeeper:*", "org.apache.kerby:*", "org.apache.hadoop:hadoop-auth",
	"org.eclipse.jetty:*", "com.google.re2j:*", "com.sun.jersey:*",
	"com.github.pjfanning:*", "javax.servlet:*", "jakarta.activation:*",
	"com.jcraft:*", "io.netty:*", "org.apache.hadoop.thirdparty:hadoop-shaded-protobuf_3_25",
	"dnsjava:*", "com.nimbusds:*", "org.bouncycastle:*", "io.dropwizard.metrics:*",
	"org.xerial.snappy:*", "com.google.code.gson:*", "commons-net:*",
	"org.apache.commons:commons-math3", "commons-beanutils:*", "org.codehaus.jettison:*",
}

const connectWorkerPOM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>weir.localstack</groupId>
  <artifactId>connect-worker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>connect-json</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>%s</version></dependency>
  </dependencies>
</project>
`

const icebergSinkPOM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>weir.localstack</groupId>
  <artifactId>iceberg-sink</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-kafka-connect</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-kafka-connect-transforms</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-parquet</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-aws</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.apache.iceberg</groupId><artifactId>iceberg-aws-bundle</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId><version>%s</version></dependency>
    <dependency><groupId>org.apache.hadoop</groupId><artifactId>hadoop-common</artifactId><version>%s</version>
      <exclusions>%s</exclusions></dependency>
  </dependencies>
</project>
`
