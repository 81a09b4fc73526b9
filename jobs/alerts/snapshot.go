package alerts

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"

	"gopkg.in/yaml.v3"

	"weir/jobs/alerts/rules"
	"weir/jobs/alerts/window"
)

// snapshotVersion changes whenever the encoded state changes shape; an old
// snapshot is then refused rather than misread.
const snapshotVersion = 1

type snapshot struct {
	Version    int
	Watermark  int64
	Partitions []partitionState
	Window     map[string]*windowRuleState // by rule digest
	Seq        map[string]*seqRuleState
	Stats      Stats
	Limits     map[string]*limitEpisode // open group-limit alerts, by rule
}

type partitionState struct {
	Topic     string
	Partition int32
	MaxTS     int64
	Active    int64 // wall time of the last record (Unix ms); absent in older snapshots
}

// Snapshot encodes the engine's state (windows, sequences, watermark). It is
// taken between batches, after Drain.
func (e *Engine) Snapshot() ([]byte, error) {
	parts, wm := e.wm.State()
	s := snapshot{
		Version:   snapshotVersion,
		Watermark: wm,
		Window:    map[string]*windowRuleState{},
		Seq:       map[string]*seqRuleState{},
		Stats:     e.stats,
		Limits:    e.limits,
	}
	for p, st := range parts {
		s.Partitions = append(s.Partitions, partitionState{p.Topic, p.Partition, st.MaxTS, st.Active})
	}
	for _, wr := range e.window {
		s.Window[ruleDigest(wr.r)] = &wr.St
	}
	for _, sr := range e.seq {
		s.Seq[ruleDigest(sr.r)] = &sr.St
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&s); err != nil {
		return nil, fmt.Errorf("encode alert state: %w", err)
	}
	return b.Bytes(), nil
}

// Restore loads a Snapshot. State of a rule whose definition changed since is
// dropped (the rule starts empty), so an edited rule never reads state built
// for another window or filter.
func (e *Engine) Restore(raw []byte) error {
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&s); err != nil {
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
	for _, wr := range e.window {
		if st, ok := s.Window[ruleDigest(wr.r)]; ok {
			if st.Groups == nil {
				st.Groups = map[string]*group{}
			}
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
	}
	for _, sr := range e.seq {
		if st, ok := s.Seq[ruleDigest(sr.r)]; ok {
			if st.Keys == nil {
				st.Keys = map[string]*seqKey{}
			}
			if st.Open == nil {
				st.Open = map[string]*seqEpisode{}
			}
			sr.St = *st
		}
	}
	return nil
}

// ruleDigest identifies a rule definition (name and every setting).
func ruleDigest(r *rules.Rule) string {
	raw, _ := yaml.Marshal(r)
	h := sha256.Sum256(raw)
	return r.Name + "@" + hex.EncodeToString(h[:8])
}
