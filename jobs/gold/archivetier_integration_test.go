//go:build integration

package gold

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"weir/internal/stacktest"
	"weir/jobs/archive"
	"weir/lakehouse"
	"weir/localstack"
	"weir/objectstore"
)

// TestArchiveTierHoldsArchiveData: the archive tier is a MinIO of its own
// (config.ArchiveTier) with its own parity. After a move to archive, every
// data file of the archive tables reads, through the warehouse endpoint, as
// stored in the tier's storage class, and the tier's bucket grew by at least
// their bytes; the gold *_all views count the rows they counted before the
// move (Trino reads the moved files through the one endpoint it knows), and
// storage per tier (gold.pipeline_storage's query) counts the archive's
// files, bytes and rows from Iceberg metadata, which moved too.
func TestArchiveTierHoldsArchiveData(t *testing.T) {
	ctx := context.Background()
	g := newGoldEnv(t)
	env, db, cfg := g.Env, g.db, g.cfg
	tier := cfg.S3.ArchiveTier
	if tier.Endpoint == "" {
		t.Fatal("the stack has no archive tier (WEIR_S3_ARCHIVE_TIER_ENDPOINT): restart it with make up")
	}
	// The tier's admin, as weir init --storage reads it (env.sh).
	access := objectstore.TierAccess{AdminAccessKey: os.Getenv(objectstore.TierEnv.AdminUser), AdminSecretKey: os.Getenv(objectstore.TierEnv.AdminPassword)}
	creds := func(user, secret string) *credentials.Credentials { return credentials.NewStaticV4(user, secret, "") }
	tierS3, err := minio.New(tier.Endpoint, &minio.Options{Creds: creds(access.AdminAccessKey, access.AdminSecretKey), Secure: tier.UseSSL})
	if err != nil {
		t.Fatal(err)
	}
	hot, err := objectstore.NewS3(cfg.S3)
	if err != nil {
		t.Fatal(err)
	}

	// Parity: the tier's MinIO is a deployment of its own, with the
	// parity its configuration sets, not the warehouse's.
	parity := func(endpoint, user, secret string, ssl bool) int {
		adm, err := madmin.NewWithOptions(endpoint, &madmin.Options{Creds: creds(user, secret), Secure: ssl})
		if err != nil {
			t.Fatal(err)
		}
		si, err := adm.StorageInfo(ctx)
		if err != nil {
			t.Fatalf("storage info of %s: %v", endpoint, err)
		}
		t.Logf("%s: %d drives in %v sets, standard parity EC:%d", endpoint, len(si.Disks), si.Backend.TotalSets, si.Backend.StandardSCParity)
		return si.Backend.StandardSCParity
	}
	if p := parity(tier.Endpoint, access.AdminAccessKey, access.AdminSecretKey, tier.UseSSL); p != localstack.ArchiveParity {
		t.Errorf("archive tier parity EC:%d, want EC:%d", p, localstack.ArchiveParity)
	}
	if p := parity(cfg.S3.Endpoint, cfg.S3.AccessKey, cfg.S3.SecretKey, cfg.S3.UseSSL); p == localstack.ArchiveParity {
		t.Errorf("warehouse parity EC:%d, the archive tier's: not a parity of its own", p)
	}

	tierBytes := func() (n int64) {
		for o := range tierS3.ListObjects(ctx, tier.Bucket, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err != nil {
				t.Fatalf("list tier bucket %s: %v", tier.Bucket, o.Err)
			}
			n += o.Size
		}
		return n
	}

	now, _ := g.silverWithUnionViews(t, 2, 0.002)
	unions := lakehouse.UnionViews()
	counts := func() map[string]string {
		out := map[string]string{}
		for _, v := range unions {
			_, short, _ := strings.Cut(v.Name, ".")
			out[v.Name] = strings.Join(queryLines(t, db, fmt.Sprintf("SELECT count(*) FROM %s.%s", g.goldSchema, short)), ",")
		}
		return out
	}
	before := counts()
	bytesBefore := tierBytes()

	// Two hot days (yesterday and today) and one archived: the records
	// end an hour ago, so in the first hour of a UTC day today holds none
	// and only yesterday is sure to have hot rows.
	for _, v := range unions {
		cfg := archive.Config{Namespaces: env.NS, Tables: []string{v.Table}, HotDays: 2, Now: func() time.Time { return now }}
		reps, err := archive.New(env.Lake, cfg).Run(ctx)
		if err != nil {
			t.Fatalf("archive %s: %v", v.Table, err)
		}
		t.Logf("%s: %+v", v.Table, reps)
	}

	// Every live data file of every archive table: on the archive bucket,
	// transitioned to the tier (MinIO moves it once its upload completes).
	var files, size, rows int64
	for _, v := range unions {
		name := env.NS.Table(lakehouse.ArchiveTable(v.Table))
		tbl, err := env.Lake.Catalog.LoadTable(ctx, lakehouse.Ident(name))
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := tbl.Scan().PlanFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) == 0 {
			t.Fatalf("%s: no data files after the move", name)
		}
		rows += env.Count(t, name)
		for _, task := range tasks {
			files++
			size += task.File.FileSizeBytes()
			u, err := url.Parse(task.File.FilePath())
			if err != nil || u.Host != cfg.S3.ArchiveBucket {
				t.Fatalf("%s: data file %s is not on the archive bucket %s", name, task.File.FilePath(), cfg.S3.ArchiveBucket)
			}
			key := strings.TrimPrefix(u.Path, "/")
			stacktest.Eventually(t, time.Minute, 500*time.Millisecond, func() (bool, error) {
				st, err := hot.StatObject(ctx, u.Host, key, minio.StatObjectOptions{})
				if err != nil {
					return false, err
				}
				return st.Metadata.Get("X-Amz-Storage-Class") == tier.Name, nil
			}, func() string { return fmt.Sprintf("%s not transitioned to tier %s", task.File.FilePath(), tier.Name) })
		}
	}
	if grew := tierBytes() - bytesBefore; grew < size {
		t.Errorf("the tier's bucket grew by %d bytes, less than the %d bytes of the archive's data files", grew, size)
	}
	t.Logf("archive: %d data files, %d bytes, %d rows on tier %s (%s, bucket %s)", files, size, rows, tier.Name, tier.Endpoint, tier.Bucket)

	after := counts()
	for _, v := range unions {
		if after[v.Name] != before[v.Name] {
			t.Errorf("%s counts %s after the move to the tier, %s before", v.Name, after[v.Name], before[v.Name])
		}
	}
	check(t, db, "archive tier rows", fmt.Sprintf("SELECT tier, count(*) > 0 FROM %s.events_all GROUP BY tier", g.goldSchema),
		[]string{"archive|true", "hot|true"}, false)
	// Storage per tier: gold.pipeline_storage's query over the test's
	// tables (the rollups left out: the test builds none).
	check(t, db, "storage per tier", fmt.Sprintf("SELECT sum(files), sum(bytes), sum(rows) FROM (%s) WHERE tier = 'archive'", g.target.physical(StorageSQL(nil))),
		[]string{fmt.Sprintf("%d|%d|%d", files, size, rows)}, false)
}
