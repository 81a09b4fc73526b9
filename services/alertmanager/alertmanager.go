// Package alertmanager renders weir's one Alertmanager configuration (the
// routing tree of business and pipeline alerts, critical and warning, and
// the webhook receiver that stores notifications in the scheduler) for each
// stack: the native stack renders it at start-up, and the compose stack
// mounts the rendering committed next to the template, which a test keeps
// equal to Render's output.
//
// Contract: the tree and the receivers are the same in every rendering; a
// stack chooses only where the files with the webhook's URL and the
// receiver's password are, and the grouping timers.
package alertmanager

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"
)

//go:embed alertmanager.yml.tmpl
var text string

var tmpl = template.Must(template.New("alertmanager.yml").Funcs(template.FuncMap{"duration": duration}).Parse(text))

// Settings are what differs between stacks.
type Settings struct {
	// Origin says, in the rendering's first comment, which stack it is for.
	Origin string
	// URLFile holds the scheduler's webhook URL (WebhookPath on the
	// scheduler's address as Alertmanager reaches it), as Alertmanager sees
	// the file system: a file, so one rendering serves every network.
	URLFile string
	// PasswordFile holds the scheduler's receiver password, as Alertmanager
	// sees the file system.
	PasswordFile string
	// Alertmanager's grouping timers: the first notification of a group
	// waits GroupWait, changes to it (new or resolved alerts) GroupInterval,
	// and an unchanged group is sent again after RepeatInterval.
	GroupWait, GroupInterval, RepeatInterval time.Duration
}

// Shipped timers: a group's first notification within 10 s, its changes
// (resolutions) within a minute, reminders every 4 h.
const (
	DefaultGroupWait      = 10 * time.Second
	DefaultGroupInterval  = time.Minute
	DefaultRepeatInterval = 4 * time.Hour
)

// Compose is the compose stack's rendering (services/alertmanager/alertmanager.yml):
// the URL is a compose config (the scheduler by service name, or on its host
// port with compose.host.yaml) and the password a compose secret, both
// mounted into the alertmanager service.
var Compose = Settings{
	Origin:       "For the compose stack (compose.yaml, compose.host.yaml).",
	URLFile:      "/etc/alertmanager/webhook-url",
	PasswordFile: "/run/secrets/scheduler_receiver_password",
	GroupWait:    DefaultGroupWait, GroupInterval: DefaultGroupInterval, RepeatInterval: DefaultRepeatInterval,
}

// WebhookPath is where the scheduler receives Alertmanager's webhook; its
// web package serves it (and tests that they agree).
const WebhookPath = "/api/v1/alertmanager/webhook"

// ReceiverUser is the scheduler's sign-in that may only POST WebhookPath.
const ReceiverUser = "receiver"

// WebhookURL is the webhook of a scheduler at addr (host:port).
func WebhookURL(addr string) string { return "http://" + addr + WebhookPath }

// Validate names the first bad setting.
func (s Settings) Validate() error {
	switch {
	case !strings.HasPrefix(s.URLFile, "/"):
		return fmt.Errorf("url file %q: want an absolute path", s.URLFile)
	case !strings.HasPrefix(s.PasswordFile, "/"):
		return fmt.Errorf("password file %q: want an absolute path", s.PasswordFile)
	case strings.ContainsAny(s.URLFile+s.PasswordFile+s.Origin, "\n'\"#"):
		return errors.New("settings must not contain newlines, quotes or #")
	case s.GroupWait < time.Second || s.GroupInterval < time.Second || s.RepeatInterval < s.GroupInterval:
		return fmt.Errorf("timers %s/%s/%s: want at least 1s, repeat ≥ group interval", s.GroupWait, s.GroupInterval, s.RepeatInterval)
	}
	return nil
}

// Render returns the configuration for one stack.
func Render(s Settings) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("render alertmanager config: %w", err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, s); err != nil {
		return nil, fmt.Errorf("render alertmanager config: %w", err)
	}
	return []byte(b.String()), nil
}

// duration spells d as Alertmanager reads it: 10s, 1m, 4h, 1h30m.
func duration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
