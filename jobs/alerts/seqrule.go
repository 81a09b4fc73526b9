package alerts

import (
	"strings"

	"weir/jobs/alerts/rules"
)

// seqRule evaluates "A then B by the same key within T". Both sides are kept
// per key until no on-time record could still match them, so the pair is
// found whichever arrives first; each A and each B is used by one match.
// A match fires at once (no window to wait for): it cannot be undone by
// later data. Its startsAt is the first record's time: the alert is about
// the pair from its start.
type seqRule struct {
	r        *rules.Rule
	filter   rules.Matcher
	first    rules.Matcher
	then     rules.Matcher
	within   int64
	hold     int64
	lateness int64
	keyBy    []string // group_by, then sequence.same

	St seqRuleState
}

type seqRuleState struct {
	Keys map[string]*seqKey
	// Open are the episodes announced per label set (group_by values) that
	// a later match may still extend.
	Open   map[string]*seqEpisode
	keyBuf []string
}

type seqEpisode struct {
	Start, End int64
	Revised    int
}

type seqKey struct {
	Vals   []string
	Firsts []int64
	Thens  []int64
}

// maxPerKey bounds the pending records of one key (a bot hammering one
// operation must not grow state without limit); the oldest go first.
const maxPerKey = 64

func newSeqRule(r *rules.Rule, lateness int64) *seqRule {
	return &seqRule{
		r:        r,
		filter:   rules.Compile(r.Filter),
		first:    rules.Compile(r.Sequence.First),
		then:     rules.Compile(r.Sequence.Then),
		within:   r.Sequence.Within.D().Milliseconds(),
		hold:     r.Sequence.Hold.D().Milliseconds(),
		lateness: lateness,
		keyBy:    append(append([]string(nil), r.GroupBy...), r.Sequence.Same...),
		St:       seqRuleState{Keys: map[string]*seqKey{}, Open: map[string]*seqEpisode{}},
	}
}

func (sr *seqRule) add(e *Engine, r *Record) {
	if !sr.filter.Match(r.Fields) {
		return
	}
	isFirst := sr.first.Match(r.Fields)
	isThen := !isFirst && sr.then.Match(r.Fields)
	if !isFirst && !isThen {
		return
	}
	st := &sr.St
	var key string
	key, st.keyBuf = groupKey(r.Fields, sr.keyBy, st.keyBuf)
	k, ok := st.Keys[key]
	if !ok {
		if len(st.Keys) >= e.settings.MaxGroups {
			e.dropGroup(sr.r, r.TS)
			return
		}
		k = &seqKey{Vals: append([]string(nil), st.keyBuf[:len(sr.r.GroupBy)]...)}
		st.Keys[key] = k
	}
	t := r.TS
	if isFirst {
		// The earliest B after t within the limit.
		best := -1
		for i, b := range k.Thens {
			if b > t && b-t <= sr.within && (best < 0 || b < k.Thens[best]) {
				best = i
			}
		}
		if best >= 0 {
			b := k.Thens[best]
			k.Thens = append(k.Thens[:best], k.Thens[best+1:]...)
			sr.fire(e, k, t, b)
			return
		}
		k.Firsts = appendBounded(k.Firsts, t)
		return
	}
	// The latest A before t within the limit.
	best := -1
	for i, a := range k.Firsts {
		if a < t && t-a <= sr.within && (best < 0 || a > k.Firsts[best]) {
			best = i
		}
	}
	if best >= 0 {
		a := k.Firsts[best]
		k.Firsts = append(k.Firsts[:best], k.Firsts[best+1:]...)
		sr.fire(e, k, a, t)
		return
	}
	k.Thens = appendBounded(k.Thens, t)
}

func appendBounded(s []int64, v int64) []int64 {
	if len(s) >= maxPerKey {
		s = append(s[:0], s[1:]...)
	}
	return append(s, v)
}

func (sr *seqRule) fire(e *Engine, k *seqKey, a, b int64) {
	values := map[string]float64{"gap_seconds": float64(b-a) / 1000}
	// An episode from A (the buy the refund undoes: the behaviour began
	// there, although it is known only at B), active for hold after B. A
	// match of the same labels that meets an active episode extends it
	// (its start stays: notifications are keyed by it).
	label := strings.Join(k.Vals, "\x00")
	if sr.St.Open == nil {
		sr.St.Open = map[string]*seqEpisode{}
	}
	if ep, ok := sr.St.Open[label]; ok && a <= ep.End && b+sr.hold >= ep.Start {
		if b+sr.hold > ep.End {
			ep.End = b + sr.hold
			ep.Revised++
			e.emitRevision(sr.r, k.Vals, Firing, ep.Start, ep.End, a, b, values, revision(ep.Revised))
		}
		return
	}
	sr.St.Open[label] = &seqEpisode{Start: a, End: b + sr.hold}
	e.emit(sr.r, k.Vals, Firing, a, b+sr.hold, a, b, values)
}

// expire drops what no on-time record can match any more.
func (sr *seqRule) expire(wm int64) {
	cut := wm - sr.lateness
	for key, k := range sr.St.Keys {
		k.Firsts = dropBefore(k.Firsts, cut-sr.within)
		k.Thens = dropBefore(k.Thens, cut)
		if len(k.Firsts) == 0 && len(k.Thens) == 0 {
			delete(sr.St.Keys, key)
		}
	}
	for label, ep := range sr.St.Open {
		if ep.End < cut {
			delete(sr.St.Open, label)
		}
	}
}

func dropBefore(s []int64, cut int64) []int64 {
	out := s[:0]
	for _, v := range s {
		if v >= cut {
			out = append(out, v)
		}
	}
	return out
}

func (sr *seqRule) size() int {
	n := 0
	for _, k := range sr.St.Keys {
		n += 1 + len(k.Firsts) + len(k.Thens)
	}
	return n
}
