package maintain

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

const mib = 1 << 20

// testSpec partitions by an identity "day" column (field 1000), so a
// task's partition is its day.
var testSpec = iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{1}, FieldID: 1000, Name: "day", Transform: iceberg.IdentityTransform{}})

// file is a data file of size bytes in partition day.
type file struct {
	day  int32
	size int64
}

func scanTasks(t testing.TB, files []file) []table.FileScanTask {
	t.Helper()
	var out []table.FileScanTask
	for i, f := range files {
		b, err := iceberg.NewDataFileBuilder(testSpec, iceberg.EntryContentData, fmt.Sprintf("s3://lake/data/%d.parquet", i),
			iceberg.ParquetFile, map[int]any{1000: f.day}, nil, nil, 1, f.size)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, table.FileScanTask{File: b.Build(), Length: f.size})
	}
	return out
}

// plannedSizes is each group's input sizes, ascending, groups in order of
// their smallest input.
func plannedSizes(t testing.TB, files []file, minInputs uint, full bool) [][]int64 {
	t.Helper()
	groups, err := planCompaction(scanTasks(t, files), 128*mib, minInputs, full)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]int64
	for _, g := range groups {
		var sizes []int64
		var total int64
		for _, task := range g.Tasks {
			sizes = append(sizes, task.File.FileSizeBytes())
			total += task.File.FileSizeBytes()
		}
		if total != g.TotalSizeBytes {
			t.Errorf("group of %v: TotalSizeBytes %d, inputs sum to %d", sizes, g.TotalSizeBytes, total)
		}
		slices.Sort(sizes)
		out = append(out, sizes)
	}
	slices.SortFunc(out, func(a, b []int64) int { return int(a[0] - b[0]) })
	return out
}

func mibs(n ...int64) []int64 {
	out := make([]int64, len(n))
	for i, v := range n {
		out[i] = v * mib
	}
	return out
}

func files(day int32, sizesMiB ...int64) []file {
	var out []file
	for _, s := range sizesMiB {
		out = append(out, file{day, s * mib})
	}
	return out
}

func TestPlanCompaction(t *testing.T) {
	tests := []struct {
		name      string
		files     []file
		minInputs uint
		full      bool
		want      [][]int64 // input sizes of each group
	}{
		{name: "equal small files all merge", files: files(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), minInputs: 5,
			want: [][]int64{mibs(1, 1, 1, 1, 1, 1, 1, 1, 1, 1)}},
		{name: "two equal files merge", files: files(1, 4, 4), minInputs: 2,
			want: [][]int64{mibs(4, 4)}},
		{name: "a compacted file waits while it outweighs the new files", files: files(1, 60, 1, 1, 1), minInputs: 2,
			want: [][]int64{mibs(1, 1, 1)}},
		{name: "fewer than min inputs once the large file is left out", files: files(1, 60, 1, 1, 1), minInputs: 5,
			want: nil},
		{name: "a compacted file merges once the new files weigh as much", files: files(1, 60, 40, 20), minInputs: 2,
			want: [][]int64{mibs(20, 40, 60)}},
		{name: "tiers: only the files smaller than the rest together merge", files: files(1, 64, 16, 8, 2, 1, 1), minInputs: 2,
			want: [][]int64{mibs(1, 1, 2)}},
		{name: "tiers: a full carry merges every tier", files: files(1, 8, 4, 2, 1, 1), minInputs: 2,
			want: [][]int64{mibs(1, 1, 2, 4, 8)}},
		{name: "tiers: nothing to merge", files: files(1, 8, 4, 2, 1), minInputs: 2,
			want: nil},
		{name: "files at 75% of the target are not candidates", files: files(1, 100, 1, 1), minInputs: 2,
			want: [][]int64{mibs(1, 1)}},
		{name: "partitions are tiered apart", files: append(files(1, 60, 1, 1, 1), files(2, 2, 2, 2, 2, 2)...), minInputs: 2,
			want: [][]int64{mibs(1, 1, 1), mibs(2, 2, 2, 2, 2)}},
		{name: "full merges the compacted file too", files: files(1, 60, 1, 1, 1), minInputs: 2, full: true,
			want: [][]int64{mibs(1, 1, 1, 60)}},
		{name: "full merges every tier", files: files(1, 64, 16, 8, 2, 1), minInputs: 5, full: true,
			want: [][]int64{mibs(1, 2, 8, 16, 64)}},
		{name: "full respects min inputs", files: files(1, 60, 1, 1, 1), minInputs: 5, full: true,
			want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := plannedSizes(t, tc.files, tc.minInputs, tc.full)
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("groups %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTieredWriteAmplification streams a 1 MiB file into one partition
// per round and compacts after each: tiered rewrites each byte at most
// about log2(n) times and keeps the file count logarithmic, where merging
// every small file each round rewrites the partition in every round until
// its files pass 75% of the target.
func TestTieredWriteAmplification(t *testing.T) {
	const rounds = 256
	bound := math.Log2(rounds) + 1
	tieredAmp, tieredFiles := simulateStream(t, rounds, false)
	fullAmp, fullFiles := simulateStream(t, rounds, true)
	t.Logf("%d rounds of 1 MiB: tiered rewrote %.1f× the data (at most %d live files), full %.1f× (at most %d)",
		rounds, tieredAmp, tieredFiles, fullAmp, fullFiles)
	if tieredAmp > bound {
		t.Errorf("tiered rewrote %.1f× the data, want at most log2(%d)+1 = %.0f×", tieredAmp, rounds, bound)
	}
	if float64(tieredFiles) > bound+1 {
		t.Errorf("tiered left up to %d live files, want at most log2(%d)+2 = %.0f", tieredFiles, rounds, bound+1)
	}
	if fullAmp < 4*tieredAmp {
		t.Errorf("full rewrote %.1f× the data, tiered %.1f×: want full to rewrite far more", fullAmp, tieredAmp)
	}
}

// simulateStream appends a 1 MiB file per round and applies the planned
// merges (each group becomes one file of its inputs' sum). It returns the
// bytes rewritten per byte appended and the most live files seen.
func simulateStream(t *testing.T, rounds int, full bool) (amp float64, maxFiles int) {
	t.Helper()
	var live []file
	var written, rewritten int64
	for range rounds {
		live = append(live, file{1, mib})
		written += mib
		tasks := scanTasks(t, live)
		groups, err := planCompaction(tasks, 128*mib, 2, full)
		if err != nil {
			t.Fatal(err)
		}
		merged := map[string]bool{}
		var next []file
		for _, g := range groups {
			for _, task := range g.Tasks {
				merged[task.File.FilePath()] = true
			}
			rewritten += g.TotalSizeBytes
			next = append(next, file{1, g.TotalSizeBytes})
		}
		for i, task := range tasks {
			if !merged[task.File.FilePath()] {
				next = append(next, live[i])
			}
		}
		live = next
		maxFiles = max(maxFiles, len(live))
	}
	return float64(rewritten) / float64(written), maxFiles
}
