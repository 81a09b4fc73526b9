package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"weir/services/alertmanager"
)

func TestAccessProtect(t *testing.T) {
	a := Access{OperatorPassword: "op", ViewerPassword: "view", ReceiverPassword: "recv", Hosts: LoopbackHosts("127.0.0.1:18700")}
	hook := alertmanager.WebhookPath
	h := a.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	cases := []struct {
		name, method, path, host, user, pass string
		header                               map[string]string
		want                                 int
	}{
		{"no sign-in", "GET", "/", "127.0.0.1:18700", "", "", nil, 401},
		{"wrong password", "GET", "/", "127.0.0.1:18700", UserOperator, "view", nil, 401},
		{"unknown user", "GET", "/", "127.0.0.1:18700", "admin", "op", nil, 401},
		{"viewer reads", "GET", "/api/v1/dags", "localhost:18700", UserViewer, "view", nil, 200},
		{"viewer cannot act", "POST", "/api/v1/dags/d/runs", "127.0.0.1:18700", UserViewer, "view", nil, 403},
		{"operator acts", "POST", "/api/v1/dags/d/runs", "127.0.0.1:18700", UserOperator, "op", nil, 200},
		{"same-origin form", "POST", "/dags/d/trigger", "127.0.0.1:18700", UserOperator, "op", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
		{"cross-site form", "POST", "/dags/d/trigger", "127.0.0.1:18700", UserOperator, "op", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"other origin", "POST", "/dags/d/trigger", "127.0.0.1:18700", UserOperator, "op", map[string]string{"Origin": "http://evil.example"}, 403},
		{"rebound host name", "GET", "/", "evil.example:18700", UserOperator, "op", nil, 421},
		{"receiver posts the webhook", "POST", hook, "127.0.0.1:18700", UserReceiver, "recv", nil, 200},
		{"webhook without sign-in", "POST", hook, "127.0.0.1:18700", "", "", nil, 401},
		{"webhook, wrong password", "POST", hook, "127.0.0.1:18700", UserReceiver, "op", nil, 401},
		{"operator cannot post the webhook", "POST", hook, "127.0.0.1:18700", UserOperator, "op", nil, 403},
		{"viewer cannot post the webhook", "POST", hook, "127.0.0.1:18700", UserViewer, "view", nil, 403},
		{"receiver cannot read pages", "GET", "/", "127.0.0.1:18700", UserReceiver, "recv", nil, 403},
		{"receiver cannot read notifications", "GET", "/api/v1/notifications", "127.0.0.1:18700", UserReceiver, "recv", nil, 403},
		{"receiver cannot act", "POST", "/api/v1/dags/d/runs", "127.0.0.1:18700", UserReceiver, "recv", nil, 403},
		{"receiver cannot read a path like the webhook", "POST", hook + "/", "127.0.0.1:18700", UserReceiver, "recv", nil, 403},
		{"probe", "GET", "/healthz", "127.0.0.1:18700", "", "", nil, 200},
		{"scrape", "GET", "/metrics", "[::1]:18700", "", "", nil, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(c.method, "http://"+c.host+c.path, nil)
			r.Host = c.host
			if c.user != "" {
				r.SetBasicAuth(c.user, c.pass)
			}
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != c.want {
				t.Errorf("%s %s as %q: %d, want %d (%s)", c.method, c.path, c.user, w.Code, c.want, w.Body)
			}
			if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestAccessValidate(t *testing.T) {
	for _, a := range []Access{{}, {OperatorPassword: "x"}, {ViewerPassword: "x"}, {OperatorPassword: "x", ViewerPassword: "x"},
		{OperatorPassword: "x", ViewerPassword: "y", ReceiverPassword: "x"}, {OperatorPassword: "x", ViewerPassword: "y", ReceiverPassword: "y"}} {
		if a.Validate() == nil {
			t.Errorf("%+v accepted", a)
		}
	}
	if err := (Access{OperatorPassword: "x", ViewerPassword: "y"}).Validate(); err != nil {
		t.Error(err)
	}
	if LoopbackHosts("0.0.0.0:8080") != nil || LoopbackHosts(":8080") != nil || len(LoopbackHosts("localhost:8080")) == 0 {
		t.Error("LoopbackHosts: only loopback listeners restrict the Host header")
	}
}

func TestIsDAGPage(t *testing.T) {
	for to, want := range map[string]bool{
		"/dags/hello":                  true,
		"/dags/hello/runs/r1/tasks/t":  true,
		"":                             false,
		"/":                            false,
		"//evil.example/dags/x":        false,
		"https://evil.example/dags/x":  false,
		"/dags/..//evil.example":       false,
		`/dags/\\evil.example`:         false,
		"http://u@evil.example/dags/x": false,
		"/other/dags/hello":            false,
	} {
		if got := isDAGPage(to); got != want {
			t.Errorf("isDAGPage(%q) = %v, want %v", to, got, want)
		}
	}
}

// TestReceiverWithoutPassword: with no receiver password the webhook
// refuses everyone, whatever password is sent.
func TestReceiverWithoutPassword(t *testing.T) {
	a := Access{OperatorPassword: "op", ViewerPassword: "view"}
	h := a.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	for _, pass := range []string{"", "op", "view"} {
		r := httptest.NewRequest("POST", alertmanager.WebhookPath, nil)
		r.SetBasicAuth(UserReceiver, pass)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("receiver with %q: %d, want 401", pass, w.Code)
		}
	}
}
