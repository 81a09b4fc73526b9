package alerts

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"
)

// Alert quality: episodes of the notifications a run produced, scored
// against the incidents known to be in its input (the generator's ground
// truth, or hand-written incident files of the same shape).
//
// An episode matches an incident when its kind label equals the incident's
// kind, every label both carry agrees (the generator's "operation" is what
// app.events calls "type"), and the episode's span [start, end] meets the
// incident's span widened by a tolerance. An episode that matches none may
// still be explained by one: the incident lists the labels of what else it
// shows in (its "effects": a callee's latency regression slows its callers).

// Incident is one ground-truth incident (a line of weir generate --truth).
type Incident struct {
	Kind      string             `json:"kind"`
	Shape     string             `json:"shape,omitempty"`
	Magnitude float64            `json:"magnitude,omitempty"`
	Labels    map[string]string  `json:"labels"`
	Start     time.Time          `json:"start"`
	End       time.Time          `json:"end"`
	Stats     map[string]float64 `json:"stats,omitempty"`
	// Effects: labels of other alerts the incident explains (a "kind" key
	// names another kind than the incident's).
	Effects []map[string]string `json:"effects,omitempty"`
}

// ReadIncidents decodes ground-truth JSON lines.
func ReadIncidents(r io.Reader) ([]Incident, error) {
	var out []Incident
	dec := json.NewDecoder(r)
	for {
		var a Incident
		if err := dec.Decode(&a); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return nil, fmt.Errorf("decode ground truth: %w", err)
		}
		out = append(out, a)
	}
}

// Episode is one alert from firing to resolved.
type Episode struct {
	Rule   string            `json:"rule"`
	Labels map[string]string `json:"labels"`
	// Start is the alert's startsAt: when its conditions began to hold
	// (before a rule's for had passed).
	Start time.Time `json:"start"`
	// FiredAt is when it was raised: the end of the window that fired it.
	FiredAt time.Time `json:"fired_at"`
	// End is when it resolved; zero while it still fires.
	End    time.Time          `json:"end,omitzero"`
	Values map[string]float64 `json:"values,omitempty"`
}

// Episodes pairs firing and resolved notifications (by fingerprint and
// start; a revision's later end wins), in the order of their starts.
func Episodes(ns []Notification) []Episode {
	type key struct {
		fp    string
		start int64
	}
	idx := map[key]int{}
	var eps []Episode
	for _, n := range ns {
		k := key{n.Fingerprint, n.StartsAt.UnixMilli()}
		i, ok := idx[k]
		if !ok {
			i = len(eps)
			idx[k] = i
			eps = append(eps, Episode{Rule: n.Rule, Labels: n.Labels, Start: n.StartsAt, FiredAt: n.WindowEnd, Values: n.Values})
		}
		e := &eps[i]
		switch {
		case n.Status == Resolved || !n.EndsAt.IsZero():
			if n.EndsAt.After(e.End) {
				e.End = n.EndsAt
			}
		case n.Status == Firing:
			e.End = time.Time{} // (re-)opened
		}
	}
	sort.SliceStable(eps, func(i, j int) bool { return eps[i].Start.Before(eps[j].Start) })
	return eps
}

// labelAliases maps a ground-truth label to the alert label holding it.
var labelAliases = map[string]string{"operation": "type"}

// labelsAgree: every label both sides carry has the same value.
func labelsAgree(truthLabels, alertLabels map[string]string) bool {
	for k, v := range truthLabels {
		if a, ok := labelAliases[k]; ok {
			k = a
		}
		if got, ok := alertLabels[k]; ok && got != v {
			return false
		}
	}
	return true
}

// span returns the time the episode was firing as its notifications tell
// it: from its startsAt to its endsAt (an open one ending at runEnd). This is
// what an outside evaluator scoring the notifications Alertmanager received
// measures. The startsAt of a window rule is the end of the first window in
// which its conditions held (before a rule's for had passed), of a sequence
// rule the first record of the match.
func (e Episode) span(runEnd time.Time) (time.Time, time.Time) {
	if e.End.IsZero() {
		return e.Start, runEnd
	}
	return e.Start, e.End
}

// raised is when the alert was first sent: the end of the window that fired
// it (its startsAt may be earlier), or its startsAt when that is later.
func (e Episode) raised() time.Time {
	if e.FiredAt.After(e.Start) {
		return e.FiredAt
	}
	return e.Start
}

