package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strings"

	"weir/endpoints"
	"weir/services/alertmanager"
)

// Access says who may use the UI and API. Three roles sign in with HTTP
// basic auth: "viewer" reads (GET and HEAD), "operator" also triggers,
// clears, pauses and backfills, and "receiver" (Alertmanager) may only POST
// the webhook, which no other role may. /healthz and /metrics stay open for
// probes and scrapers; they change nothing and carry no secrets.
type Access struct {
	OperatorPassword string
	ViewerPassword   string
	// ReceiverPassword is optional: without it the webhook refuses all.
	ReceiverPassword string
	// Hosts, when set, are the only Host header values (without port)
	// served: a UI bound to loopback answers loopback names only, so a web
	// page cannot reach it through a rebound DNS name.
	Hosts []string
}

// Users of Access.
const (
	UserOperator = "operator"
	UserViewer   = "viewer"
	UserReceiver = alertmanager.ReceiverUser
)

// Validate refuses an Access that would leave the UI open.
func (a Access) Validate() error {
	if a.OperatorPassword == "" || a.ViewerPassword == "" {
		return errors.New("the scheduler UI needs scheduler.operator_password and scheduler.viewer_password " +
			"(WEIR_SCHEDULER_OPERATOR_PASSWORD, WEIR_SCHEDULER_VIEWER_PASSWORD; the native stack's env.sh and the compose env file set them)")
	}
	if a.OperatorPassword == a.ViewerPassword {
		return errors.New("scheduler.operator_password and scheduler.viewer_password must differ")
	}
	if a.ReceiverPassword != "" && (a.ReceiverPassword == a.OperatorPassword || a.ReceiverPassword == a.ViewerPassword) {
		return errors.New("scheduler.receiver_password must differ from the operator's and the viewer's")
	}
	return nil
}

// LoopbackHosts returns the Host names a UI listening on addr answers: the
// loopback names when addr is a loopback address, nil (any) otherwise.
func LoopbackHosts(addr string) []string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return []string{"localhost", "127.0.0.1", "::1", host}
	}
	return nil
}

// protect wraps h with the Host check, authentication, roles and
// protection against cross-site request forgery: a state change from
// another origin's page is refused even with the browser's credentials.
func (a Access) protect(h http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	guarded := csrf.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.hostAllowed(r.Host) {
			http.Error(w, "unknown host "+r.Host, http.StatusMisdirectedRequest)
			return
		}
		if endpoints.Public(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		user, pass, ok := r.BasicAuth()
		if !ok || !a.valid(user, pass) {
			w.Header().Set("WWW-Authenticate", `Basic realm="weir scheduler", charset="UTF-8"`)
			http.Error(w, "sign in as operator or viewer", http.StatusUnauthorized)
			return
		}
		// The webhook and the receiver belong to each other only.
		if webhook := r.URL.Path == alertmanager.WebhookPath; webhook != (user == UserReceiver) {
			http.Error(w, "only Alertmanager's receiver sign-in posts to the webhook, and it may do nothing else", http.StatusForbidden)
			return
		}
		if user == UserViewer && r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "the viewer role only reads; sign in as operator", http.StatusForbidden)
			return
		}
		guarded.ServeHTTP(w, r)
	})
}

func (a Access) valid(user, pass string) bool {
	var want string
	switch user {
	case UserOperator:
		want = a.OperatorPassword
	case UserViewer:
		want = a.ViewerPassword
	case UserReceiver:
		want = a.ReceiverPassword
	default:
		return false
	}
	// Hashes have equal length, so the comparison's time says nothing of
	// the password's.
	got, exp := sha256.Sum256([]byte(pass)), sha256.Sum256([]byte(want))
	return want != "" && subtle.ConstantTimeCompare(got[:], exp[:]) == 1
}

func (a Access) hostAllowed(hostport string) bool {
	if len(a.Hosts) == 0 {
		return true
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	for _, h := range a.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}
