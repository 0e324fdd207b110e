// Package inbox is a local channel for the standalone demo and for trying
// AlertChart without any chat platform: each message becomes a Markdown
// file plus its chart PNG in a folder, with a small JSON record that List
// reads to build an index page.
//
// File names are made here — a UTC timestamp, a sequence number and a hash
// of the content — and never from alert names or labels, so no label value
// can choose a path. Open accepts only names of that shape.
package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/alertchart/alertchart/pkg/channels"
)

// DefaultMaxEntries is how many messages the folder keeps; older ones are
// removed when a new one arrives.
const DefaultMaxEntries = 500

// Entry describes one stored message.
type Entry struct {
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Channel  string    `json:"channel"`
	Title    string    `json:"title"`
	Status   string    `json:"status"`
	Alerts   int       `json:"alerts"`
	Part     string    `json:"part"`
	Markdown string    `json:"markdown"`
	Image    string    `json:"image,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// Notifier writes messages into a folder.
type Notifier struct {
	channels.Base
	dir string
	// MaxEntries bounds the folder (DefaultMaxEntries when 0).
	MaxEntries int
	// Now names files (tests pin it).
	Now func() time.Time

	mu  sync.Mutex
	seq int
}

// New creates the notifier, creating the folder if needed.
func New(opts channels.Options) (*Notifier, error) {
	dir := opts.Channel.Dir
	if dir == "" {
		return nil, errors.New("dir is required for the inbox channel")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("inbox dir: %w", err)
	}
	f, err := opts.Formatter(channels.CommonMark)
	if err != nil {
		return nil, err
	}
	f.Card = true // the file starts with the headline as a heading
	return &Notifier{Base: channels.Base{Opts: opts, Fmt: f, TypeName: "inbox"}, dir: dir, Now: time.Now}, nil
}

// Dir is the folder the inbox writes to.
func (n *Notifier) Dir() string { return n.dir }

// Limits: local files, no limit; text and chart in one entry.
func (n *Notifier) Limits() channels.Limits {
	return n.Opts.Limits(Spec.Limits)
}

// Named says which alerts an entry names (channels.Fitter): the text
// within the inbox's limit.
func (n *Notifier) Named(m *channels.Message) ([]string, error) {
	return n.Fmt.Named(m, channels.Limit{Max: 256 << 10, Unit: channels.Bytes})
}

var _ channels.Fitter = (*Notifier)(nil)

// Send writes m.
func (n *Notifier) Send(ctx context.Context, m *channels.Message) (*channels.Result, error) {
	if m == nil || m.Data == nil {
		return nil, channels.Errorf(channels.Permanent, "message without alert data")
	}
	if err := ctx.Err(); err != nil {
		return nil, channels.TransportError(err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	now := n.Now().UTC()
	var body string
	if m.Part == channels.PartChart {
		body = n.Fmt.Caption(m, channels.Limit{})
	} else {
		t, err := n.Fmt.Render(m, channels.Limit{Max: 256 << 10, Unit: channels.Bytes})
		if err != nil {
			return nil, channels.Errorf(channels.Permanent, "%v", err)
		}
		body = "# " + n.Fmt.EscTitle(m) + "\n\n" + t.Body
	}
	sum := sha256.Sum256([]byte(body))
	id := fmt.Sprintf("%s-%04d-%s", now.Format("20060102T150405.000Z"), n.seq%10000, hex.EncodeToString(sum[:4]))
	e := Entry{ID: id, Time: now, Channel: n.Name(), Title: n.Fmt.Title(m), Status: m.Data.Status, Alerts: len(m.Data.Alerts),
		Part: string(m.Part), Markdown: id + ".md", Note: m.ChartNote}
	if n.Opts.WantsChart(m) {
		ext := ".png"
		if m.Chart.ContentType == "image/jpeg" {
			ext = ".jpg"
		}
		e.Image = id + ext
		if err := writeAtomic(filepath.Join(n.dir, e.Image), m.Chart.Image); err != nil {
			return nil, channels.Errorf(channels.Retryable, "inbox: %v", err)
		}
		body += "\n\n![chart](" + e.Image + ")\n"
	}
	if err := writeAtomic(filepath.Join(n.dir, e.Markdown), []byte(body)); err != nil {
		return nil, channels.Errorf(channels.Retryable, "inbox: %v", err)
	}
	meta, _ := json.MarshalIndent(e, "", "  ")
	if err := writeAtomic(filepath.Join(n.dir, id+".json"), meta); err != nil {
		return nil, channels.Errorf(channels.Retryable, "inbox: %v", err)
	}
	max := n.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	prune(n.dir, max)
	return &channels.Result{StatusCode: 200, Body: e.Markdown, Requests: 1}, nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// nameRE is the only shape of file name the inbox writes or serves.
var nameRE = regexp.MustCompile(`^\d{8}T\d{6}\.\d{3}Z-\d{4}-[0-9a-f]{8}\.(md|png|jpg|json)$`)

// ValidName reports whether name is an inbox file name.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// List returns the newest entries first, at most limit (0: all).
func List(dir string, limit int) ([]Entry, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names)))
	out := []Entry{}
	for _, p := range names {
		if !ValidName(filepath.Base(p)) {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue // removed by pruning meanwhile
		}
		var e Entry
		if json.Unmarshal(b, &e) != nil {
			continue
		}
		out = append(out, e)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// Open opens an inbox file by name for serving, with its content type.
// Names that the inbox did not make are refused.
func Open(dir, name string) (io.ReadCloser, string, error) {
	if !ValidName(name) {
		return nil, "", fmt.Errorf("inbox: invalid file name %q", name)
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, "", err
	}
	ct := map[string]string{".md": "text/markdown; charset=utf-8", ".png": "image/png", ".jpg": "image/jpeg", ".json": "application/json"}[filepath.Ext(name)]
	return f, ct, nil
}

// prune keeps the newest max entries.
func prune(dir string, max int) {
	entries, err := List(dir, 0)
	if err != nil || len(entries) <= max {
		return
	}
	for _, e := range entries[max:] {
		for _, name := range []string{e.Markdown, e.Image, e.ID + ".json"} {
			if name != "" && ValidName(name) && strings.HasPrefix(name, e.ID) {
				os.Remove(filepath.Join(dir, name))
			}
		}
	}
}
