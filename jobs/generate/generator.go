package generate

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"weir/events"
)

// Sink receives records in emission order. *kafkaio.Producer is one; a
// FileSink is the other.
type Sink interface {
	Produce(ctx context.Context, topic string, key, value []byte) error
}

// Independent random streams (second PCG word), one per concern.
const (
	streamWorld = iota + 1
	streamTraffic
	streamAnomaly
	streamFault
	streamCalibrate
)

// pending is one record waiting in the timeline.
type pending struct {
	at    time.Time // emission time: ts, or later for late (out-of-order) copies
	atNs  int64     // at in Unix nanoseconds, for the heap order
	seq   uint64    // ties broken by creation order
	ts    time.Time // event time
	topic string
	key   string

	ev *events.AppEvent
	lg *events.AppLog
	ac *events.AccessLog
	m  *events.Metric

	host    *host  // load accounting
	service string // backend service behind an access-log line

	exempt    bool   // in an anomaly's scope: no faults
	raw       []byte // ready payload of a late or duplicate copy
	duplicate bool
}

type timeline []*pending

func (t timeline) Len() int { return len(t) }
func (t timeline) Less(i, j int) bool {
	if t[i].atNs != t[j].atNs {
		return t[i].atNs < t[j].atNs
	}
	return t[i].seq < t[j].seq
}
func (t timeline) Swap(i, j int) { t[i], t[j] = t[j], t[i] }
func (t *timeline) Push(x any)   { *t = append(*t, x.(*pending)) }
func (t *timeline) Pop() any {
	old := *t
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*t = old[:len(old)-1]
	return p
}

// Generator runs one simulation. Use New, then Run once.
type Generator struct {
	cfg     Config
	end     time.Time // cfg.End, or far away when live without end
	bounded bool

	tr, ar, fr *rand.Rand // traffic, anomalies, faults
	w          *world
	tl         timeline
	seq        uint64
	counting   bool // calibration: count pushes, keep nothing
	pushed     int

	kindOrder []string
	anoms     []*Anomaly
	live      []*Anomaly // scheduled and not yet written
	nextSlot  int

	sessionRate float64            // sessions per second at diurnal factor 1
	expectReq   map[string]float64 // average requests per second of one host of each service
	hostReq     map[string]int     // calibration: requests per service
	backRate    float64            // crawler/scanner requests per second

	tally   *tally
	feed    *tallyFeed // set while Run runs
	buf     []byte
	emitted atomic.Int64
	bytes   atomic.Int64
}

// New validates cfg and prepares the simulated world.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Start = cfg.Start.UTC()
	g := newGenerator(cfg, cfg.Seed)
	g.calibrate()
	return g, nil
}

func newGenerator(cfg Config, seed uint64) *Generator {
	g := &Generator{
		cfg: cfg,
		tr:  rand.New(rand.NewPCG(seed, streamTraffic)),
		ar:  rand.New(rand.NewPCG(seed, streamAnomaly)),
		fr:  rand.New(rand.NewPCG(seed, streamFault)),
		w:   newWorld(rand.New(rand.NewPCG(seed, streamWorld)), cfg.Users),
	}
	g.end, g.bounded = cfg.End.UTC(), !cfg.End.IsZero()
	if !g.bounded {
		g.end = cfg.Start.AddDate(100, 0, 0)
	}
	g.kindOrder = append([]string(nil), cfg.kinds()...)
	g.ar.Shuffle(len(g.kindOrder), func(i, j int) { g.kindOrder[i], g.kindOrder[j] = g.kindOrder[j], g.kindOrder[i] })
	g.tally = newTally(&cfg, g.end)
	return g
}

// calibrate measures records per session on a throwaway generator so that
// the session arrival rate meets cfg.Rate on average.
func (g *Generator) calibrate() {
	c := newGenerator(g.cfg, g.cfg.Seed^0x9e3779b97f4a7c15)
	c.tr = rand.New(rand.NewPCG(g.cfg.Seed, streamCalibrate))
	c.counting = true
	c.hostReq = map[string]int{}
	const sessions = 400
	for i := 0; i < sessions; i++ {
		c.session(g.cfg.Start)
	}
	perSession := float64(c.pushed) / sessions
	metricsRate := float64(len(g.w.hosts)) * (1 + heartbeatLogP) / g.cfg.MetricInterval.Seconds()
	g.backRate = g.cfg.Rate * backgroundShare
	g.sessionRate = math.Max(g.cfg.Rate-metricsRate-g.backRate, g.cfg.Rate*0.05) / perSession
	// A host's CPU is relative to its average request rate, so load shows
	// whatever the absolute volume.
	g.expectReq = map[string]float64{}
	for svc, n := range c.hostReq {
		g.expectReq[svc] = g.sessionRate * float64(n) / sessions / float64(len(g.w.byService[svc]))
	}
	g.expectReq[svcFrontend] += g.backRate / float64(len(g.w.byService[svcFrontend]))
}

