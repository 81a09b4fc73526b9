package alerts

import (
	"maps"
	"slices"

	"weir/jobs/alerts/rules"
)

// GroupLimitAlert is the alert the job raises about itself when a rule
// reaches max_groups and refuses records of new groups: its results are
// then incomplete, and an operator must raise the limit or narrow group_by.
const GroupLimitAlert = "AlertRuleGroupLimit"

// groupLimitQuiet is how long (event time) a rule must go without a
// refused record before its group-limit alert resolves.
const groupLimitQuiet int64 = 10 * 60 * 1000

// limitEpisode is one open group-limit alert of a rule (checkpointed).
type limitEpisode struct {
	Start   int64 // event time of the first refused record, to the minute
	Last    int64 // event time of the latest refused record
	Dropped int64 // records refused in this episode
}

// dropGroup counts a record of rule r refused because r holds max_groups
// groups, and opens r's group-limit alert if it is not firing.
func (e *Engine) dropGroup(r *rules.Rule, ts int64) {
	e.stats.GroupsDropped++
	if e.stats.DroppedBy == nil {
		e.stats.DroppedBy = map[string]int64{}
	}
	e.stats.DroppedBy[r.Name]++
	if e.limits == nil {
		e.limits = map[string]*limitEpisode{}
	}
	ep, ok := e.limits[r.Name]
	if !ok {
		ep = &limitEpisode{Start: ts - ts%60_000, Last: ts, Dropped: 1}
		e.limits[r.Name] = ep
		e.emitGroupLimit(r.Name, ep, Firing)
		return
	}
	ep.Dropped++
	ep.Last = max(ep.Last, ts)
}

// resolveGroupLimits resolves the group-limit alerts of rules that refused
// nothing for groupLimitQuiet before the watermark.
func (e *Engine) resolveGroupLimits(wm int64) {
	for _, name := range slices.Sorted(maps.Keys(e.limits)) {
		if ep := e.limits[name]; wm >= ep.Last+groupLimitQuiet {
			e.emitGroupLimit(name, ep, Resolved)
			delete(e.limits, name)
		}
	}
}

func (e *Engine) emitGroupLimit(rule string, ep *limitEpisode, status string) {
	r := &rules.Rule{Name: GroupLimitAlert, Severity: "warning", Labels: map[string]string{"rule": rule, "kind": "group_limit"}}
	var ends int64
	if status == Resolved {
		ends = ep.Last
	}
	e.emit(r, nil, status, ep.Start, ends, ep.Start, ep.Last, map[string]float64{"dropped": float64(ep.Dropped)})
	e.out[len(e.out)-1].Annotations = map[string]string{
		"summary": "alert rule " + rule + " reached max_groups and refuses records of new groups",
	}
}
