package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// sink delivers outbox rows somewhere. deliver gets rows in outbox order and
// either delivers all of them or returns an error (the same rows are offered
// again after a backoff). tick runs periodic work between deliveries.
type sink interface {
	name() string
	deliver(ctx context.Context, rows []Stored) error
	tick(ctx context.Context) error
}

// sinkLoop feeds one sink from the outbox until ctx is done: on a kick (a
// checkpoint stored notifications) or every poll interval. Failures back off
// exponentially (to maxBackoff) on this goroutine only, so a sink that is
// down never delays evaluation or the other sinks.
type sinkLoop struct {
	store      *Store
	sink       sink
	kick       chan struct{}
	poll       time.Duration
	tickEvery  time.Duration
	batch      int
	maxBackoff time.Duration
	metrics    *metrics
	log        *slog.Logger
}

func (l *sinkLoop) run(ctx context.Context) {
	name := l.sink.name()
	backoff := 250 * time.Millisecond
	var lastTick time.Time
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
		case <-time.After(wait):
		}
		wait = l.poll
		if l.tickEvery > 0 && time.Since(lastTick) >= l.tickEvery {
			if err := l.sink.tick(ctx); err != nil {
				l.log.Warn("sink tick", "sink", name, "err", err)
			} else {
				lastTick = time.Now()
			}
		}
		for ctx.Err() == nil {
			rows, err := l.store.Pending(ctx, name, l.batch)
			if err == nil && len(rows) > 0 {
				err = l.sink.deliver(ctx, rows)
				if err == nil {
					err = l.store.Ack(ctx, name, rows[len(rows)-1].Seq)
				}
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				l.metrics.sinkErrors.WithLabelValues(name).Inc()
				l.log.Warn("sink delivery failed; retrying", "sink", name, "backoff", backoff, "err", err)
				wait = backoff
				backoff = min(backoff*2, l.maxBackoff)
				break
			}
			backoff = 250 * time.Millisecond
			l.metrics.delivered.WithLabelValues(name).Add(float64(len(rows)))
			for _, r := range rows {
				if r.Status == Firing {
					l.metrics.deliveryLag.WithLabelValues(name).Observe(time.Since(r.WindowEnd).Seconds())
				}
			}
			if len(rows) < l.batch {
				break
			}
		}
	}
}

// Alertmanager delivery.

// alertmanagerSink posts to Alertmanager's /api/v2/alerts. Open episodes are
// re-sent every resend interval with endsAt = now + 4×resend, so they stay
// active while the job runs and expire on their own if it stops; resolved
// ones are sent once with their endsAt. After a restart the open episodes
// are read back from the outbox.
type alertmanagerSink struct {
	url    string
	client *http.Client
	resend time.Duration
	now    func() time.Time
	store  *Store
	active map[string]Notification // by fingerprint/start
	loaded bool
}

type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

func (s *alertmanagerSink) name() string { return "alertmanager" }

func episodeKey(n Notification) string {
	return n.Fingerprint + "/" + n.StartsAt.Format(time.RFC3339Nano)
}

// load restores the open episodes once (before the first delivery).
func (s *alertmanagerSink) load(ctx context.Context) error {
	if s.loaded {
		return nil
	}
	cursor, err := s.store.Cursor(ctx, s.name())
	if err != nil {
		return err
	}
	open, err := s.store.Open(ctx, cursor)
	if err != nil {
		return err
	}
	for _, o := range open {
		s.active[episodeKey(o.Notification)] = o.Notification
	}
	s.loaded = true
	return nil
}

func (s *alertmanagerSink) toAM(n Notification) amAlert {
	labels := make(map[string]string, len(n.Labels))
	for k, v := range n.Labels {
		if v != "" { // Alertmanager, like Prometheus, treats an empty label as absent
			labels[k] = v
		}
	}
	a := amAlert{Labels: labels, Annotations: n.Annotations, StartsAt: n.StartsAt, EndsAt: n.EndsAt}
	if n.Status == Firing && n.EndsAt.IsZero() {
		a.EndsAt = s.now().Add(4 * s.resend)
	}
	return a
}

func (s *alertmanagerSink) deliver(ctx context.Context, rows []Stored) error {
	if err := s.load(ctx); err != nil {
		return err
	}
	payload := make([]amAlert, 0, len(rows))
	for _, r := range rows {
		payload = append(payload, s.toAM(r.Notification))
	}
	if err := s.post(ctx, payload); err != nil {
		return err
	}
	for _, r := range rows {
		k := episodeKey(r.Notification)
		switch {
		case r.Status == Firing && r.EndsAt.IsZero():
			s.active[k] = r.Notification
		case r.Status == Resolved:
			delete(s.active, k)
		}
	}
	return nil
}

func (s *alertmanagerSink) tick(ctx context.Context) error {
	if err := s.load(ctx); err != nil {
		return err
	}
	if len(s.active) == 0 {
		return nil
	}
	payload := make([]amAlert, 0, len(s.active))
	for _, n := range s.active {
		payload = append(payload, s.toAM(n))
	}
	return s.post(ctx, payload)
}

func (s *alertmanagerSink) post(ctx context.Context, alerts []amAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return fmt.Errorf("encode alerts: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.url, "/")+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build alertmanager request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("post alerts to alertmanager: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("post alerts to alertmanager: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
