package lakehouse

import (
	"testing"
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
