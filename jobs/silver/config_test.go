package silver

import "testing"

func TestNamespacesTable(t *testing.T) {
	test := Namespaces{Bronze: "t1_bronze", Silver: "t1_silver", Archive: "t1_archive"}
	prefixed := Namespaces{Bronze: "bronze", Silver: "t1_silver", Archive: "t1_archive", BronzePrefix: "t1_"}
	for _, tc := range []struct {
		name      string
		ns        Namespaces
		canonical string
		want      string
	}{
		{"default bronze", DefaultNamespaces(), "bronze.app_events", "bronze.app_events"},
		{"default silver", DefaultNamespaces(), "silver.events", "silver.events"},
		{"own bronze namespace", test, "bronze.app_events", "t1_bronze.app_events"},
		{"own silver namespace", test, "silver.events", "t1_silver.events"},
		{"own archive namespace", test, "archive.events", "t1_archive.events"},
		{"prefixed bronze table", prefixed, "bronze.app_events", "bronze.t1_app_events"},
		{"prefixed dims", prefixed, "bronze.dims", "bronze.t1_dims"},
		{"prefix only on bronze", prefixed, "silver.events", "t1_silver.events"},
		{"other namespace untouched", prefixed, "gold.daily", "gold.daily"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ns.Table(tc.canonical); got != tc.want {
				t.Errorf("Table(%q) = %q, want %q", tc.canonical, got, tc.want)
			}
		})
	}
}