func (in Incident) meets(e Episode, tol time.Duration, runEnd time.Time) bool {
	s, end := e.span(runEnd)
	return !end.Before(in.Start.Add(-tol)) && s.Before(in.End.Add(tol))
}

// Matches: same kind, agreeing labels, meeting spans.
func (in Incident) Matches(e Episode, tol time.Duration, runEnd time.Time) bool {
	return e.Labels["kind"] == in.Kind && labelsAgree(in.Labels, e.Labels) && in.meets(e, tol, runEnd)
}

// Explains: the episode is at the incident's time, with the labels of one
// of its effects, and of the effect's kind (the incident's own unless the
// effect names another).
func (in Incident) Explains(e Episode, tol time.Duration, runEnd time.Time) bool {
	if !in.meets(e, tol, runEnd) {
		return false
	}
	return slices.ContainsFunc(in.Effects, func(labels map[string]string) bool {
		kind := labels["kind"]
		if kind == "" {
			kind = in.Kind
		}
		return e.Labels["kind"] == kind && labelsAgree(labels, e.Labels)
	})
}

// Quality is the score of a set of episodes against incidents, overall or
// for one kind.
type Quality struct {
	Incidents int `json:"incidents"`
	Detected  int `json:"detected"`
	Episodes  int `json:"episodes"`
	Matched   int `json:"matched"`   // episodes matching an incident
	Explained int `json:"explained"` // episodes on an effect an incident lists (and matching none)
	False     int `json:"false"`
	// Recall is Detected / Incidents; Precision (Matched + Explained) /
	// Episodes (1 without episodes).
	Recall    float64 `json:"recall"`
	Precision float64 `json:"precision"`
	// EpisodesPerIncident is, for a detected incident, the most episodes
	// any one alert (rule and labels) had during it, averaged: 1 when no
	// alert flapped. Another rule's alert on the same incident (a route's
	// 5xx next to the service's error logs) is another alert, not another
	// episode. OneEpisode is the share of detected incidents at 1.
	EpisodesPerIncident float64 `json:"episodes_per_incident"`
	MaxEpisodes         int     `json:"max_episodes_per_incident"`
	OneEpisode          float64 `json:"one_episode_share"`
	// Coverage is the share of an incident's span during which a matching
	// episode fired by its notifications (startsAt to endsAt; 0 for a
	// missed incident): median and minimum. MedianCoverageRaised counts
	// each episode from when it was raised instead (the end of the window
	// that fired it), the stricter figure.
	MedianCoverage       float64 `json:"median_coverage"`
	MinCoverage          float64 `json:"min_coverage"`
	MedianCoverageRaised float64 `json:"median_coverage_raised"`
	// DelaySeconds is the median time from an incident's start to the
	// raising of its first matching episode (when its first notification
	// was sent), and to its startsAt.
	MedianDelaySeconds      float64 `json:"median_delay_seconds"`
	MedianStartDelaySeconds float64 `json:"median_start_delay_seconds"`
}

// Score is a whole scoring: overall, per incident kind (and the episodes'
// kinds), per incident shape, and the misses and false episodes.
type Score struct {
	Overall Quality            `json:"overall"`
	ByKind  map[string]Quality `json:"by_kind"`
	ByShape map[string]Quality `json:"by_shape"`
	Missed  []Incident         `json:"missed,omitempty"`
	False   []Episode          `json:"false_episodes,omitempty"`
	// Split are detected incidents with more than one episode.
	Split []Incident `json:"split,omitempty"`
}

type incidentResult struct {
	in             Incident
	episodes       int
	coverage       float64
	coverageRaised float64
	delay          float64 // to the raising of the first episode
	startDelay     float64 // to the startsAt of the first episode
}

