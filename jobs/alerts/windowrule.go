package alerts

import (
	"slices"
	"sort"
	"strconv"
	"time"

	"weir/jobs/alerts/rules"
	"weir/jobs/alerts/window"
)

// windowRule evaluates one rule with conditions over event-time windows.
//
// Per group it keeps slide-sized panes (so a record updates one pane), the
// results of closed windows still inside allowed lateness, the episode state
// before them (Base), and the episodes already announced. Whenever a result
// changes, the episodes are recomputed from Base over the results and the
// difference is emitted: a late record can fire a window that was quiet, or
// resolve one that fired.
type windowRule struct {
	r        *rules.Rule
	spec     window.Spec
	filter   rules.Matcher
	conds    []cond
	forMs    int64
	keepMs   int64 // keep_firing_for
	lateness int64
	horizon  int64 // how far back baseline history reaches
	lookback int   // windows a baseline may skip back over (excluded ones)

	St windowRuleState
}

// windowRuleState is everything checkpointed for a window rule.
type windowRuleState struct {
	Groups  map[string]*group
	NextEnd int64 // next window end to close; 0 before the first record
	FirstTS int64 // earliest pane seen (baseline warm-up)
	Closed  bool  // some window has closed
	keyBuf  []string
}

type cond struct {
	c     *rules.Condition
	where rules.Matcher
}

// zeroWhenEmpty: a window without records has the value 0 (a count, a sum),
// rather than none (a percentile, a ratio).
func (c *cond) zeroWhenEmpty() bool {
	return c.c.Aggregate != rules.Percentile && c.c.Aggregate != rules.Ratio
}

type group struct {
	Vals      []string
	Panes     map[int64]*pane
	Results   []result  // closed, still mutable windows, by end
	Base      epState   // state after every finalized window
	Announced []episode // episodes already emitted, by start
	Hist      map[int64][]float64
	// Excl marks the windows (by end) that were part of an alert: true, or
	// inside a firing episode. Baselines skip them.
	Excl map[int64]bool
	// Frozen is each baseline condition's last baseline, used while every
	// window in the look-back is excluded (a long incident).
	Frozen map[int]float64
	Dirty  bool
}

type pane struct {
	Count    int64
	Num      []int64
	Sum      []float64
	Sets     []map[string]bool
	Sketches []Sketch
}

type result struct {
	End    int64
	OK     bool // every condition holds at its firing threshold
	Hold   bool // every condition holds at its resolve threshold
	Values map[string]float64
}

type epState struct {
	RunStart int64 // end of the first true window of the current run, 0 if none
	LastEnd  int64
	Firing   bool
	StartsAt int64
	LastHold int64 // end of the last window that kept the firing alert firing
	// HoldStart is the end of the first window of the current unbroken run
	// of windows holding at the resolve thresholds (0 if none): the onset an
	// alert fired from this run is dated back to.
	HoldStart int64 `json:",omitempty"`
}

type episode struct {
	Start   int64
	End     int64 // 0 while open
	FiredAt int64 // end of the window that fired it
	Values  map[string]float64
	// Revised counts how often late data re-opened the episode after it was
	// announced as resolved; its later notifications carry it in their IDs.
	Revised int `json:",omitempty"`
}

func newWindowRule(r *rules.Rule, lateness int64) *windowRule {
	wr := &windowRule{
		r:        r,
		spec:     window.NewSpec(r.Window.Size.D(), r.Window.Slide.D()),
		filter:   rules.Compile(r.Filter),
		forMs:    r.For.D().Milliseconds(),
		keepMs:   r.KeepFiringFor.D().Milliseconds(),
		lateness: lateness,
		St:       windowRuleState{Groups: map[string]*group{}},
	}
	for i := range r.Conditions {
		c := &r.Conditions[i]
		wr.conds = append(wr.conds, cond{c: c, where: rules.Compile(c.Where)})
		if c.Baseline != nil {
			look := max(3*c.Baseline.Windows, int(baselineLookback.Milliseconds()/wr.spec.Size))
			wr.lookback = max(wr.lookback, look)
			if h := c.Baseline.Lag.D().Milliseconds() + int64(c.Baseline.Windows+look+1)*wr.spec.Size; h > wr.horizon {
				wr.horizon = h
			}
		}
	}
	return wr
}

