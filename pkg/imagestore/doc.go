// Package imagestore hosts chart images on S3-compatible object storage
// (AWS S3, Aliyun OSS, Tencent COS, MinIO) for the chat platforms that only
// take an image by URL: DingTalk, Microsoft Teams and Slack incoming
// webhooks (and the generic webhook when it does not embed base64).
//
// # URLs
//
// Put returns a presigned GET URL (signature V4, valid for
// imageStore.presignExpiry, default 24h, at most 7 days, the S3 maximum), or
// PublicURLPrefix+key when the bucket or a CDN in front of it is public-read.
// Chat clients fetch the image when a message is opened, often days later:
// pick an expiry as long as people read old alerts, or use a public prefix
// with unguessable keys. Presigned URLs made with temporary (STS)
// credentials die with the token.
//
// # Keys
//
// Keys are content-addressed (ContentKey: "charts/<sha256>.png" under the
// configured prefix), so re-sending the same chart uploads nothing new and
// keys never carry alert names or label values. Callers may pass their own
// keys; Put rejects anything but [A-Za-z0-9/._-] path segments.
//
// # Retention
//
// Nothing is deleted by AlertChart. Add a lifecycle rule on the prefix
// (e.g. "alertchart/") that expires objects a little after the presign
// expiry: 8 days for the default 24h plus a margin for late readers, or as
// long as your retention policy for alert evidence says. AWS: S3 Lifecycle
// "Expiration"; Aliyun OSS: 生命周期规则; Tencent COS: 生命周期; MinIO:
// `mc ilm rule add --expire-days 8 ALIAS/BUCKET/alertchart/`.
//
// # Provider notes
//
// Aliyun OSS accepts only virtual-hosted-style requests, and new accounts in
// mainland China must use a custom domain (CNAME) as the endpoint. Tencent
// COS buckets created after 2024 need a custom domain for browser previews.
// MinIO needs pathStyle: true. Give the access key only PutObject and
// GetObject on the prefix.
package imagestore
