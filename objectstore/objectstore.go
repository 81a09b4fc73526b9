// Package objectstore administers weir's MinIO (S3) storage: the client
// from config.S3, the warehouse and archive buckets, the least-privilege
// service users with their policies, and the archive tier (a second MinIO
// the archive bucket's objects move to). Table data and
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
	"github.com/minio/minio-go/v7/pkg/lifecycle"

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
		if err := ensureBucket(ctx, c, b, s3.Region); err != nil {
			return err
		}
	}
	return nil
}

func ensureBucket(ctx context.Context, c *minio.Client, b, region string) error {
	ok, err := c.BucketExists(ctx, b)
	if err != nil {
		return fmt.Errorf("check bucket %s: %w", b, err)
	}
	if ok {
		return nil
	}
	if err := c.MakeBucket(ctx, b, minio.MakeBucketOptions{Region: region}); err != nil {
		resp := minio.ToErrorResponse(err)
		if resp.Code != "BucketAlreadyOwnedByYou" && resp.Code != "BucketAlreadyExists" {
			return fmt.Errorf("create bucket %s: %w", b, err)
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
// EnsureServiceUsers) with the admin credential in s3, and puts the archive
// bucket on its tier when one is configured (EnsureArchiveTier, with tier):
// what weir init --storage and the native stack's start run. A MinIO pool
// that has just started can refuse or stall its first requests, so each try
// is bounded (a minute, even when patience is almost over) and retried for
// up to patience.
func EnsureStorage(ctx context.Context, s3 config.S3, users []ServiceUser, tier TierAccess, patience time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, patience)
	defer cancel()
	err := wait.Until(wctx, 2*time.Second, func(context.Context) error {
		tctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := EnsureBuckets(tctx, s3); err != nil {
			return err
		}
		if err := EnsureServiceUsers(tctx, s3, users); err != nil {
			return err
		}
		return EnsureArchiveTier(tctx, s3, tier)
	})
	if err != nil {
		return fmt.Errorf("create buckets and service users: %w", err)
	}
	return nil
}

// TierUser is the identity the warehouse MinIO signs in to the archive
// tier's MinIO as: it reads and writes the tier's bucket and nothing else.
const TierUser = "weir-tier"

// TierServiceUser is TierUser on the tier's MinIO, with its secret key.
func TierServiceUser(t config.ArchiveTier, secret string) ServiceUser {
	return ServiceUser{AccessKey: TierUser, SecretKey: secret, Write: []string{t.Bucket}}
}

// TierAccess is what setting up the archive tier needs besides the
// warehouse MinIO's admin: the tier MinIO's admin credential, which creates
// the tier's bucket and TierUser, and TierUser's secret key.
type TierAccess struct {
	AdminAccessKey, AdminSecretKey string
	UserSecretKey                  string
}

// TierEnv names the environment variables of the archive tier's
// credentials in a deployment: its MinIO's admin (user and password) and
// TierUser's secret key.
var TierEnv = struct{ AdminUser, AdminPassword, UserSecret string }{
	"MINIO_ARCHIVE_ROOT_USER", "MINIO_ARCHIVE_ROOT_PASSWORD", "MINIO_TIER_SECRET_KEY",
}

// TierAccessFromEnv reads the archive tier's credentials from the TierEnv
// variables (through lookup) when cfg configures a tier; a missing one is an
// error naming the variable. Without a tier it returns none.
func TierAccessFromEnv(s3 config.S3, lookup func(string) (string, bool)) (TierAccess, error) {
	if s3.ArchiveTier.Endpoint == "" {
		return TierAccess{}, nil
	}
	var a TierAccess
	for _, v := range []struct {
		env string
		to  *string
	}{{TierEnv.AdminUser, &a.AdminAccessKey}, {TierEnv.AdminPassword, &a.AdminSecretKey}, {TierEnv.UserSecret, &a.UserSecretKey}} {
		*v.to, _ = lookup(v.env)
		if *v.to == "" {
			return TierAccess{}, fmt.Errorf("%s is not set (s3.archive_tier.endpoint is %s)", v.env, s3.ArchiveTier.Endpoint)
		}
	}
	return a, nil
}

// ArchiveRuleID names the lifecycle rule of the archive bucket that moves
// its objects to the archive tier.
const ArchiveRuleID = "weir-archive-tier"

// EnsureArchiveTier puts the archive bucket on the archive tier
// (config.ArchiveTier): on the tier's MinIO, with its admin credential, the
// tier's bucket and TierUser; on the warehouse MinIO, with the admin in s3,
// the tier (under TierUser) and a lifecycle rule on the archive bucket that
// transitions every object to it with no delay. MinIO moves an object as
// soon as its upload completes (objects older than the rule, at its next
// scan); the warehouse MinIO keeps the key and serves reads from the tier.
// Idempotent: an existing tier of the same name gets TierUser's current
// secret, one of that name on another endpoint or bucket is an error. A
// no-op when the tier has no endpoint.
func EnsureArchiveTier(ctx context.Context, s3 config.S3, access TierAccess) error {
	t := s3.ArchiveTier
	if t.Endpoint == "" {
		return nil
	}
	if access.AdminAccessKey == "" || access.AdminSecretKey == "" || access.UserSecretKey == "" {
		return fmt.Errorf("archive tier %s: the tier's admin credential and %s's secret key are required", t.Name, TierUser)
	}
	tierAdmin := config.S3{Endpoint: t.Endpoint, Region: s3.Region, UseSSL: t.UseSSL, AccessKey: access.AdminAccessKey, SecretKey: access.AdminSecretKey}
	tc, err := NewS3(tierAdmin)
	if err != nil {
		return err
	}
	if err := ensureBucket(ctx, tc, t.Bucket, s3.Region); err != nil {
		return fmt.Errorf("archive tier %s: %w", t.Name, err)
	}
	if err := EnsureServiceUsers(ctx, tierAdmin, []ServiceUser{TierServiceUser(t, access.UserSecretKey)}); err != nil {
		return fmt.Errorf("archive tier %s: %w", t.Name, err)
	}

	adm, err := madmin.NewWithOptions(s3.Endpoint, &madmin.Options{
		Creds:  credentials.NewStaticV4(s3.AccessKey, s3.SecretKey, ""),
		Secure: s3.UseSSL,
	})
	if err != nil {
		return fmt.Errorf("create minio admin client: %w", err)
	}
	scheme := "http://"
	if t.UseSSL {
		scheme = "https://"
	}
	tiers, err := adm.ListTiers(ctx)
	if err != nil {
		return fmt.Errorf("list tiers: %w", err)
	}
	var have *madmin.TierConfig
	for _, tc := range tiers {
		if tc.Name == t.Name {
			have = tc
		}
	}
	switch {
	case have == nil:
		cfg, err := madmin.NewTierMinIO(t.Name, scheme+t.Endpoint, TierUser, access.UserSecretKey, t.Bucket, madmin.MinIORegion(s3.Region))
		if err != nil {
			return fmt.Errorf("archive tier %s: %w", t.Name, err)
		}
		if err := adm.AddTier(ctx, cfg); err != nil {
			return fmt.Errorf("add tier %s: %w", t.Name, err)
		}
	case have.Type != madmin.MinIO || have.MinIO == nil || have.MinIO.Endpoint != scheme+t.Endpoint || have.MinIO.Bucket != t.Bucket:
		return fmt.Errorf("tier %s exists on %s with another endpoint or bucket; want MinIO %s%s bucket %s", t.Name, s3.Endpoint, scheme, t.Endpoint, t.Bucket)
	default:
		if err := adm.EditTier(ctx, t.Name, madmin.TierCreds{AccessKey: TierUser, SecretKey: access.UserSecretKey}); err != nil {
			return fmt.Errorf("update tier %s credentials: %w", t.Name, err)
		}
	}

	c, err := NewS3(s3)
	if err != nil {
		return err
	}
	lc, err := c.GetBucketLifecycle(ctx, s3.ArchiveBucket)
	if err != nil {
		if minio.ToErrorResponse(err).Code != "NoSuchLifecycleConfiguration" {
			return fmt.Errorf("read lifecycle of %s: %w", s3.ArchiveBucket, err)
		}
		lc = lifecycle.NewConfiguration()
	}
	rule := lifecycle.Rule{
		ID:     ArchiveRuleID,
		Status: "Enabled",
		// Days 0: due when written. An empty filter is the whole bucket:
		// data files and table metadata alike.
		Transition: lifecycle.Transition{Days: lifecycle.ExpirationDays(0), StorageClass: t.Name},
	}
	rules := []lifecycle.Rule{rule}
	for _, r := range lc.Rules {
		if r.ID != ArchiveRuleID {
			rules = append(rules, r)
		}
	}
	lc.Rules = rules
	if err := c.SetBucketLifecycle(ctx, s3.ArchiveBucket, lc); err != nil {
		return fmt.Errorf("set lifecycle of %s: %w", s3.ArchiveBucket, err)
	}
	return nil
}
