package imagestore_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alertchart/alertchart/pkg/imagestore"
	"github.com/alertchart/alertchart/pkg/settings"
	"github.com/alertchart/alertchart/test/fakes/fixture"
	fakes3 "github.com/alertchart/alertchart/test/fakes/s3"
)

func newStore(t *testing.T, s *fakes3.Server, mod func(*settings.ImageStoreSettings)) *imagestore.S3 {
	t.Helper()
	cfg := settings.ImageStoreSettings{Endpoint: s.Endpoint(), Bucket: "charts", Region: "us-east-1", Prefix: "alertchart", Insecure: true, PathStyle: true}
	if mod != nil {
		mod(&cfg)
	}
	st, err := imagestore.New(cfg, imagestore.Options{AccessKey: s.AccessKey, SecretKey: s.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestPutPresignsAndTheURLServesTheImage(t *testing.T) {
	s := fakes3.New()
	defer s.Close()
	st := newStore(t, s, nil)
	img := fixture.PNG(20, 10)
	key := imagestore.ContentKey(img, "image/png")
	u, err := st.Put(context.Background(), key, img, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(u, "X-Amz-Signature=") || !strings.Contains(u, "X-Amz-Expires=86400") || !strings.Contains(u, "/charts/alertchart/charts/") {
		t.Fatalf("url %s", u)
	}
	obj, ok := s.Objects()["charts/alertchart/"+key]
	if !ok || obj.ContentType != "image/png" || string(obj.Data) != string(img) {
		t.Fatalf("stored %+v", s.Objects())
	}
	if code, body := get(t, u); code != 200 || string(body) != string(img) {
		t.Fatalf("GET %d", code)
	}
	// Unsigned access is refused; an expired URL too.
	if code, _ := get(t, s.URL+"/charts/alertchart/"+key); code != 403 {
		t.Fatalf("anonymous GET %d", code)
	}
	s.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
	if code, body := get(t, u); code != 403 || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired GET %d %s", code, body)
	}
}

func TestPublicPrefix(t *testing.T) {
	s := fakes3.New()
	defer s.Close()
	s.MakePublic("charts")
	st := newStore(t, s, func(c *settings.ImageStoreSettings) { c.PublicURLPrefix = s.URL + "/charts/" })
	img := fixture.PNG(8, 8)
	u, err := st.Put(context.Background(), imagestore.ContentKey(img, "image/png"), img, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u, "X-Amz") {
		t.Fatalf("public URL is presigned: %s", u)
	}
	if code, _ := get(t, u); code != 200 {
		t.Fatalf("GET %d", code)
	}
}

func TestErrors(t *testing.T) {
	s := fakes3.New()
	defer s.Close()
	img := fixture.PNG(8, 8)
	key := imagestore.ContentKey(img, "image/png")
	ctx := context.Background()

	if _, err := newStore(t, s, func(c *settings.ImageStoreSettings) { c.Bucket = "missing" }).Put(ctx, key, img, "image/png"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	if err := newStore(t, s, func(c *settings.ImageStoreSettings) { c.Bucket = "missing" }).Check(ctx); err == nil {
		t.Error("Check passed on a missing bucket")
	}
	if err := newStore(t, s, nil).Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	bad, _ := imagestore.New(settings.ImageStoreSettings{Endpoint: s.Endpoint(), Bucket: "charts", Region: "us-east-1", Insecure: true, PathStyle: true},
		imagestore.Options{AccessKey: "WRONG", SecretKey: "x"})
	if _, err := bad.Put(ctx, key, img, "image/png"); err == nil || !strings.Contains(err.Error(), "Access Key") {
		t.Errorf("wrong access key: %v", err)
	}
	s.MaxObjectBytes = 100
	if _, err := newStore(t, s, nil).Put(ctx, key, fixture.PNG(64, 64), "image/png"); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("too big: %v", err)
	}
	for _, k := range []string{"../etc/passwd", "a//b", "chart name.png", "a/../b", "/abs", "x<y>"} {
		if _, err := newStore(t, s, nil).Put(ctx, k, img, "image/png"); err == nil || !strings.Contains(err.Error(), "unsafe key") {
			t.Errorf("key %q: %v", k, err)
		}
	}
	if _, err := imagestore.New(settings.ImageStoreSettings{Endpoint: "x", Bucket: "b", PresignExpiry: settings.Duration(8 * 24 * time.Hour)},
		imagestore.Options{AccessKey: "a", SecretKey: "b"}); err == nil {
		t.Error("8-day presign accepted")
	}
	if _, err := imagestore.New(settings.ImageStoreSettings{Endpoint: "https://x", Bucket: "b"}, imagestore.Options{AccessKey: "a", SecretKey: "b"}); err == nil {
		t.Error("endpoint with scheme accepted")
	}
}

func TestContentKeyIsStableAndSafe(t *testing.T) {
	a := imagestore.ContentKey([]byte("x"), "image/png")
	if a != imagestore.ContentKey([]byte("x"), "image/png") || !imagestore.ValidKey(a) || !strings.HasSuffix(a, ".png") {
		t.Fatal(a)
	}
	if imagestore.ContentKey([]byte("x"), "image/jpeg") == a {
		t.Fatal("content type ignored")
	}
}
