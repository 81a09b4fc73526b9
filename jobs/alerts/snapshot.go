package alerts

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"

	"weir/jobs/alerts/rules"
	"weir/jobs/alerts/window"
)

// snapshotVersion changes whenever the encoded state changes shape; an old
// snapshot is then refused rather than misread. Version 2 splits the state
// into parts (see Parts).
const snapshotVersion = 2

// snapshot is the "meta" part: everything but the rules' groups.
type snapshot struct {
	Version    int
	Watermark  int64
	Partitions []partitionState
	Window     map[string]*windowRuleState // by rule digest, Groups in parts of their own
	Seq        map[string]*seqRuleState    // by rule digest, Keys in parts of their own
	Buckets    map[string]int              // parts per rule digest
	Stats      Stats
	Limits     map[string]*limitEpisode // open group-limit alerts, by rule
}

type partitionState struct {
	Topic     string
	Partition int32
	MaxTS     int64
	Active    int64 // wall time of the last record (Unix ms); absent in older snapshots
}

// metaPart names the part that holds the watermark, partitions, counters
// and each rule's scalars.
const metaPart = "meta"

// Parts encodes the engine's state (windows, sequences, watermark) as
// named parts, taken between batches, after Drain. A rule's groups are
// spread over buckets by a hash of their key, about 16 to a bucket, so a
// batch that touches a few groups changes a few parts: the job stores
// only the parts whose bytes changed (incremental checkpoints), not the
// whole state.
func (e *Engine) Parts() (map[string][]byte, error) {
	parts, wm := e.wm.State()
	s := snapshot{
		Version:   snapshotVersion,
		Watermark: wm,
		Window:    map[string]*windowRuleState{},
		Seq:       map[string]*seqRuleState{},
		Buckets:   map[string]int{},
		Stats:     e.stats,
		Limits:    e.limits,
	}
	for p, st := range parts {
		s.Partitions = append(s.Partitions, partitionState{p.Topic, p.Partition, st.MaxTS, st.Active})
	}
	sort.Slice(s.Partitions, func(i, j int) bool {
		a, b := s.Partitions[i], s.Partitions[j]
		return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
	})
	out := map[string][]byte{}
	var errs []error
	for _, wr := range e.window {
		st := wr.St
		st.Groups = nil
		errs = append(errs, putRule(e, out, &s, "w", ruleDigest(wr.r), &st, s.Window, wr.St.Groups))
	}
	for _, sr := range e.seq {
		st := sr.St
		st.Keys = nil
		errs = append(errs, putRule(e, out, &s, "s", ruleDigest(sr.r), &st, s.Seq, sr.St.Keys))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	meta, err := encodeGob(&s)
	if err != nil {
		return nil, err
	}
	out[metaPart] = meta
	return out, nil
}

// putRule puts rule digest d's scalars st in the meta part's states and its
// groups in parts of their own.
func putRule[S, V any](e *Engine, out map[string][]byte, s *snapshot, kind, d string, st *S, states map[string]*S, groups map[string]V) error {
	states[d] = st
	s.Buckets[d] = e.buckets(d, len(groups))
	return encodeBuckets(out, kind+"|"+d, s.Buckets[d], groups)
}

// buckets returns how many parts rule digest d spreads n groups over: the
// last count, doubled or halved only when the groups per bucket leave
// [4, 32], so a rule whose group count hovers does not reshuffle (and
// rewrite) all its parts.
func (e *Engine) buckets(d string, n int) int {
	if e.bucketCount == nil {
		e.bucketCount = map[string]int{}
	}
	b := max(e.bucketCount[d], 1)
	for n > 32*b && b < 1<<16 {
		b *= 2
	}
	for b > 1 && n < 4*b {
		b /= 2
	}
	e.bucketCount[d] = b
	return b
}

func encodeBuckets[V any](out map[string][]byte, prefix string, n int, groups map[string]V) error {
	buckets := make([]map[string]V, n)
	for k, g := range groups {
		i := bucketOf(k, n)
		if buckets[i] == nil {
			buckets[i] = map[string]V{}
		}
		buckets[i][k] = g
	}
	for i, b := range buckets {
		if b == nil {
			continue
		}
		raw, err := encodeBucket(b)
		if err != nil {
			return err
		}
		out[prefix+"|"+strconv.Itoa(n)+"|"+strconv.Itoa(i)] = raw
	}
	return nil
}

func bucketOf(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// encodeBucket encodes one bucket of groups. The job compares a part's
// bytes with those it stored last to tell whether it changed, so the
// encoding must be deterministic: JSON, whose maps are written in key
// order (gob writes them in Go's random map order). JSON has no NaN or
// infinity; a bucket holding one is gob-encoded instead, and is then
// stored at every checkpoint. The first byte tells which.
func encodeBucket(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err == nil {
		return append([]byte{'J'}, raw...), nil
	}
	var unsupported *json.UnsupportedValueError
	if !errors.As(err, &unsupported) {
		return nil, fmt.Errorf("encode alert state: %w", err)
	}
	raw, err = encodeGob(v)
	if err != nil {
		return nil, err
	}
	return append([]byte{'G'}, raw...), nil
}

func decodeBucket(raw []byte, v any) error {
	if len(raw) == 0 {
		return errors.New("empty part")
	}
	switch raw[0] {
	case 'J':
		return json.Unmarshal(raw[1:], v)
	case 'G':
		return gob.NewDecoder(bytes.NewReader(raw[1:])).Decode(v)
	}
	return fmt.Errorf("unknown part encoding %q", raw[0])
}

func encodeGob(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, fmt.Errorf("encode alert state: %w", err)
	}
	return b.Bytes(), nil
}

// Snapshot encodes the whole state in one value (Parts, together).
func (e *Engine) Snapshot() ([]byte, error) {
	parts, err := e.Parts()
	if err != nil {
		return nil, err
	}
	return encodeGob(parts)
}

// Restore loads a Snapshot.
func (e *Engine) Restore(raw []byte) error {
	var parts map[string][]byte
	if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&parts); err != nil {
		return fmt.Errorf("decode alert state (a snapshot older than version %d is refused): %w", snapshotVersion, err)
	}
	return e.RestoreParts(parts)
}

