package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"weir/scheduler/store"
)

// Webhook is the body Alertmanager posts to a webhook receiver (version 4
// of its payload): store.Notification carries its fields under their JSON
// names. Fields Alertmanager may add later are ignored, so a newer
// Alertmanager keeps delivering.
type Webhook struct {
	Version string `json:"version"`
	store.Notification
}

// Limits of one webhook body: Alertmanager's max_alerts (200 in weir's
// configuration) keeps real notifications far below them.
const (
	maxWebhookBody   = 4 << 20
	maxWebhookAlerts = 1000
)

// ParseWebhook decodes and checks one webhook body and returns the
// notification to store, with its DedupKey: receiver, group key, status and
// each alert's fingerprint, status, startsAt and endsAt. Alertmanager's
// retries and repeats of a group carry the same key; a change to the group
// (an alert added or resolved) gives a new one.
func ParseWebhook(body []byte) (store.Notification, error) {
	var w Webhook
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&w); err != nil {
		return store.Notification{}, fmt.Errorf("decode webhook: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return store.Notification{}, errors.New("decode webhook: data after the JSON object")
	}
	if err := w.validate(); err != nil {
		return store.Notification{}, fmt.Errorf("webhook: %w", err)
	}
	// What the store sets is not the sender's to say.
	n := w.Notification
	n.ID, n.DedupKey, n.ReceivedAt, n.LastReceivedAt, n.Deliveries = 0, "", time.Time{}, time.Time{}, 0
	n.GroupLabels, n.CommonLabels, n.CommonAnnotations = orEmpty(n.GroupLabels), orEmpty(n.CommonLabels), orEmpty(n.CommonAnnotations)
	n.Alerts = slices.Clone(n.Alerts)
	for i, a := range n.Alerts {
		a.Labels, a.Annotations, a.StartsAt, a.EndsAt = orEmpty(a.Labels), orEmpty(a.Annotations), a.StartsAt.UTC(), a.EndsAt.UTC()
		n.Alerts[i] = a
	}
	// Alertmanager sorts a group's alerts, but the key must not depend on it.
	slices.SortFunc(n.Alerts, func(a, b store.NotifiedAlert) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	h := sha256.New()
	for _, s := range []string{n.Receiver, n.GroupKey, n.Status} {
		writeField(h, s)
	}
	for _, a := range n.Alerts {
		for _, s := range []string{a.Fingerprint, a.Status, a.StartsAt.Format(time.RFC3339Nano), a.EndsAt.Format(time.RFC3339Nano)} {
			writeField(h, s)
		}
	}
	n.DedupKey = hex.EncodeToString(h.Sum(nil))
	return n, nil
}

// writeField writes s length-prefixed, so no two field lists hash alike.
func writeField(w io.Writer, s string) {
	_, _ = io.WriteString(w, strconv.Itoa(len(s))+":"+s)
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func validStatus(s string) bool { return s == "firing" || s == "resolved" }

func (w Webhook) validate() error {
	switch {
	case w.Version != "4":
		return fmt.Errorf("version %q: want 4 (Alertmanager's webhook payload)", w.Version)
	case !validStatus(w.Status):
		return fmt.Errorf("status %q: want firing or resolved", w.Status)
	case w.Receiver == "":
		return errors.New("no receiver")
	case w.GroupKey == "":
		return errors.New("no groupKey")
	case w.TruncatedAlerts < 0:
		return fmt.Errorf("truncatedAlerts %d: negative", w.TruncatedAlerts)
	case len(w.Alerts) == 0:
		return errors.New("no alerts")
	case len(w.Alerts) > maxWebhookAlerts:
		return fmt.Errorf("%d alerts: at most %d (set max_alerts on the webhook)", len(w.Alerts), maxWebhookAlerts)
	}
	// PostgreSQL's text and jsonb hold no NUL character.
	strs := []string{w.GroupKey, w.Receiver, w.ExternalURL}
	for _, m := range []map[string]string{w.GroupLabels, w.CommonLabels, w.CommonAnnotations} {
		strs = appendMap(strs, m)
	}
	seen := map[string]bool{}
	for i, a := range w.Alerts {
		switch {
		case !validStatus(a.Status):
			return fmt.Errorf("alert %d: status %q: want firing or resolved", i, a.Status)
		case a.Fingerprint == "":
			return fmt.Errorf("alert %d: no fingerprint", i)
		case seen[a.Fingerprint]:
			return fmt.Errorf("alert %d: fingerprint %s twice", i, a.Fingerprint)
		case len(a.Labels) == 0:
			return fmt.Errorf("alert %d: no labels", i)
		case a.StartsAt.IsZero():
			return fmt.Errorf("alert %d: no startsAt", i)
		case !storable(a.StartsAt) || !storable(a.EndsAt):
			return fmt.Errorf("alert %d: startsAt or endsAt out of range", i)
		}
		seen[a.Fingerprint] = true
		strs = append(strs, a.Fingerprint, a.GeneratorURL)
		strs = appendMap(appendMap(strs, a.Labels), a.Annotations)
	}
	for _, s := range strs {
		if strings.ContainsRune(s, 0) {
			return errors.New("a string holds a NUL character")
		}
	}
	return nil
}

func appendMap(strs []string, m map[string]string) []string {
	for k, v := range m {
		strs = append(strs, k, v)
	}
	return strs
}

// storable: zero (no endsAt) or a year PostgreSQL and RFC 3339 both hold.
func storable(t time.Time) bool {
	return t.IsZero() || (t.UTC().Year() >= 1 && t.UTC().Year() <= 9999)
}

// webhook receives one Alertmanager notification and stores it once.
func (s *Server) webhook(r *http.Request) (any, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxWebhookBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		s.notified.WithLabelValues("refused").Inc()
		return nil, httpError{http.StatusRequestEntityTooLarge, fmt.Errorf("webhook body over %d bytes", tooBig.Limit)}
	}
	if err != nil {
		return nil, badRequest("read webhook body: %v", err)
	}
	n, err := ParseWebhook(body)
	if err != nil {
		s.notified.WithLabelValues("refused").Inc()
		s.log.Warn("webhook refused", "err", err)
		return nil, badRequest("%v", err)
	}
	id, created, err := s.st.AddNotification(r.Context(), n, s.e.Now())
	if err != nil {
		return nil, err
	}
	if created {
		s.notified.WithLabelValues("stored").Inc()
	} else {
		s.notified.WithLabelValues("duplicate").Inc()
	}
	s.log.Info("notification", "id", id, "new", created, "receiver", n.Receiver, "status", n.Status,
		"alerts", len(n.Alerts), "group", n.GroupLabels)
	return map[string]any{"id": id, "stored": created}, nil
}

// NotificationList is the Notifications page and GET /api/v1/notifications.
type NotificationList struct {
	Notifications []store.Notification `json:"notifications"` // newest first
	// Older is the cursor of the next page (?before=Older), 0 on the last.
	Older int64 `json:"older,omitempty"`
}

const notificationsPage = 50

func (s *Server) notifications(r *http.Request) (any, error) {
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		var err error
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before <= 0 {
			return nil, badRequest("before: want a notification id from the page's older link, got %q", v)
		}
	}
	ns, err := s.st.Notifications(r.Context(), before, notificationsPage+1)
	if err != nil {
		return nil, err
	}
	out := NotificationList{Notifications: ns}
	if len(ns) > notificationsPage {
		out.Notifications = ns[:notificationsPage]
		out.Older = ns[notificationsPage-1].ID
	}
	if out.Notifications == nil {
		out.Notifications = []store.Notification{}
	}
	return out, nil
}
