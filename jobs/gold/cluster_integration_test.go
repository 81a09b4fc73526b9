//go:build integration && cluster

package gold

import "testing"

// TestClusterGoldRefreshCoordinatorDown is TestGoldRefreshTrinoDown in the
// cluster profile: the coordinator stops during a refresh while both
// workers keep running; once it is back and they have joined it again, the
// next refresh leaves every view exact.
func TestClusterGoldRefreshCoordinatorDown(t *testing.T) {
	refreshWithCoordinatorDown(t, "cluster profile: localstack StopService trino (the coordinator; 2 workers keep running) 1.5 s into the refresh and StartService at once; then the next refresh")
}
