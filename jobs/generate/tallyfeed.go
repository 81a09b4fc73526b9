package generate

import "sync"

// The summary parses every written record back as silver would (so tests
// check the pipeline against an independent count). That costs about a
// quarter of the generator's time, so it runs on a goroutine of its own:
// the generating goroutine copies each record into a batch and hands full
// batches over. Fault and anomaly counts stay on the generating goroutine
// (they are cheap) and are merged when the summary is taken.

// feedBatchBytes is how much record data one batch carries.
const feedBatchBytes = 256 << 10

// fedRecord is one written record, its key and value in the batch's arena.
type fedRecord struct {
	topic            string
	keyEnd, valueEnd int
	duplicate        bool
}

type feedBatch struct {
	arena []byte
	recs  []fedRecord
}

// tallyFeed runs tally.record for the records it is given, in order, on
// its own goroutine.
type tallyFeed struct {
	t     *tally
	batch *feedBatch
	ch    chan *feedBatch
	free  chan *feedBatch
	done  chan struct{}
	once  sync.Once
}

func newTallyFeed(t *tally) *tallyFeed {
	f := &tallyFeed{t: t, ch: make(chan *feedBatch, 4), free: make(chan *feedBatch, 6), done: make(chan struct{})}
	f.batch = f.newBatch()
	go f.run()
	return f
}

func (f *tallyFeed) newBatch() *feedBatch {
	select {
	case b := <-f.free:
		b.arena, b.recs = b.arena[:0], b.recs[:0]
		return b
	default:
		return &feedBatch{arena: make([]byte, 0, feedBatchBytes+4096)}
	}
}

func (f *tallyFeed) run() {
	defer close(f.done)
	for b := range f.ch {
		start := 0
		for _, r := range b.recs {
			key := b.arena[start:r.keyEnd]
			value := b.arena[r.keyEnd:r.valueEnd]
			f.t.record(r.topic, key, value, r.duplicate)
			start = r.valueEnd
		}
		select {
		case f.free <- b:
		default:
		}
	}
}

// record copies one written record into the current batch.
func (f *tallyFeed) record(topic string, key, value []byte, duplicate bool) {
	b := f.batch
	b.arena = append(b.arena, key...)
	keyEnd := len(b.arena)
	b.arena = append(b.arena, value...)
	b.recs = append(b.recs, fedRecord{topic: topic, keyEnd: keyEnd, valueEnd: len(b.arena), duplicate: duplicate})
	if len(b.arena) >= feedBatchBytes {
		f.ch <- b
		f.batch = f.newBatch()
	}
}

// close hands over the last batch and waits until every record is
// accounted; safe to call more than once.
func (f *tallyFeed) close() {
	f.once.Do(func() {
		if len(f.batch.recs) > 0 {
			f.ch <- f.batch
		}
		close(f.ch)
		<-f.done
	})
}
