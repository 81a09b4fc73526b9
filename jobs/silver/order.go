package silver

import (
	"cmp"
	"slices"
)

// sortEntry is one row's place in the write order: partition (day, then
// the rank of the identity partition value), then the table's sort key
// (the ranks of its strings around the event time), then the row's Kafka
// coordinates. Strings are replaced by their rank among the chunk's
// distinct values, which orders them exactly as comparing them would: the
// sort then compares integers in a compact array instead of chasing every
// row's strings, which was most of its cost.
type sortEntry struct {
	day  int64
	part uint32 // rank of the partition value
	s1   uint32 // rank of the leading sort string
	t    int64  // event time, microseconds (the stored precision)
	s2   uint32 // rank of the trailing sort string
	idx  int32  // row index
}

// sortKey is a row's sort key as the table's sort order defines it:
// (s1, t, s2), each ascending. Empty strings stand for null and sort
// first, as the tables' sort orders (nulls first) say.
type sortKey struct {
	s1 string
	t  int64
	s2 string
}

// ranker assigns each distinct string an id, then ranks ids by string.
type ranker struct {
	ids  map[string]uint32
	vals []string
}

func newRanker() *ranker { return &ranker{ids: map[string]uint32{}} }

func (r *ranker) id(s string) uint32 {
	if id, ok := r.ids[s]; ok {
		return id
	}
	id := uint32(len(r.vals))
	r.ids[s] = id
	r.vals = append(r.vals, s)
	return id
}

// ranks maps every id to the rank of its string.
func (r *ranker) ranks() []uint32 {
	byVal := make([]uint32, len(r.vals))
	for i := range byVal {
		byVal[i] = uint32(i)
	}
	slices.SortFunc(byVal, func(a, b uint32) int { return cmp.Compare(r.vals[a], r.vals[b]) })
	rank := make([]uint32, len(r.vals))
	for pos, id := range byVal {
		rank[id] = uint32(pos)
	}
	return rank
}

// order returns the rows' entries in partition and sort order, ties
// broken by Kafka coordinates (so the order does not depend on how bronze
// files were listed).
func (t *typedRows[T]) order() []sortEntry {
	parts, s1s, s2s := newRanker(), newRanker(), newRanker()
	out := make([]sortEntry, len(t.rows))
	for i := range t.rows {
		r := &t.rows[i]
		k := t.c.sortKey(&r.v)
		e := sortEntry{day: r.day, s1: s1s.id(k.s1), t: k.t, s2: s2s.id(k.s2), idx: int32(i)}
		if t.c.part != nil {
			e.part = parts.id(t.c.part(&r.v))
		}
		out[i] = e
	}
	pr, r1, r2 := parts.ranks(), s1s.ranks(), s2s.ranks()
	for i := range out {
		e := &out[i]
		if t.c.part != nil {
			e.part = pr[e.part]
		}
		e.s1, e.s2 = r1[e.s1], r2[e.s2]
	}
	slices.SortFunc(out, func(a, b sortEntry) int {
		if c := cmp.Compare(a.day, b.day); c != 0 {
			return c
		}
		if c := cmp.Compare(a.part, b.part); c != 0 {
			return c
		}
		if c := cmp.Compare(a.s1, b.s1); c != 0 {
			return c
		}
		if c := cmp.Compare(a.t, b.t); c != 0 {
			return c
		}
		if c := cmp.Compare(a.s2, b.s2); c != 0 {
			return c
		}
		return t.rows[a.idx].src.less(&t.rows[b.idx].src)
	})
	return out
}

// samePartition reports whether two entries of order() share a partition.
func samePartition(a, b *sortEntry) bool { return a.day == b.day && a.part == b.part }