func (wr *windowRule) add(e *Engine, r *Record) {
	if !wr.filter.Match(r.Fields) {
		return
	}
	st := &wr.St
	var key string
	key, st.keyBuf = groupKey(r.Fields, wr.r.GroupBy, st.keyBuf)
	g, ok := st.Groups[key]
	if !ok {
		if len(st.Groups) >= e.settings.MaxGroups {
			e.dropGroup(wr.r, r.TS)
			return
		}
		g = &group{Vals: append([]string(nil), st.keyBuf...), Panes: map[int64]*pane{}}
		st.Groups[key] = g
	}
	ps := wr.spec.Pane(r.TS)
	if st.FirstTS == 0 || ps < st.FirstTS {
		st.FirstTS = ps
	}
	if st.NextEnd == 0 || !st.Closed && wr.spec.FirstEnd(ps) < st.NextEnd {
		// Nothing closed yet: the first window to close is the earliest one
		// holding a record.
		st.NextEnd = wr.spec.FirstEnd(ps)
	}
	p, ok := g.Panes[ps]
	if !ok {
		p = wr.newPane()
		g.Panes[ps] = p
	}
	p.Count++
	for i := range wr.conds {
		c := &wr.conds[i]
		switch c.c.Aggregate {
		case rules.Ratio:
			if c.where.Match(r.Fields) {
				p.Num[i]++
			}
		case rules.Sum:
			if v, ok := r.Fields.Num(c.c.Field); ok {
				p.Sum[i] += v
			}
		case rules.CountDistinct:
			if v, ok := r.Fields.Str(c.c.Field); ok && len(p.Sets[i]) < maxDistinct {
				p.Sets[i][v] = true
			}
		case rules.Percentile:
			if v, ok := r.Fields.Num(c.c.Field); ok {
				p.Sketches[i].Add(v)
			}
		}
	}
	// A record for a window that already closed (but is within allowed
	// lateness) changes that window's result: re-evaluate it at Advance.
	if wr.spec.FirstEnd(ps) < st.NextEnd {
		g.Dirty = true
	}
}

// baselineLookback is how far (beyond its windows) a baseline looks back
// for windows that were not part of an alert.
const baselineLookback = 2 * time.Hour

// maxDistinct caps a pane's distinct set; past it, count_distinct saturates.
const maxDistinct = 100_000

func (wr *windowRule) newPane() *pane {
	n := len(wr.conds)
	p := &pane{}
	for i, c := range wr.conds {
		switch c.c.Aggregate {
		case rules.Ratio:
			if p.Num == nil {
				p.Num = make([]int64, n)
			}
		case rules.Sum:
			if p.Sum == nil {
				p.Sum = make([]float64, n)
			}
		case rules.CountDistinct:
			if p.Sets == nil {
				p.Sets = make([]map[string]bool, n)
			}
			p.Sets[i] = map[string]bool{}
		case rules.Percentile:
			if p.Sketches == nil {
				p.Sketches = make([]Sketch, n)
			}
			p.Sketches[i] = Sketch{Buckets: map[int32]int64{}}
		}
	}
	return p
}

