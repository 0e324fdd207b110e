package imagestore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/alertchart/alertchart/pkg/settings"
)

// MaxObjectBytes caps an upload. Charts are a few hundred KiB; anything near
// this is a bug upstream, not something to pay storage for.
const MaxObjectBytes = 10 << 20

// Store hosts an image and returns a URL chat platforms can fetch.
type Store interface {
	// Put stores data under key (the store adds its prefix) and returns a
	// URL to it.
	Put(ctx context.Context, key string, data []byte, contentType string) (string, error)
}

// S3 is a Store on S3-compatible object storage.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
	expiry time.Duration
	public string
}

// Options are the non-settings parts of a store.
type Options struct {
	AccessKey, SecretKey string
	// Transport for requests (nil: minio-go's default).
	Transport http.RoundTripper
}

// New creates a store from the imageStore settings. It does not contact
// the storage; the first Put does (and Check does on demand).
func New(cfg settings.ImageStoreSettings, opts Options) (*S3, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("imageStore.endpoint is required")
	}
	if strings.Contains(cfg.Endpoint, "://") {
		return nil, fmt.Errorf("imageStore.endpoint %q must be host[:port] without a scheme (set insecure for plain HTTP)", cfg.Endpoint)
	}
	if cfg.Bucket == "" {
		return nil, errors.New("imageStore.bucket is required")
	}
	if opts.AccessKey == "" || opts.SecretKey == "" {
		return nil, fmt.Errorf("secureJsonData.%s and %s are required for the image store", settings.SecretImageStoreAccess, settings.SecretImageStoreSecret)
	}
	expiry := cfg.PresignExpiry.D()
	if expiry == 0 {
		expiry = settings.DefaultPresignExpiry
	}
	if expiry > settings.MaxPresignExpiry || expiry < time.Second {
		return nil, fmt.Errorf("imageStore.presignExpiry %s must be between 1s and 7 days", expiry)
	}
	if cfg.PublicURLPrefix != "" {
		u, err := url.Parse(cfg.PublicURLPrefix)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("imageStore.publicUrlPrefix %q must be an http(s) URL", cfg.PublicURLPrefix)
		}
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, ""),
		Secure:       !cfg.Insecure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    opts.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if !keyRE.MatchString(prefix) {
			return nil, fmt.Errorf("imageStore.prefix %q may only contain letters, digits and / . _ -", cfg.Prefix)
		}
		prefix += "/"
	}
	return &S3{client: client, bucket: cfg.Bucket, prefix: prefix, expiry: expiry, public: cfg.PublicURLPrefix}, nil
}

// FromSettings returns the configured store, or nil (and no error) when no
// image store is configured.
func FromSettings(s *settings.Settings, transport http.RoundTripper) (*S3, error) {
	if s.ImageStore.Endpoint == "" {
		return nil, nil
	}
	return New(s.ImageStore, Options{
		AccessKey: s.Secrets[settings.SecretImageStoreAccess],
		SecretKey: s.Secrets[settings.SecretImageStoreSecret],
		Transport: transport,
	})
}

var keyRE = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`)

// ValidKey reports whether key is a safe object key: path segments of
// letters, digits, '.', '_' and '-', no "..", at most 512 bytes.
func ValidKey(key string) bool {
	if len(key) == 0 || len(key) > 512 || !keyRE.MatchString(key) {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// ContentKey is the content-addressed key of an image: "charts/<sha256>.<ext>".
func ContentKey(data []byte, contentType string) string {
	sum := sha256.Sum256(data)
	ext := "png"
	switch contentType {
	case "image/jpeg":
		ext = "jpg"
	case "image/webp":
		ext = "webp"
	case "image/gif":
		ext = "gif"
	}
	return "charts/" + hex.EncodeToString(sum[:]) + "." + ext
}

// Put uploads data and returns its URL.
func (s *S3) Put(ctx context.Context, key string, data []byte, contentType string) (string, error) {
	if s == nil {
		return "", errors.New("image store: not configured")
	}
	if !ValidKey(key) {
		return "", fmt.Errorf("image store: unsafe key %q", key)
	}
	if len(data) == 0 {
		return "", errors.New("image store: empty image")
	}
	if len(data) > MaxObjectBytes {
		return "", fmt.Errorf("image store: image of %d bytes is over the %d byte limit", len(data), MaxObjectBytes)
	}
	if contentType == "" {
		contentType = http.DetectContentType(data)
	}
	obj := s.prefix + key
	_, err := s.client.PutObject(ctx, s.bucket, obj, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:  contentType,
		CacheControl: "public, max-age=604800, immutable",
		// Plain single PUT: aws-chunked streaming signatures (minio-go's
		// default over HTTP) are not accepted by every S3-compatible store.
		DisableContentSha256: true,
		DisableMultipart:     true,
	})
	if err != nil {
		return "", fmt.Errorf("image store: upload %s: %w", obj, err)
	}
	return s.URL(ctx, obj)
}

// URL returns the public or presigned GET URL of an object key (with prefix).
func (s *S3) URL(ctx context.Context, obj string) (string, error) {
	if s.public != "" {
		return strings.TrimRight(s.public, "/") + "/" + obj, nil
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, obj, s.expiry, nil)
	if err != nil {
		return "", fmt.Errorf("image store: presign %s: %w", obj, err)
	}
	return u.String(), nil
}

// Check verifies that the bucket exists and the credentials work, for the
// health check and the config page.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("image store: %w", err)
	}
	if !ok {
		return fmt.Errorf("image store: bucket %q does not exist", s.bucket)
	}
	return nil
}