// ScoreEpisodes scores episodes against incidents; runEnd closes episodes
// still firing; tol widens incidents when matching.
func ScoreEpisodes(incidents []Incident, eps []Episode, tol time.Duration, runEnd time.Time) Score {
	var results []incidentResult
	for _, in := range incidents {
		r := incidentResult{in: in}
		var spans, raisedSpans [][2]time.Time
		perAlert := map[string]int{}
		for _, e := range eps {
			if in.Matches(e, tol, runEnd) {
				perAlert[Fingerprint(e.Labels)]++
				s, end := e.span(runEnd)
				spans = append(spans, [2]time.Time{s, end})
				raisedSpans = append(raisedSpans, [2]time.Time{e.raised(), end})
			}
		}
		for _, n := range perAlert {
			r.episodes = max(r.episodes, n)
		}
		r.coverage = coverage(in.Start, in.End, spans)
		r.coverageRaised = coverage(in.Start, in.End, raisedSpans)
		if len(spans) > 0 {
			r.startDelay = max(0, spans[0][0].Sub(in.Start).Seconds())
			first := raisedSpans[0][0]
			for _, sp := range raisedSpans {
				first = minTime(first, sp[0])
			}
			r.delay = max(0, first.Sub(in.Start).Seconds())
		}
		results = append(results, r)
	}
	type epResult struct {
		e                  Episode
		matched, explained bool
	}
	var epRes []epResult
	for _, e := range eps {
		r := epResult{e: e}
		r.matched = slices.ContainsFunc(incidents, func(in Incident) bool { return in.Matches(e, tol, runEnd) })
		r.explained = !r.matched && slices.ContainsFunc(incidents, func(in Incident) bool { return in.Explains(e, tol, runEnd) })
		epRes = append(epRes, r)
	}
	quality := func(inc func(Incident) bool, ep func(Episode) bool) Quality {
		var q Quality
		var covs, covsRaised, delays, startDelays []float64
		one := 0
		for _, r := range results {
			if !inc(r.in) {
				continue
			}
			q.Incidents++
			covs = append(covs, r.coverage)
			covsRaised = append(covsRaised, r.coverageRaised)
			if r.episodes > 0 {
				q.Detected++
				delays = append(delays, r.delay)
				startDelays = append(startDelays, r.startDelay)
				q.EpisodesPerIncident += float64(r.episodes)
				q.MaxEpisodes = max(q.MaxEpisodes, r.episodes)
				if r.episodes == 1 {
					one++
				}
			}
		}
		for _, r := range epRes {
			if !ep(r.e) {
				continue
			}
			q.Episodes++
			switch {
			case r.matched:
				q.Matched++
			case r.explained:
				q.Explained++
			default:
				q.False++
			}
		}
		q.Recall, q.Precision, q.OneEpisode = 1, 1, 1
		if q.Incidents > 0 {
			q.Recall = float64(q.Detected) / float64(q.Incidents)
		}
		if q.Episodes > 0 {
			q.Precision = float64(q.Matched+q.Explained) / float64(q.Episodes)
		}
		if q.Detected > 0 {
			q.EpisodesPerIncident /= float64(q.Detected)
			q.OneEpisode = float64(one) / float64(q.Detected)
		}
		q.MedianCoverage, q.MinCoverage = median(covs), minOf(covs)
		q.MedianCoverageRaised = median(covsRaised)
		q.MedianDelaySeconds, q.MedianStartDelaySeconds = median(delays), median(startDelays)
		return q
	}
	s := Score{
		Overall: quality(func(Incident) bool { return true }, func(Episode) bool { return true }),
		ByKind:  map[string]Quality{},
		ByShape: map[string]Quality{},
	}
	kinds := map[string]bool{}
	shapes := map[string]bool{}
	for _, in := range incidents {
		kinds[in.Kind] = true
		shapes[in.Shape] = true
	}
	for _, e := range eps {
		kinds[e.Labels["kind"]] = true
	}
	for k := range kinds {
		s.ByKind[k] = quality(func(in Incident) bool { return in.Kind == k }, func(e Episode) bool { return e.Labels["kind"] == k })
	}
	for sh := range shapes {
		if sh == "" {
			continue
		}
		s.ByShape[sh] = quality(func(in Incident) bool { return in.Shape == sh }, func(Episode) bool { return false })
	}
	for _, r := range results {
		if r.episodes == 0 {
			s.Missed = append(s.Missed, r.in)
		}
		if r.episodes > 1 {
			s.Split = append(s.Split, r.in)
		}
	}
	for _, r := range epRes {
		if !r.matched && !r.explained {
			s.False = append(s.False, r.e)
		}
	}
	return s
}

// coverage is the share of [start, end) covered by the union of spans.
func coverage(start, end time.Time, spans [][2]time.Time) float64 {
	total := end.Sub(start)
	if total <= 0 {
		return 0
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0].Before(spans[j][0]) })
	var covered time.Duration
	cur := start
	for _, sp := range spans {
		s, e := maxTime(sp[0], cur), minTime(sp[1], end)
		if e.After(s) {
			covered += e.Sub(s)
			cur = e
		}
	}
	return float64(covered) / float64(total)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return slices.Min(xs)
}