// advance closes every window that ends at or before wm, re-evaluates dirty
// windows, finalizes windows past allowed lateness and drops old state.
func (wr *windowRule) advance(e *Engine, wm int64) {
	st := &wr.St
	if st.NextEnd == 0 {
		return
	}
	// Re-fire: windows already closed that late records changed.
	for _, g := range st.Groups {
		if !g.Dirty {
			continue
		}
		g.Dirty = false
		changed := false
		for i := range g.Results {
			res := &g.Results[i]
			ok, hold, vals := wr.evaluate(g, res.End)
			if ok != res.OK || hold != res.Hold {
				changed = true
				e.stats.Refires++
			}
			res.OK, res.Hold, res.Values = ok, hold, vals
		}
		// A late record may also open a group's first closed window.
		if wr.backfill(g, st.NextEnd) {
			changed = true
		}
		if changed {
			wr.reconcile(e, g)
			wr.catchUp(e, g)
		}
	}
	// Skip stretches with no state at all rather than stepping through them.
	if len(st.Groups) == 0 && st.NextEnd <= wm {
		st.NextEnd = wr.spec.Pane(wm) + wr.spec.Slide
		return
	}
	for st.NextEnd <= wm {
		end := st.NextEnd
		start := wr.spec.Start(end)
		for _, g := range st.Groups {
			if !g.hasPaneIn(start, end) && !wr.active(g) {
				continue
			}
			ok, hold, vals := wr.evaluate(g, end)
			g.Results = append(g.Results, result{End: end, OK: ok, Hold: hold, Values: vals})
			wr.reconcile(e, g)
		}
		st.NextEnd += wr.spec.Slide
		st.Closed = true
		if !wr.anyState(end) {
			// Jump over empty stretches (e.g. a gap of hours in the data).
			if next := wr.earliestPaneEnd(); next > st.NextEnd && next <= wm {
				st.NextEnd = next
			}
		}
	}
	wr.finalize(e, wm)
}

// catchUp evaluates the closed windows after a group's last result while the
// group is active (late data made it fire where it had been quiet), so the
// episode resolves where the data says instead of staying open.
func (wr *windowRule) catchUp(e *Engine, g *group) {
	for wr.active(g) {
		last := g.Base.LastEnd
		if n := len(g.Results); n > 0 {
			last = g.Results[n-1].End
		}
		end := last + wr.spec.Slide
		if last == 0 || end >= wr.St.NextEnd {
			return
		}
		ok, hold, vals := wr.evaluate(g, end)
		g.Results = append(g.Results, result{End: end, OK: ok, Hold: hold, Values: vals})
		wr.reconcile(e, g)
	}
}

// backfill adds results for closed windows a group had no result for (a late
// record created its first pane there); reports whether it added any.
func (wr *windowRule) backfill(g *group, nextEnd int64) bool {
	added := false
	for ps := range g.Panes {
		for end := wr.spec.FirstEnd(ps); end <= wr.spec.LastEnd(ps) && end < nextEnd; end += wr.spec.Slide {
			if g.hasResult(end) || end <= g.Base.LastEnd {
				continue
			}
			ok, hold, vals := wr.evaluate(g, end)
			g.Results = append(g.Results, result{End: end, OK: ok, Hold: hold, Values: vals})
			added = true
		}
	}
	if added {
		sort.Slice(g.Results, func(i, j int) bool { return g.Results[i].End < g.Results[j].End })
	}
	return added
}

func (g *group) hasResult(end int64) bool {
	for _, r := range g.Results {
		if r.End == end {
			return true
		}
	}
	return false
}

func (g *group) hasPaneIn(start, end int64) bool {
	for ps := range g.Panes {
		if ps >= start && ps < end {
			return true
		}
	}
	return false
}

// active: the group is in a true run or firing, so an empty window must be
// evaluated to end it.
func (wr *windowRule) active(g *group) bool {
	st, _ := wr.simulate(g.Base, g.Results, nil)
	return st.Firing || st.RunStart != 0
}

func (wr *windowRule) anyState(end int64) bool {
	for _, g := range wr.St.Groups {
		if wr.active(g) {
			return true
		}
		for ps := range g.Panes {
			if wr.spec.LastEnd(ps) > end {
				return true
			}
		}
	}
	return false
}

func (wr *windowRule) earliestPaneEnd() int64 {
	best := int64(0)
	for _, g := range wr.St.Groups {
		for ps := range g.Panes {
			if e := wr.spec.FirstEnd(ps); best == 0 || e < best {
				best = e
			}
		}
	}
	return best
}

