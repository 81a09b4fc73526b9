package lakehouse

import (
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

func TestSilverTableSpecs(t *testing.T) {
	for _, name := range SilverTables {
		t.Run(name, func(t *testing.T) {
			spec, err := SilverTableSpec(name)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := SilverArrowSchema(name)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(spec.Schema.Fields()), sc.NumFields(); got != want {
				t.Errorf("iceberg schema has %d fields, arrow %d", got, want)
			}
			for _, col := range append(SilverKey(name), SilverSortColumns(name)...) {
				if _, ok := spec.Schema.FindFieldByName(col); !ok {
					t.Errorf("key or sort column %s not in schema", col)
				}
			}
			if c := PartitionTimeColumn(name); c != "" {
				if spec.Spec.NumFields() == 0 {
					t.Errorf("partition time column %s but unpartitioned", c)
				}
			}
			arch, err := ArchiveTableSpec(name)
			if err != nil {
				t.Fatal(err)
			}
			if arch.Properties["write.parquet.compression-level"] == spec.Properties["write.parquet.compression-level"] {
				t.Errorf("archive compresses like hot")
			}
		})
	}
}

func TestArchiveTable(t *testing.T) {
	if got := ArchiveTable(SilverEvents); got != "archive.events" {
		t.Errorf("ArchiveTable = %q", got)
	}
	if got := SilverKey("archive.events"); len(got) != 1 || got[0] != "event_id" {
		t.Errorf("SilverKey(archive.events) = %v", got)
	}
}

// The tables a trace looks up by action_id carry bloom filters on it, in
// hot and archive alike.
func TestSilverBloomFilters(t *testing.T) {
	for _, name := range []string{SilverEvents, SilverLogs} {
		for _, spec := range []func(string) (*TableSpec, error){SilverTableSpec, ArchiveTableSpec} {
			s, err := spec(name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Properties[bloomColumnKeyPrefix+"action_id"] != "true" || s.Properties[bloomMaxBytesKey] == "" || s.Properties[bloomRowGroupRowsKey] == "" {
				t.Errorf("%s: no action_id bloom filter in %v", name, s.Properties)
			}
		}
	}
	s, err := SilverTableSpec(SilverAccessLogs)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Properties[bloomMaxBytesKey]; ok {
		t.Errorf("%s has no bloom column but bloom properties", SilverAccessLogs)
	}
}

func TestMissingProperties(t *testing.T) {
	have := iceberg.Properties{"a": "operator's", "b": "1"}
	want := iceberg.Properties{"a": "spec's", "c": "2", table.PropertyFormatVersion: "2"}
	got := missingProperties(have, want)
	if len(got) != 1 || got["c"] != "2" {
		t.Errorf("missingProperties = %v, want only c=2 (a kept, format-version reserved)", got)
	}
}
