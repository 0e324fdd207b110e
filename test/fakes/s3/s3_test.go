package s3

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRejectsUnsignedWritesMissingBucketsAndBadPresigns(t *testing.T) {
	s := New()
	defer s.Close()
	do := func(method, path string, hdr map[string]string) (int, string) {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader("data"))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b := make([]byte, 512)
		n, _ := resp.Body.Read(b)
		return resp.StatusCode, string(b[:n])
	}
	if st, body := do("PUT", "/charts/a.png", nil); st != 403 || !strings.Contains(body, "AccessDenied") {
		t.Fatalf("unsigned PUT: %d %s", st, body)
	}
	now := time.Now().UTC()
	auth := map[string]string{
		"Authorization":        "AWS4-HMAC-SHA256 Credential=AKFAKE/" + now.Format("20060102") + "/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + strings.Repeat("a", 64),
		"X-Amz-Date":           now.Format("20060102T150405Z"),
		"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD",
	}
	if st, body := do("PUT", "/nobucket/a.png", auth); st != 404 || !strings.Contains(body, "NoSuchBucket") {
		t.Fatalf("missing bucket: %d %s", st, body)
	}
	if st, _ := do("PUT", "/charts/a.png", auth); st != 200 {
		t.Fatalf("signed PUT: %d", st)
	}
	s.MaxObjectBytes = 2
	if st, body := do("PUT", "/charts/b.png", auth); st != 400 || !strings.Contains(body, "EntityTooLarge") {
		t.Fatalf("too large: %d %s", st, body)
	}
	q := "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKFAKE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Signature=ab&X-Amz-Date=" + now.Format("20060102T150405Z")
	if st, _ := do("GET", "/charts/a.png"+q+"&X-Amz-Expires=604801", nil); st != 403 {
		t.Fatalf("8-day presign: %d", st)
	}
	if st, _ := do("GET", "/charts/a.png"+q+"&X-Amz-Expires=600", nil); st != 200 {
		t.Fatalf("valid presign: %d", st)
	}
	if st, _ := do("GET", "/charts/a.png", nil); st != 403 {
		t.Fatalf("anonymous GET: %d", st)
	}
}
