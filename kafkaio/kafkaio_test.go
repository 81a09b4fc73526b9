package kafkaio

import (
	"errors"
	"fmt"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"weir/config"
)

func TestBaseConfig(t *testing.T) {
	if _, err := baseConfig(config.Kafka{}, nil, nil); err == nil {
		t.Fatal("no brokers accepted")
	}
	cm, err := baseConfig(config.Kafka{Brokers: []string{"a:1", "b:2"}},
		kafka.ConfigMap{"linger.ms": 20, "acks": "all"}, kafka.ConfigMap{"linger.ms": 5})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"bootstrap.servers": "a:1,b:2", "linger.ms": 5, "acks": "all"} {
		if got := (*cm)[k]; got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
}

func TestSourceTopics(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range SourceTopics() {
		if seen[s.Name] || s.Partitions < 1 {
			t.Errorf("bad spec %+v", s)
		}
		seen[s.Name] = true
		compacted := s.Config["cleanup.policy"] == "compact"
		if dim := len(s.Name) > 5 && s.Name[:5] == "dims."; dim != compacted {
			t.Errorf("%s: compacted = %v", s.Name, compacted)
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d source topics, want 6", len(seen))
	}
}

// Reading committed offsets waits out a coordinator that is loading or
// moving (seen right after a fresh stack's start: "Broker: Not
// coordinator"), and gives up at once on any other error.
func TestCoordinatorUnsettled(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{kafka.NewError(kafka.ErrNotCoordinator, "", false), true},
		{fmt.Errorf("wrapped: %w", kafka.NewError(kafka.ErrCoordinatorLoadInProgress, "", false)), true},
		{kafka.NewError(kafka.ErrCoordinatorNotAvailable, "", false), true},
		{kafka.NewError(kafka.ErrUnknownTopicOrPart, "", false), false},
		{kafka.NewError(kafka.ErrGroupAuthorizationFailed, "", false), false},
		{errors.New("other"), false},
	} {
		if got := coordinatorUnsettled(c.err); got != c.want {
			t.Errorf("coordinatorUnsettled(%v) = %t, want %t", c.err, got, c.want)
		}
	}
}