// evaluate merges the panes of the window ending at end and checks every
// condition at its firing threshold (ok) and at its resolve threshold (hold).
func (wr *windowRule) evaluate(g *group, end int64) (bool, bool, map[string]float64) {
	start := wr.spec.Start(end)
	var count int64
	num := make([]int64, len(wr.conds))
	sum := make([]float64, len(wr.conds))
	var sets []map[string]bool
	var sketches []*Sketch
	for ps, p := range g.Panes {
		if ps < start || ps >= end {
			continue
		}
		count += p.Count
		for i, c := range wr.conds {
			switch c.c.Aggregate {
			case rules.Ratio:
				num[i] += p.Num[i]
			case rules.Sum:
				sum[i] += p.Sum[i]
			case rules.CountDistinct:
				if sets == nil {
					sets = make([]map[string]bool, len(wr.conds))
				}
				if sets[i] == nil {
					sets[i] = map[string]bool{}
				}
				for v := range p.Sets[i] {
					sets[i][v] = true
				}
			case rules.Percentile:
				if sketches == nil {
					sketches = make([]*Sketch, len(wr.conds))
				}
				if sketches[i] == nil {
					sketches[i] = newSketch()
				}
				sketches[i].Merge(&p.Sketches[i])
			}
		}
	}
	vals := make(map[string]float64, len(wr.conds))
	raw := make([]float64, len(wr.conds))
	ok, hold := true, true
	for i, c := range wr.conds {
		var v float64
		switch c.c.Aggregate {
		case rules.Count:
			v = float64(count)
		case rules.Ratio:
			if count > 0 {
				v = float64(num[i]) / float64(count)
			}
		case rules.Sum:
			v = sum[i]
		case rules.CountDistinct:
			if sets != nil {
				v = float64(len(sets[i]))
			}
		case rules.Percentile:
			if sketches != nil && sketches[i] != nil {
				v = sketches[i].Quantile(c.c.Q)
			}
		}
		raw[i] = v
		vals[c.c.Name] = v
		var fire, resolve float64
		significant := false // still improbable under the baseline
		if b := c.c.Baseline; b != nil {
			base, warm := wr.baseline(g, end, i, b)
			vals[c.c.Name+"_baseline"] = base
			if !warm {
				ok, hold = false, false
				continue
			}
			fire, resolve = b.Factor*base, b.Factor*base
			if b.ResolveFactor > 0 {
				resolve = b.ResolveFactor * base
			}
			if c.c.Significance > 0 {
				p := excessPValue(c.c.Aggregate, v, base, count)
				if c.c.Aggregate == rules.Percentile {
					p = 1
					if sketches != nil && sketches[i] != nil {
						p = percentilePValue(c.c.Q, sketches[i].Above(base), sketches[i].N)
					}
				}
				vals[c.c.Name+"_pvalue"] = p
				significant = p < c.c.Significance
				if !significant {
					ok = false
				}
			}
		} else {
			fire, resolve = *c.c.Value, *c.c.Value
			if c.c.Resolve != nil {
				resolve = *c.c.Resolve
			}
		}
		if !rules.Compare(c.c.Op, v, fire) {
			ok = false
		}
		// A firing alert's excess that is still significant has not
		// ended, though a noisy window dipped under the resolve level.
		if !rules.Compare(c.c.Op, v, resolve) && !significant {
			hold = false
		}
	}
	if wr.horizon > 0 {
		if g.Hist == nil {
			g.Hist = map[int64][]float64{}
		}
		g.Hist[end] = raw
	}
	return ok, hold, vals
}

// baseline is the mean (or median) of condition i over the previous
// non-overlapping windows ending at least the lag before this one, a window
// without data counting as 0 for a count or sum and not at all for a
// percentile or ratio. Windows that were part of an alert are
// skipped (older ones taken instead, up to the look-back); with none left
// the last baseline stays (frozen). It is not warm until the rule has seen
// data back to the lag and half the windows before it. The result is at
// least b.Min.
func (wr *windowRule) baseline(g *group, end int64, i int, b *rules.Baseline) (float64, bool) {
	size := wr.spec.Size
	newest := end - b.Lag.D().Milliseconds() - size
	if newest-int64((b.Windows+1)/2)*size < wr.St.FirstTS {
		return 0, false // warm once half its windows have history
	}
	vals := make([]float64, 0, b.Windows)
	for k := 0; len(vals) < b.Windows && k < b.Windows+wr.lookback; k++ {
		at := newest - int64(k)*size
		if at-size < wr.St.FirstTS {
			break
		}
		if g.Excl[at] {
			continue
		}
		v := 0.0
		if h, ok := g.Hist[at]; ok {
			v = h[i]
		} else if !wr.conds[i].zeroWhenEmpty() {
			continue // no records: a percentile or ratio has no value
		}
		vals = append(vals, v)
	}
	if len(vals) == 0 {
		f, ok := g.Frozen[i]
		return max(f, b.Min), ok
	}
	var base float64
	if b.Stat == rules.Median {
		slices.Sort(vals)
		n := len(vals)
		if n%2 == 1 {
			base = vals[n/2]
		} else {
			base = (vals[n/2-1] + vals[n/2]) / 2
		}
	} else {
		for _, v := range vals {
			base += v
		}
		base /= float64(len(vals))
	}
	if g.Frozen == nil {
		g.Frozen = map[int]float64{}
	}
	g.Frozen[i] = base
	return max(base, b.Min), true
}

