package localstack

// Pinned versions of every program the native stack runs. Change them here
// and nowhere else.
const (
	// KafkaVersion is resolved from Maven Central (kafka_2.13 and its runtime
	// dependencies) with the machine's Maven.
	KafkaVersion = "4.1.1"
	// Log4jVersion is the log4j2 backend the broker logs through.
	Log4jVersion = "2.24.3"
	// SLF4JVersion must be 2.x for log4j-slf4j2-impl.
	SLF4JVersion = "2.0.17"

	// TrinoVersion is the server tarball from Maven Central; 476's Iceberg
	// connector stores views in the JDBC catalog (schema V1). It needs JDK 24+.
	TrinoVersion = "476"
	// TrinoMinJava is the lowest Java feature release Trino 476 starts on.
	TrinoMinJava = 24
	// JDK4PyVersion is the PyPI package used when the machine has no JDK new
	// enough for Trino.
	JDK4PyVersion = "25.0.2.1"

	// MinIOModule, AlertmanagerModule and PrometheusModule are built with
	// `go install`.
	MinIOModule        = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
	AlertmanagerModule = "github.com/prometheus/alertmanager/cmd/alertmanager@v0.28.1"
	PrometheusModule   = "github.com/prometheus/prometheus/cmd/prometheus@v0.316.0"
	// PromtoolModule is Prometheus's rule tester (make test-rules), the
	// same version; not part of the stack.
	PromtoolModule = "github.com/prometheus/prometheus/cmd/promtool@v0.316.0"

	// IcebergConnectVersion is Apache Iceberg's Kafka Connect sink, the peer
	// make bench-peer measures weir's stream job against. Its runtime zip
	// is not published to Maven Central, so the plugin is assembled from the
	// jars (localstack.InstallIcebergConnect) and runs in a Connect worker
	// of KafkaVersion.
	IcebergConnectVersion = "1.12.0"
	// HadoopVersion is the hadoop-common the sink's Configuration needs,
	// without its heavy transitive dependencies.
	HadoopVersion = "3.4.1"
	// PostgresJDBCVersion is the driver of the sink's JDBC catalog.
	PostgresJDBCVersion = "42.7.8"
)
