// Package objectstore administers weir's MinIO (S3) storage: the client
// from config.S3, the warehouse and archive buckets, and the
// least-privilege service users with their policies. Table data and
// metadata on that storage are package lakehouse's business, not this one's.
package objectstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"weir/config"
	"weir/lakehouse"
	"weir/wait"
)

// NewS3 returns a minio-go client for the configured endpoint.
func NewS3(s3 config.S3) (*minio.Client, error) {
	c, err := minio.New(s3.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(s3.AccessKey, s3.SecretKey, ""),
		Secure: s3.UseSSL,
		Region: s3.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("create s3 client: %w", err)
	}
	return c, nil
}

// EnsureBuckets creates the warehouse and archive buckets if missing.
func EnsureBuckets(ctx context.Context, s3 config.S3) error {
	c, err := NewS3(s3)
	if err != nil {
		return err
	}
	for _, b := range []string{s3.Bucket, s3.ArchiveBucket} {
		ok, err := c.BucketExists(ctx, b)
		if err != nil {
			return fmt.Errorf("check bucket %s: %w", b, err)
		}
		if ok {
			continue
		}
		if err := c.MakeBucket(ctx, b, minio.MakeBucketOptions{Region: s3.Region}); err != nil {
			resp := minio.ToErrorResponse(err)
			if resp.Code != "BucketAlreadyOwnedByYou" && resp.Code != "BucketAlreadyExists" {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
	}
	return nil
}

// ServiceUser is one least-privilege MinIO identity.
type ServiceUser struct {
	AccessKey string
	SecretKey string
	// Read and Write are object prefixes ("bucket/path") the user may read
	// or read and write.
	Read  []string
	Write []string
}

// ServiceUsers returns the least-privilege identities of weir's services,
// given each one's secret key:
//   - weir-stream writes bronze only;
//   - weir-batch reads bronze and writes silver, gold and the archive tier;
//   - weir-maintain rewrites files everywhere (compaction, expiry, orphans);
//   - weir-trino reads everything and writes gold (views and rollups);
//   - weir-alerts writes silver.alerts only.
//
// Grafana has no S3 identity: it reads through Trino.
func ServiceUsers(s3 config.S3, wh string, secrets map[string]string) []ServiceUser {
	lake := s3.Bucket + "/" + strings.TrimPrefix(strings.TrimPrefix(wh, "s3://"+s3.Bucket), "/")
	lake = strings.TrimSuffix(lake, "/")
	ns := func(n string) string { return lake + "/" + n }
	return []ServiceUser{
		{AccessKey: "weir-stream", SecretKey: secrets["weir-stream"], Write: []string{ns(lakehouse.Bronze)}},
		{AccessKey: "weir-batch", SecretKey: secrets["weir-batch"], Read: []string{ns(lakehouse.Bronze)},
			Write: []string{ns(lakehouse.Silver), ns(lakehouse.Gold), s3.ArchiveBucket}},
		{AccessKey: "weir-maintain", SecretKey: secrets["weir-maintain"], Write: []string{s3.Bucket, s3.ArchiveBucket}},
		{AccessKey: "weir-trino", SecretKey: secrets["weir-trino"], Read: []string{s3.Bucket, s3.ArchiveBucket}, Write: []string{ns(lakehouse.Gold)}},
		{AccessKey: "weir-alerts", SecretKey: secrets["weir-alerts"], Write: []string{ns(lakehouse.Silver) + "/alerts"}},
	}
}

// Policy renders the IAM policy document of u.
func (u ServiceUser) Policy() []byte {
	type stmt struct {
		Effect    string         `json:"Effect"`
		Action    []string       `json:"Action"`
		Resource  []string       `json:"Resource"`
		Condition map[string]any `json:"Condition,omitempty"`
	}
	var stmts []stmt
	buckets := map[string]bool{}
	add := func(prefixes []string, actions []string) {
		if len(prefixes) == 0 {
			return
		}
		var res []string
		for _, p := range prefixes {
			b, _, _ := strings.Cut(p, "/")
			buckets[b] = true
			if strings.Contains(p, "/") {
				res = append(res, "arn:aws:s3:::"+p+"*")
			} else {
				res = append(res, "arn:aws:s3:::"+p+"/*")
			}
		}
		stmts = append(stmts, stmt{Effect: "Allow", Action: actions, Resource: res})
	}
	add(u.Read, []string{"s3:GetObject"})
	add(u.Write, []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"})
	var bres []string
	for b := range buckets {
		bres = append(bres, "arn:aws:s3:::"+b)
	}
	stmts = append(stmts, stmt{Effect: "Allow", Action: []string{"s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"}, Resource: bres})
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	return doc
}

// EnsureServiceUsers creates (or updates) each user and its policy. It needs
// admin credentials in s3.
func EnsureServiceUsers(ctx context.Context, s3 config.S3, users []ServiceUser) error {
	adm, err := madmin.NewWithOptions(s3.Endpoint, &madmin.Options{
		Creds:  credentials.NewStaticV4(s3.AccessKey, s3.SecretKey, ""),
		Secure: s3.UseSSL,
	})
	if err != nil {
		return fmt.Errorf("create minio admin client: %w", err)
	}
	for _, u := range users {
		if u.SecretKey == "" {
			return fmt.Errorf("service user %s: empty secret key", u.AccessKey)
		}
		policy := u.AccessKey + "-policy"
		if err := adm.AddCannedPolicy(ctx, policy, u.Policy()); err != nil {
			return fmt.Errorf("add policy %s: %w", policy, err)
		}
		if err := adm.AddUser(ctx, u.AccessKey, u.SecretKey); err != nil {
			return fmt.Errorf("add user %s: %w", u.AccessKey, err)
		}
		_, err := adm.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: []string{policy}, User: u.AccessKey})
		if err != nil && !strings.Contains(err.Error(), "already") {
			return fmt.Errorf("attach policy %s to %s: %w", policy, u.AccessKey, err)
		}
	}
	return nil
}

// EnsureStorage creates the buckets and users (EnsureBuckets,
// EnsureServiceUsers) with the admin credential in s3: what weir init
// --storage and the native stack's start run. A MinIO pool that has just
// started can refuse or stall its first requests, so each try is bounded
// (a minute, even when patience is almost over) and retried for up to
// patience.
func EnsureStorage(ctx context.Context, s3 config.S3, users []ServiceUser, patience time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	err := wait.Until(wctx, 2*time.Second, func(context.Context) error {
		tctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := EnsureBuckets(tctx, s3); err != nil {
			return err
		}
		return EnsureServiceUsers(tctx, s3, users)
	})
	if err != nil {
		return fmt.Errorf("create buckets and service users: %w", err)
	}
	return nil
}
