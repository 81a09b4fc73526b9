package alertmanager

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the compose renderings")

// TestRenderings: the files compose mounts are Render's output, so the
// template is the one place the configuration is written.
func TestRenderings(t *testing.T) {
	for file, s := range map[string]Settings{"alertmanager.yml": Compose} {
		got, err := Render(s)
		if err != nil {
			t.Fatal(err)
		}
		if *update {
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from Render(%s): go test ./services/alertmanager -run TestRenderings -update", file, s.Origin)
		}
	}
}

type route struct {
	Receiver string   `yaml:"receiver"`
	Matchers []string `yaml:"matchers"`
	GroupBy  []string `yaml:"group_by"`
	Routes   []route  `yaml:"routes"`
}

type config struct {
	Route     route `yaml:"route"`
	Receivers []struct {
		Name     string `yaml:"name"`
		Webhooks []struct {
			URLFile      string `yaml:"url_file"`
			SendResolved bool   `yaml:"send_resolved"`
			HTTP         struct {
				BasicAuth struct {
					Username     string `yaml:"username"`
					PasswordFile string `yaml:"password_file"`
				} `yaml:"basic_auth"`
			} `yaml:"http_config"`
		} `yaml:"webhook_configs"`
	} `yaml:"receivers"`
}

// leaf returns the receiver an alert with labels reaches (first match
// wins, as Alertmanager routes without `continue`).
func leaf(r route, labels map[string]string) string {
	for _, c := range r.Routes {
		if matches(c.Matchers, labels) {
			return leaf(c, labels)
		}
	}
	return r.Receiver
}

func matches(ms []string, labels map[string]string) bool {
	for _, m := range ms {
		if k, v, ok := strings.Cut(m, "!="); ok {
			if labels[k] == strings.Trim(v, `"`) {
				return false
			}
			continue
		}
		k, v, _ := strings.Cut(m, "=")
		if labels[k] != strings.Trim(v, `"`) {
			return false
		}
	}
	return true
}

// TestRoutingTree: the documented tree, every receiver posting to the
// webhook with the receiver's sign-in and resolutions. Alertmanager itself
// loads the native rendering in the scheduler/web integration tests.
func TestRoutingTree(t *testing.T) {
	s := Settings{Origin: "test", URLFile: "/u", PasswordFile: "/p",
		GroupWait: time.Second, GroupInterval: 5 * time.Second, RepeatInterval: time.Hour}
	raw, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	var c config
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"source": "pipeline", "severity": "critical", "component": "stream"}, "pipeline-critical"},
		{map[string]string{"source": "pipeline", "severity": "warning", "component": "silver"}, "pipeline"},
		{map[string]string{"alertname": "category_threshold", "category": "books", "severity": "warning"}, "business"},
		{map[string]string{"alertname": "payment_provider_failing", "severity": "critical", "kind": "provider_outage"}, "business-critical"},
		{map[string]string{"alertname": "x", "severity": "warning"}, "business"},
		{map[string]string{"alertname": "x", "severity": "info"}, "business"},
	} {
		if got := leaf(c.Route, tc.labels); got != tc.want {
			t.Errorf("%v → %s, want %s", tc.labels, got, tc.want)
		}
	}
	var names []string
	for _, r := range c.Receivers {
		names = append(names, r.Name)
		if len(r.Webhooks) != 1 {
			t.Fatalf("receiver %s: %d webhooks, want the weir webhook", r.Name, len(r.Webhooks))
		}
		w := r.Webhooks[0]
		if w.URLFile != s.URLFile || !w.SendResolved || w.HTTP.BasicAuth.Username != ReceiverUser || w.HTTP.BasicAuth.PasswordFile != s.PasswordFile {
			t.Errorf("receiver %s: webhook %+v", r.Name, w)
		}
	}
	for _, want := range []string{"weir", "pipeline-critical", "pipeline", "business-critical", "business"} {
		if !slices.Contains(names, want) {
			t.Errorf("no receiver %s", want)
		}
	}
	for _, want := range []string{"group_wait: 1s", "group_interval: 5s", "repeat_interval: 1h", "pagerduty_configs", "slack_configs", "email_configs"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
}

func TestSettingsValidate(t *testing.T) {
	good := Compose
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Settings){
		"no url file":       func(s *Settings) { s.URLFile = "" },
		"relative url file": func(s *Settings) { s.URLFile = "u" },
		"relative file":     func(s *Settings) { s.PasswordFile = "p" },
		"quote":             func(s *Settings) { s.PasswordFile += "'" },
		"zero wait":         func(s *Settings) { s.GroupWait = 0 },
		"repeat < interval": func(s *Settings) { s.RepeatInterval = time.Second },
	} {
		s := good
		mod(&s)
		if s.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if d := duration(90 * time.Minute); d != "1h30m" {
		t.Errorf("duration: %s", d)
	}
}
