package stacktest

import (
	"fmt"
	"testing"
	"time"

	"weir/config"
	"weir/kafkaio"
	"weir/lakehouse"
)

// Offsets are Kafka offsets by topic partition.
type Offsets = map[lakehouse.TopicPartition]int64

// Watermarks returns the low and high watermark (the first and the next
// offset) of every partition of topics.
func Watermarks(t testing.TB, k config.Kafka, topics []string) (low, high Offsets) {
	t.Helper()
	c, err := kafkaio.NewConsumer(k, "weir-it-watermarks", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	low, high = Offsets{}, Offsets{}
	for _, topic := range topics {
		md, err := c.GetMetadata(&topic, false, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range md.Topics[topic].Partitions {
			l, h, err := c.QueryWatermarkOffsets(topic, p.ID, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			tp := lakehouse.TopicPartition{Topic: topic, Partition: p.ID}
			low[tp], high[tp] = l, h
		}
	}
	return low, high
}

// WaitCaughtUp waits until recorded (the tables' committed next offsets,
// e.g. stream.Offsets) reaches high on every partition, polling every
// interval; it fails the test after timeout.
func WaitCaughtUp(t testing.TB, high Offsets, timeout, interval time.Duration, recorded func() (Offsets, error)) {
	t.Helper()
	var got Offsets
	Eventually(t, timeout, interval, func() (bool, error) {
		var err error
		if got, err = recorded(); err != nil {
			return false, err
		}
		for tp, h := range high {
			if got[tp] < h {
				return false, nil
			}
		}
		return true, nil
	}, func() string {
		return fmt.Sprintf("not caught up after %s: tables record %v, topics end at %v", timeout, got, high)
	})
}