// simulate runs the episode state machine from base over results. An alert
// fires after its conditions held (at their firing thresholds) for the
// rule's for; it resolves once they have not held at their resolve
// thresholds for keep_firing_for. When excl is not nil, every result's
// window is marked in it: part of an alert (true or firing) or not.
func (wr *windowRule) simulate(base epState, results []result, excl map[int64]bool) (epState, []episode) {
	st := base
	var eps []episode
	if st.Firing {
		eps = append(eps, episode{Start: st.StartsAt})
	}
	resolve := func(at int64, vals map[string]float64) {
		st.Firing, st.RunStart = false, 0
		eps[len(eps)-1].End = at
		if vals != nil {
			eps[len(eps)-1].Values = vals
		}
	}
	for _, res := range results {
		if st.LastEnd != 0 && res.End-st.LastEnd > wr.spec.Slide {
			// Unevaluated windows in between had no data: false.
			st.RunStart, st.HoldStart = 0, 0
			if at := max(st.LastEnd+wr.spec.Slide, st.LastHold+wr.keepMs); st.Firing && at < res.End {
				resolve(at, nil)
			}
		}
		switch {
		case st.Firing && (res.OK || res.Hold):
			st.LastHold = res.End
		case st.Firing && res.End-st.LastHold >= wr.keepMs:
			resolve(res.End, res.Values)
		case st.Firing:
		case res.OK:
			if st.RunStart == 0 {
				st.RunStart = res.End
			}
			if st.HoldStart == 0 {
				st.HoldStart = res.End
			}
			if res.End-st.RunStart >= wr.forMs {
				start := wr.onset(st.HoldStart, st.RunStart)
				st.Firing, st.StartsAt, st.LastHold = true, start, res.End
				eps = append(eps, episode{Start: start, FiredAt: res.End, Values: res.Values})
				if excl != nil {
					// The run before it was the incident already: keep it
					// out of baselines too.
					for at := start; at < res.End; at += wr.spec.Slide {
						excl[at] = true
					}
				}
			}
		case res.Hold:
			st.RunStart = 0
			if st.HoldStart == 0 {
				st.HoldStart = res.End
			}
		default:
			st.RunStart, st.HoldStart = 0, 0
		}
		if st.Firing {
			st.HoldStart = 0
		}
		if excl != nil {
			excl[res.End] = res.OK || st.Firing || st.RunStart != 0
		}
		st.LastEnd = res.End
	}
	return st, eps
}

// onset is the startsAt of an alert whose conditions first held at their
// firing thresholds in the window ending at runStart: the end of the first
// window of the unbroken run before it that held at the resolve thresholds
// (the level that keeps a firing alert firing, so an episode spans the same
// level at both ends), at most maxOnset earlier. A rule without resolve
// thresholds holds only where it is true: its onset is runStart.
func (wr *windowRule) onset(holdStart, runStart int64) int64 {
	if holdStart == 0 || holdStart >= runStart {
		return runStart
	}
	return max(holdStart, runStart-maxOnset.Milliseconds())
}

// maxOnset bounds how far before its first true window an alert's startsAt
// is dated back.
const maxOnset = 30 * time.Minute

// revision is the ID suffix of an episode's notifications after late data
// re-opened it n times ("" for the original ones).
func revision(n int) string {
	if n == 0 {
		return ""
	}
	return "r" + strconv.Itoa(n)
}

