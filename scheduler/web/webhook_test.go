package web

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// amBody is a notification as Alertmanager 0.28 posts it (captured from the
// native stack), with the alerts given.
func amBody(status, alerts string) string {
	return `{"receiver":"business","status":"` + status + `","alerts":[` + alerts + `],
"groupLabels":{"alertname":"payment_provider_failing","kind":"provider_outage"},
"commonLabels":{"alertname":"payment_provider_failing","severity":"critical"},
"commonAnnotations":{"summary":"provider down"},
"externalURL":"http://127.0.0.1:23653","version":"4",
"groupKey":"{}/{source!=\"pipeline\"}/{severity=\"critical\"}:{alertname=\"payment_provider_failing\", kind=\"provider_outage\"}",
"truncatedAlerts":0}`
}

const (
	alertA = `{"status":"firing","labels":{"alertname":"payment_provider_failing","provider":"acme","severity":"critical"},
"annotations":{"summary":"acme fails"},"startsAt":"2026-12-04T19:00:00.123Z","endsAt":"0001-01-01T00:00:00Z",
"generatorURL":"","fingerprint":"a1b2c3d4e5f60718"}`
	alertB = `{"status":"firing","labels":{"alertname":"payment_provider_failing","provider":"zeta","severity":"critical"},
"annotations":{},"startsAt":"2026-12-04T19:01:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"ffeeddccbbaa0099"}`
	alertAResolved = `{"status":"resolved","labels":{"alertname":"payment_provider_failing","provider":"acme","severity":"critical"},
"annotations":{"summary":"acme fails"},"startsAt":"2026-12-04T19:00:00.123Z","endsAt":"2026-12-04T19:05:00Z",
"generatorURL":"","fingerprint":"a1b2c3d4e5f60718"}`
)

func TestParseWebhook(t *testing.T) {
	n, err := ParseWebhook([]byte(amBody("firing", alertB+","+alertA)))
	if err != nil {
		t.Fatal(err)
	}
	if n.Receiver != "business" || n.Status != "firing" || len(n.Alerts) != 2 || n.GroupLabels["kind"] != "provider_outage" ||
		n.CommonAnnotations["summary"] != "provider down" || !strings.HasPrefix(n.GroupKey, "{}/") || len(n.DedupKey) != 64 {
		t.Fatalf("parsed %+v", n)
	}
	a := n.Alerts[0]
	if a.Fingerprint != "a1b2c3d4e5f60718" || a.Labels["provider"] != "acme" || !a.EndsAt.IsZero() ||
		!a.StartsAt.Equal(time.Date(2026, 12, 4, 19, 0, 0, 123e6, time.UTC)) || a.Annotations["summary"] != "acme fails" {
		t.Errorf("first alert (sorted by fingerprint) %+v", a)
	}
	if n.Alerts[1].Annotations == nil {
		t.Error("empty annotations should be an empty map")
	}

	key := func(body string) string {
		t.Helper()
		n, err := ParseWebhook([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return n.DedupKey
	}
	same := key(amBody("firing", alertA+","+alertB))
	if same != n.DedupKey {
		t.Error("the alerts' order changed the dedup key")
	}
	// Whitespace and key order do not matter either (a retry is the same content).
	if k := key(strings.ReplaceAll(amBody("firing", alertA+","+alertB), "\n", " ")); k != same {
		t.Error("whitespace changed the dedup key")
	}
	for name, body := range map[string]string{
		"one alert fewer":   amBody("firing", alertA),
		"resolved":          amBody("resolved", alertAResolved),
		"partly resolved":   amBody("firing", alertAResolved+","+alertB),
		"another receiver":  strings.Replace(amBody("firing", alertA+","+alertB), `"receiver":"business"`, `"receiver":"weir"`, 1),
		"another start":     amBody("firing", strings.Replace(alertA, "19:00:00.123Z", "19:00:00.124Z", 1)+","+alertB),
		"another group key": strings.Replace(amBody("firing", alertA+","+alertB), `kind=\"provider_outage\"}"`, `kind=\"x\"}"`, 1),
	} {
		if key(body) == same {
			t.Errorf("%s: same dedup key", name)
		}
	}
}

func TestParseWebhookRefuses(t *testing.T) {
	for name, c := range map[string]struct{ body, want string }{
		"not json":        {`{`, "decode webhook"},
		"array":           {`[]`, "decode webhook"},
		"two objects":     {amBody("firing", alertA) + `{}`, "data after"},
		"version 3":       {strings.Replace(amBody("firing", alertA), `"version":"4"`, `"version":"3"`, 1), "version"},
		"bad status":      {amBody("pending", alertA), "status"},
		"no alerts":       {amBody("firing", ""), "no alerts"},
		"no receiver":     {strings.Replace(amBody("firing", alertA), `"receiver":"business"`, `"receiver":""`, 1), "no receiver"},
		"no group key":    {strings.Replace(amBody("firing", alertA), `"groupKey":"{}/`, `"groupKey":"","x":"`, 1), "no groupKey"},
		"negative trunc":  {strings.Replace(amBody("firing", alertA), `"truncatedAlerts":0`, `"truncatedAlerts":-1`, 1), "negative"},
		"alert status":    {amBody("firing", strings.Replace(alertA, `"status":"firing"`, `"status":"x"`, 1)), "alert 0: status"},
		"no fingerprint":  {amBody("firing", strings.Replace(alertA, `"fingerprint":"a1b2c3d4e5f60718"`, `"fingerprint":""`, 1)), "no fingerprint"},
		"twice":           {amBody("firing", alertA+","+alertA), "twice"},
		"no labels":       {amBody("firing", `{"status":"firing","labels":{},"startsAt":"2026-01-01T00:00:00Z","fingerprint":"f"}`), "no labels"},
		"no start":        {amBody("firing", `{"status":"firing","labels":{"a":"b"},"fingerprint":"f"}`), "no startsAt"},
		"NUL":             {amBody("firing", strings.Replace(alertA, "acme fails", `acme\u0000`, 1)), "NUL"},
		"bad time":        {amBody("firing", strings.Replace(alertA, "2026-12-04T19:00:00.123Z", "yesterday", 1)), "decode webhook"},
		"labels not text": {amBody("firing", strings.Replace(alertA, `"provider":"acme"`, `"provider":1`, 1)), "decode webhook"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseWebhook([]byte(c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
	var many []string
	for i := range maxWebhookAlerts + 1 {
		many = append(many, strings.Replace(alertA, "a1b2c3d4e5f60718", "f"+strings.Repeat("0", 4)+strconv.Itoa(i), 1))
	}
	if _, err := ParseWebhook([]byte(amBody("firing", strings.Join(many, ",")))); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("too many alerts: %v", err)
	}
}
