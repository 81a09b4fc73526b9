package config

import "testing"

func TestStackPort(t *testing.T) {
	for _, tc := range []struct{ env, addr, want string }{
		{"", "127.0.0.1:18711", "127.0.0.1:18711"},
		{"2500", "127.0.0.1:18711", "127.0.0.1:21211"},
		{"0", ":9000", ":9000"},
	} {
		t.Setenv("WEIR_STACK_PORT_OFFSET", tc.env)
		got, err := StackPort(tc.addr)
		if err != nil || got != tc.want {
			t.Errorf("offset %q, %s: got %s, %v; want %s", tc.env, tc.addr, got, err, tc.want)
		}
	}
	t.Setenv("WEIR_STACK_PORT_OFFSET", "x")
	if _, err := StackPort("127.0.0.1:1"); err == nil {
		t.Error("a non-numeric offset is accepted")
	}
}
