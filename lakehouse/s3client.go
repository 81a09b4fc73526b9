package lakehouse

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/apache/iceberg-go/io/gocloud/s3"
	"github.com/apache/iceberg-go/utils"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// s3Client resolves the S3 client configuration once per Lakehouse and
// puts it in ctx (WithS3Client), where iceberg-go's S3 FileIO takes it
// instead of resolving its own. Without it, every table.FS call (each scan, write and commit) runs
// the AWS SDK's default-config loader, which re-reads and parses the CA
// bundle named by AWS_CA_BUNDLE, and builds a fresh HTTP client, so no
// connection is reused between calls. The properties are the catalog's,
// so the resulting clients are the same ones, only shared.
type s3Client struct {
	once sync.Once
	ctx  func(context.Context) context.Context
	err  error
}

// WithS3Client returns ctx carrying the lakehouse's one S3 client
// configuration (resolved on first use). Jobs call it once at the start of
// a run; every table scan, write and commit under that ctx then shares one
// HTTP connection pool.
func (l *Lakehouse) WithS3Client(ctx context.Context) (context.Context, error) {
	c := &l.s3
	c.once.Do(func() {
		awsCfg, err := s3.ParseAWSConfig(ctx, Properties(l.cfg.S3))
		if err != nil {
			c.err = fmt.Errorf("resolve s3 client config: %w", err)
			return
		}
		if bc, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient); ok {
			// The SDK default keeps 10 idle connections per host; a run's
			// concurrent reads and writes to the one MinIO endpoint use more.
			awsCfg.HTTPClient = bc.WithTransportOptions(func(t *http.Transport) {
				t.MaxIdleConns, t.MaxIdleConnsPerHost = 128, 128
			})
		}
		if l.Hook != nil {
			awsCfg.HTTPClient = &hookedClient{next: awsCfg.HTTPClient, hook: l.Hook}
		}
		c.ctx = func(ctx context.Context) context.Context { return utils.WithAwsConfig(ctx, awsCfg) }
	})
	if c.err != nil {
		return ctx, c.err
	}
	return c.ctx(ctx), nil
}

// hookedClient calls hook at PointMetadataWritten once a table metadata
// file is stored: inside a catalog commit, before its compare-and-swap.
type hookedClient struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	hook func(point string)
}

func (c *hookedClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(r)
	if err == nil && r.Method == http.MethodPut && resp.StatusCode == http.StatusOK &&
		strings.HasSuffix(r.URL.Path, ".metadata.json") {
		c.hook(PointMetadataWritten)
	}
	return resp, err
}