// Emitted returns the number of records and payload bytes written so far
// (safe to call while Run runs).
func (g *Generator) Emitted() (records, bytes int64) { return g.emitted.Load(), g.bytes.Load() }

// diurnal is the traffic factor at t: a daily cycle peaking at 19:00 UTC,
// plus 15% at weekends; it averages 1 over a weekday.
func diurnal(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	f := 1 + 0.6*math.Cos(2*math.Pi*(h-19)/24)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		f *= 1.15
	}
	return f
}

func (g *Generator) nextArrival(t time.Time, rate float64) time.Time {
	if !g.cfg.Flat {
		rate *= diurnal(t)
	}
	gap := g.tr.ExpFloat64() / rate
	return t.Add(time.Duration(gap * float64(time.Second)))
}

func (g *Generator) push(p *pending) {
	if g.counting {
		g.pushed++
		if p.host != nil {
			g.hostReq[p.host.service]++
		}
		return
	}
	if p.at.IsZero() {
		p.at = p.ts
	}
	p.atNs = p.at.UnixNano()
	g.seq++
	p.seq = g.seq
	if p.raw == nil {
		g.observe(p)
	}
	heap.Push(&g.tl, p)
}

// Run simulates from Start to End (or until ctx is done in live mode),
// writing records to sink and, as each anomaly window closes, its ground
// truth line to truth (may be nil). It returns the summary of what it wrote.
// In live mode a cancelled context is a normal end; the summary covers
// what was written.
func (g *Generator) Run(ctx context.Context, sink Sink, truth io.Writer) (*Summary, error) {
	now, sleep := g.cfg.Now, g.cfg.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = time.Sleep
	}
	wallStart := now()
	g.feed = newTallyFeed(g.tally)
	defer g.feed.close()

	if err := g.emitDims(ctx, sink); err != nil {
		return nil, err
	}
	never := g.end.Add(time.Hour)
	start := g.cfg.Start
	nextSession := g.nextArrival(start, g.sessionRate)
	nextBack := g.nextArrival(start, g.backRate)
	nextTick := start.Add(g.cfg.MetricInterval)
	nextInject := 0

	for {
		if err := ctx.Err(); err != nil {
			if g.cfg.Live {
				break
			}
			return nil, err
		}
		// Anomalies are scheduled a day ahead so sessions that start before
		// a window already see it.
		g.schedule(minTime(nextSession, nextBack).Add(24 * time.Hour))
		if err := g.flushTruth(truth, minTime(nextSession, nextBack)); err != nil {
			return nil, err
		}

		inject := never
		for nextInject < len(g.anoms) && g.anoms[nextInject].injected {
			nextInject++
		}
		if nextInject < len(g.anoms) {
			inject = g.anoms[nextInject].Start
		}
		gen := minTime(minTime(nextSession, nextBack), inject)
		top := never
		if len(g.tl) > 0 {
			top = g.tl[0].at
		}
		tick := nextTick
		if !tick.Before(g.end) {
			tick = never
		}
		switch {
		case gen.Before(g.end) && !gen.After(top) && !gen.After(tick):
			switch {
			case gen.Equal(inject):
				g.inject(g.anoms[nextInject])
			case gen.Equal(nextSession):
				g.session(nextSession)
				nextSession = g.nextArrival(nextSession, g.sessionRate)
			default:
				g.background(nextBack)
				nextBack = g.nextArrival(nextBack, g.backRate)
			}
		case len(g.tl) > 0 && (tick == never || top.Before(tick)):
			p := heap.Pop(&g.tl).(*pending)
			if p.raw == nil && !p.ts.Before(g.end) {
				continue // simulated past the end (a refund days later)
			}
			// Copies delayed past the end of a bounded run go out at once.
			if g.cfg.Live && p.at.Before(g.end) {
				if d := wallStart.Add(p.at.Sub(start)).Sub(now()); d > 0 {
					sleep(d)
				}
			}
			if err := g.emit(ctx, sink, p); err != nil {
				return nil, err
			}
		case tick != never:
			g.tick(nextTick)
			nextTick = nextTick.Add(g.cfg.MetricInterval)
		default:
			return g.finish(truth)
		}
	}
	return g.finish(truth)
}

func (g *Generator) finish(truth io.Writer) (*Summary, error) {
	if err := g.flushTruth(truth, g.end.Add(time.Hour)); err != nil {
		return nil, err
	}
	g.feed.close()
	return g.tally.summary(), nil
}

// flushTruth writes the ground truth of windows closed before t.
func (g *Generator) flushTruth(truth io.Writer, t time.Time) error {
	kept := g.live[:0]
	for _, a := range g.live {
		if a.End.Before(t) && a.injected {
			a.finish()
			a.written = true
			g.tally.anomaly(a.Kind)
			if truth != nil {
				line, err := a.line()
				if err != nil {
					return err
				}
				if _, err := truth.Write(line); err != nil {
					return fmt.Errorf("write ground truth: %w", err)
				}
			}
			continue
		}
		kept = append(kept, a)
	}
	g.live = kept
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