// reconcile emits the difference between the episodes the results imply and
// those already announced.
func (wr *windowRule) reconcile(e *Engine, g *group) {
	if wr.horizon > 0 && g.Excl == nil {
		g.Excl = map[int64]bool{}
	}
	_, eps := wr.simulate(g.Base, g.Results, g.Excl)
	size := wr.spec.Size
	for _, ep := range eps {
		idx := -1
		for i := range g.Announced {
			if g.Announced[i].Start == ep.Start {
				idx = i
				break
			}
		}
		switch {
		case idx < 0:
			fired := ep.FiredAt
			if fired == 0 {
				fired = ep.Start
			}
			e.emit(wr.r, g.Vals, Firing, ep.Start, 0, fired-size, fired, ep.Values)
			if ep.End != 0 {
				e.emit(wr.r, g.Vals, Resolved, ep.Start, ep.End, ep.End-size, ep.End, ep.Values)
			}
			g.Announced = append(g.Announced, ep)
		case g.Announced[idx].End == 0 && ep.End != 0:
			e.emitRevision(wr.r, g.Vals, Resolved, ep.Start, ep.End, ep.End-size, ep.End, ep.Values, revision(g.Announced[idx].Revised))
			g.Announced[idx].End = ep.End
		case g.Announced[idx].End != 0 && (ep.End == 0 || ep.End > g.Announced[idx].End):
			// Late data extended an episode announced as resolved: it fires
			// again (same start) and resolves where the data now says.
			a := &g.Announced[idx]
			a.Revised++
			e.emitRevision(wr.r, g.Vals, Firing, ep.Start, 0, a.End-size, a.End, ep.Values, revision(a.Revised))
			if ep.End != 0 {
				e.emitRevision(wr.r, g.Vals, Resolved, ep.Start, ep.End, ep.End-size, ep.End, ep.Values, revision(a.Revised))
			}
			a.End = ep.End
		}
	}
	// Announced open episodes the results no longer support (late data
	// retracted them) are resolved where the results first turn false.
	for i := range g.Announced {
		a := &g.Announced[i]
		if a.End != 0 {
			continue
		}
		found := false
		for _, ep := range eps {
			if ep.Start == a.Start {
				found = true
				break
			}
		}
		if found {
			continue
		}
		end := a.Start
		for _, res := range g.Results {
			if res.End > a.Start && !res.OK {
				end = res.End
				break
			}
		}
		if end == a.Start {
			end = a.Start + wr.spec.Slide
		}
		e.emitRevision(wr.r, g.Vals, Resolved, a.Start, end, end-size, end, nil, revision(a.Revised))
		a.End = end
	}
}

// finalize folds results past allowed lateness into Base, drops panes no
// open window needs, and forgets idle groups.
func (wr *windowRule) finalize(e *Engine, wm int64) {
	cut := wm - wr.lateness
	for key, g := range wr.St.Groups {
		n := 0
		for n < len(g.Results) && g.Results[n].End <= cut {
			n++
		}
		if n > 0 {
			g.Base, _ = wr.simulate(g.Base, g.Results[:n], nil)
			g.Results = append(g.Results[:0], g.Results[n:]...)
		}
		for ps := range g.Panes {
			if wr.spec.LastEnd(ps) <= cut {
				delete(g.Panes, ps)
			}
		}
		keep := g.Announced[:0]
		for _, a := range g.Announced {
			if a.End == 0 || a.End > cut-wr.spec.Size {
				keep = append(keep, a)
			}
		}
		g.Announced = keep
		for end := range g.Hist {
			if end <= cut-wr.horizon {
				delete(g.Hist, end)
			}
		}
		for end := range g.Excl {
			if end <= cut-wr.horizon {
				delete(g.Excl, end)
			}
		}
		if len(g.Panes) == 0 && len(g.Results) == 0 && len(g.Announced) == 0 && len(g.Hist) == 0 &&
			!g.Base.Firing && g.Base.RunStart == 0 {
			delete(wr.St.Groups, key)
		}
	}
}

func (wr *windowRule) size() int {
	n := 0
	for _, g := range wr.St.Groups {
		n += 1 + len(g.Panes) + len(g.Results) + len(g.Hist)
	}
	return n
}