// RestoreParts loads the parts Parts returned. State of a rule whose
// definition changed since is dropped (the rule starts empty), so an
// edited rule never reads state built for another window or filter.
func (e *Engine) RestoreParts(parts map[string][]byte) error {
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(parts[metaPart])).Decode(&s); err != nil {
		return fmt.Errorf("decode alert state: %w", err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("decode alert state: version %d, want %d", s.Version, snapshotVersion)
	}
	for _, p := range s.Partitions {
		e.wm.Register(window.Partition{Topic: p.Topic, Partition: p.Partition}, window.PartitionState{MaxTS: p.MaxTS, Active: p.Active})
	}
	e.wm.Restore(s.Watermark)
	e.stats = s.Stats
	e.limits = s.Limits
	e.bucketCount = s.Buckets
	for _, wr := range e.window {
		st, groups, err := ruleState[windowRuleState, *group](parts, &s, "w", ruleDigest(wr.r), s.Window)
		if err != nil {
			return err
		}
		if st == nil {
			continue
		}
		st.Groups = groups
		for _, g := range st.Groups {
			if g.Panes == nil {
				g.Panes = map[int64]*pane{}
			}
			for _, p := range g.Panes {
				for i := range p.Sets {
					if p.Sets[i] == nil && wr.conds[i].c.Aggregate == rules.CountDistinct {
						p.Sets[i] = map[string]bool{}
					}
				}
				for i := range p.Sketches {
					if p.Sketches[i].Buckets == nil {
						p.Sketches[i].Buckets = map[int32]int64{}
					}
				}
			}
		}
		wr.St = *st
	}
	for _, sr := range e.seq {
		st, keys, err := ruleState[seqRuleState, *seqKey](parts, &s, "s", ruleDigest(sr.r), s.Seq)
		switch {
		case err != nil:
			return err
		case st != nil:
			st.Keys = keys
			if st.Open == nil {
				st.Open = map[string]*seqEpisode{}
			}
			sr.St = *st
		}
	}
	return nil
}

// ruleState returns rule digest d's checkpointed scalars (from states) and
// its groups (from its parts), or a nil state when the checkpoint has none
// for d: the rule is new, or was edited.
func ruleState[S, V any](parts map[string][]byte, s *snapshot, kind, d string, states map[string]*S) (*S, map[string]V, error) {
	st, ok := states[d]
	if !ok {
		return nil, nil, nil
	}
	groups := map[string]V{}
	err := decodeBuckets(parts, kind+"|"+d, s.Buckets[d], groups)
	return st, groups, err
}

func decodeBuckets[V any](parts map[string][]byte, prefix string, n int, into map[string]V) error {
	for i := range n {
		k := prefix + "|" + strconv.Itoa(n) + "|" + strconv.Itoa(i)
		raw, ok := parts[k]
		if !ok {
			continue // an empty bucket is not stored
		}
		var b map[string]V
		if err := decodeBucket(raw, &b); err != nil {
			return fmt.Errorf("decode alert state part %s: %w", k, err)
		}
		maps.Copy(into, b)
	}
	return nil
}

// ruleDigest identifies a rule definition (name and every setting).
func ruleDigest(r *rules.Rule) string {
	raw, _ := yaml.Marshal(r)
	h := sha256.Sum256(raw)
	return r.Name + "@" + hex.EncodeToString(h[:8])
}
