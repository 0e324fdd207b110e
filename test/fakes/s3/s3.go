// Package s3 is a fake S3-compatible object store for the image store
// tests. It enforces what chat images depend on: signature V4 on every
// write (header auth with the right access key), existing buckets, an
// object size cap, and presigned GETs (query auth, X-Amz-Expires ≤ 7 days
// and not expired) unless the bucket is public-read. Errors are S3's XML.
package s3

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Object is a stored object.
type Object struct {
	Data        []byte
	ContentType string
}

// Server is the fake.
type Server struct {
	*httptest.Server
	AccessKey, SecretKey, Region string
	// MaxObjectBytes caps uploads (EntityTooLarge).
	MaxObjectBytes int
	Now            func() time.Time

	mu      sync.Mutex
	buckets map[string]bool
	public  map[string]bool
	objects map[string]Object
	gets    int
}

// New starts a fake with one bucket, "charts".
func New() *Server {
	s := &Server{AccessKey: "AKFAKE", SecretKey: "fake-secret-key", Region: "us-east-1", MaxObjectBytes: 5 << 20, Now: time.Now,
		buckets: map[string]bool{"charts": true}, public: map[string]bool{}, objects: map[string]Object{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Endpoint is host:port, the form the image store settings take.
func (s *Server) Endpoint() string { return strings.TrimPrefix(s.URL, "http://") }

// MakePublic lets anonymous GETs read a bucket.
func (s *Server) MakePublic(bucket string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.public[bucket] = true
}

// Objects returns a copy of the stored objects by "bucket/key".
func (s *Server) Objects() map[string]Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Object{}
	for k, v := range s.objects {
		out[k] = v
	}
	return out
}

// Gets counts successful object downloads.
func (s *Server) Gets() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$`)

// headerAuth checks signature V4 header authentication.
func (s *Server) headerAuth(r *http.Request) (code, msg string) {
	m := authRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "AccessDenied", "signature V4 Authorization header required"
	}
	if m[1] != s.AccessKey {
		return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
	}
	if m[3] != s.Region {
		return "AuthorizationHeaderMalformed", "the region '" + m[3] + "' is wrong; expecting '" + s.Region + "'"
	}
	if !strings.Contains(m[4], "host") || !strings.Contains(m[4], "x-amz-date") {
		return "AccessDenied", "host and x-amz-date must be signed"
	}
	if r.Header.Get("X-Amz-Content-Sha256") == "" {
		return "InvalidRequest", "x-amz-content-sha256 header missing"
	}
	t, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || s.Now().Sub(t).Abs() > 15*time.Minute {
		return "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
	}
	return "", ""
}

// queryAuth checks a presigned URL.
func (s *Server) queryAuth(r *http.Request) (code, msg string) {
	q := r.URL.Query()
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" || q.Get("X-Amz-Signature") == "" || q.Get("X-Amz-SignedHeaders") == "" {
		return "AccessDenied", "Access Denied"
	}
	cred := strings.Split(q.Get("X-Amz-Credential"), "/")
	if len(cred) != 5 || cred[0] != s.AccessKey {
		return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
	}
	exp, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || exp < 1 || exp > 604800 {
		return "AuthorizationQueryParametersError", "X-Amz-Expires must be less than a week (in seconds) that is 604800"
	}
	t, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format"
	}
	if s.Now().After(t.Add(time.Duration(exp) * time.Second)) {
		return "AccessDenied", "Request has expired"
	}
	return "", ""
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	if bucket == "" {
		fail(w, http.StatusNotImplemented, "NotImplemented", "virtual-hosted style is not supported by the fake; use path style")
		return
	}
	exists := s.buckets[bucket]
	if key == "" {
		if code, msg := s.headerAuth(r); code != "" {
			fail(w, http.StatusForbidden, code, msg)
			return
		}
		if !exists {
			fail(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
			return
		}
		if _, ok := r.URL.Query()["location"]; ok && r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s</LocationConstraint>`, s.Region)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		fail(w, http.StatusNotImplemented, "NotImplemented", "bucket operation not supported by the fake")
		return
	}
	switch r.Method {
	case http.MethodPut:
		if code, msg := s.headerAuth(r); code != "" {
			fail(w, http.StatusForbidden, code, msg)
			return
		}
		if !exists {
			fail(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
			return
		}
		if strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
			fail(w, http.StatusNotImplemented, "NotImplemented", "aws-chunked uploads are not supported by this store")
			return
		}
		if r.ContentLength < 0 {
			fail(w, http.StatusLengthRequired, "MissingContentLength", "You must provide the Content-Length HTTP header.")
			return
		}
		if r.ContentLength > int64(s.MaxObjectBytes) {
			fail(w, http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
			return
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, int64(s.MaxObjectBytes)+1))
		if err != nil || int64(len(data)) != r.ContentLength {
			fail(w, http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
			return
		}
		s.objects[bucket+"/"+key] = Object{Data: data, ContentType: r.Header.Get("Content-Type")}
		sum := md5.Sum(data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	case http.MethodGet, http.MethodHead:
		if !s.public[bucket] {
			auth := s.queryAuth
			if r.Header.Get("Authorization") != "" {
				auth = s.headerAuth
			}
			if code, msg := auth(r); code != "" {
				fail(w, http.StatusForbidden, code, msg)
				return
			}
		}
		obj, ok := s.objects[bucket+"/"+key]
		if !ok {
			fail(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		w.Header().Set("Content-Type", obj.ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(obj.Data)))
		s.gets++
		if r.Method == http.MethodGet {
			w.Write(obj.Data)
		}
	default:
		fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
}
