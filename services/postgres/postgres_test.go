package postgres

import (
	"maps"
	"regexp"
	"slices"
	"testing"
)

// TestRolePasswordEnv: every login role of roles.sql has its password
// variable in RolePasswordEnv, read by a \getenv of the same name.
func TestRolePasswordEnv(t *testing.T) {
	getenv := regexp.MustCompile(`(?m)^\\getenv (\w+) (\w+)$`)
	read := map[string]string{} // psql variable → environment variable
	for _, m := range getenv.FindAllStringSubmatch(RolesSQL, -1) {
		read[m[1]] = m[2]
	}
	login := regexp.MustCompile(`(?m)^CREATE ROLE (\w+) LOGIN PASSWORD :'(\w+)'`)
	roles := map[string]string{}
	for _, m := range login.FindAllStringSubmatch(RolesSQL, -1) {
		roles[m[1]] = read[m[2]]
	}
	if len(roles) == 0 {
		t.Fatal("no login role in roles.sql")
	}
	if !maps.Equal(roles, RolePasswordEnv) {
		t.Errorf("roles.sql's login roles and password variables %v, RolePasswordEnv %v", roles, RolePasswordEnv)
	}
	if got := slices.Sorted(maps.Values(read)); len(got) != len(RolePasswordEnv) {
		t.Errorf("roles.sql reads %v", got)
	}
}
