package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notification is one notification Alertmanager posted to the scheduler's
// webhook: a group of alerts of one receiver, firing or resolved. The JSON
// names are those of Alertmanager's webhook payload (version 4), so the API
// shows a notification as it was sent, with what the store adds (id,
// receivedAt, lastReceivedAt, deliveries).
type Notification struct {
	ID int64 `json:"id"`
	// DedupKey identifies the notification's content; a second delivery
	// with the same key is counted, not stored.
	DedupKey          string            `json:"-"`
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	GroupKey          string            `json:"groupKey"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	// TruncatedAlerts is how many alerts Alertmanager left out (max_alerts).
	TruncatedAlerts int             `json:"truncatedAlerts"`
	Alerts          []NotifiedAlert `json:"alerts"`
	ReceivedAt      time.Time       `json:"receivedAt"`
	LastReceivedAt  time.Time       `json:"lastReceivedAt"`
	// Deliveries counts arrivals of this content (retries, repeats).
	Deliveries int `json:"deliveries"`
}

// NotifiedAlert is one alert of a notification; a firing alert has no
// EndsAt.
type NotifiedAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	Fingerprint  string            `json:"fingerprint"`
}

// AddNotification stores n, received at now, unless a notification with
// its DedupKey is stored already: then that one's deliveries and
// last_received_at are updated. It returns the stored id and whether n was
// new.
func (s *Store) AddNotification(ctx context.Context, n Notification, now time.Time) (id int64, created bool, err error) {
	if n.DedupKey == "" {
		return 0, false, fmt.Errorf("store notification: no dedup key")
	}
	js := make([][]byte, 4)
	for i, v := range []any{n.GroupLabels, n.CommonLabels, n.CommonAnnotations, n.Alerts} {
		if js[i], err = json.Marshal(v); err != nil {
			return 0, false, fmt.Errorf("store notification: %w", err)
		}
	}
	// xmax = 0 only on a row this statement inserted.
	err = s.pool.QueryRow(ctx, `INSERT INTO notifications (dedup_key, receiver, status, group_key, group_labels,
			common_labels, common_annotations, external_url, truncated_alerts, alerts, received_at, last_received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
		ON CONFLICT (dedup_key) DO UPDATE SET deliveries = notifications.deliveries + 1,
			last_received_at = greatest(notifications.last_received_at, excluded.last_received_at)
		RETURNING id, xmax = 0`,
		n.DedupKey, n.Receiver, n.Status, n.GroupKey, js[0], js[1], js[2], n.ExternalURL, n.TruncatedAlerts, js[3], now.UTC(),
	).Scan(&id, &created)
	if err != nil {
		return 0, false, fmt.Errorf("store notification: %w", err)
	}
	return id, created, nil
}

// Notifications returns up to limit notifications, newest first, with ids
// below before (0: from the newest).
func (s *Store) Notifications(ctx context.Context, before int64, limit int) ([]Notification, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.pool.Query(ctx, `SELECT id, dedup_key, receiver, status, group_key, group_labels, common_labels,
			common_annotations, external_url, truncated_alerts, alerts, received_at, last_received_at, deliveries
		FROM notifications WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Notification, error) {
		var (
			n              Notification
			gl, cl, ca, al []byte
		)
		if err := row.Scan(&n.ID, &n.DedupKey, &n.Receiver, &n.Status, &n.GroupKey, &gl, &cl, &ca, &n.ExternalURL,
			&n.TruncatedAlerts, &al, &n.ReceivedAt, &n.LastReceivedAt, &n.Deliveries); err != nil {
			return n, err
		}
		for _, p := range []struct {
			raw []byte
			v   any
		}{{gl, &n.GroupLabels}, {cl, &n.CommonLabels}, {ca, &n.CommonAnnotations}, {al, &n.Alerts}} {
			if err := json.Unmarshal(p.raw, p.v); err != nil {
				return n, fmt.Errorf("notification %d: %w", n.ID, err)
			}
		}
		n.ReceivedAt, n.LastReceivedAt = n.ReceivedAt.UTC(), n.LastReceivedAt.UTC()
		return n, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	return out, nil
}
