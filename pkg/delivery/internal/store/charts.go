package store

import (
	"context"
	"time"
)

// ChartRecord is one rendered chart, or why there is none
// (alertchart_chart), shared by all channels of a notification that use
// its language.
type ChartRecord struct {
	DeliveryID  string
	Fingerprint string
	// Lang is the chart's language ("" when the Charter chose it).
	Lang        string
	CreatedAt   time.Time
	ContentType string
	Image       []byte
	// Meta is everything of the chart but the image, as JSON.
	Meta     string
	Renderer string
	Fallback string
	Plan     string
	Note     string
	// Error is why there is no chart ("" when there is one), in full;
	// Reason is its kind (a nochart.Reason id, "" when unknown).
	Error  string
	Reason string
}

// InsertChart stores a chart record unless one is stored already.
func (db DB) InsertChart(ctx context.Context, c ChartRecord) error {
	img := c.Image
	if img == nil {
		img = []byte{}
	}
	_, err := db.x.exec(ctx, `INSERT INTO alertchart_chart (delivery_id, fingerprint, lang, created_at, content_type, image, meta, renderer, fallback_reason, plan, note, error, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (delivery_id, fingerprint, lang) DO NOTHING`,
		c.DeliveryID, c.Fingerprint, c.Lang, c.CreatedAt.UnixMilli(), c.ContentType, img, c.Meta, c.Renderer, c.Fallback, c.Plan, c.Note, c.Error, c.Reason)
	return err
}

// Chart loads a stored chart record in lang (ErrNoRows if there is none).
func (db DB) Chart(ctx context.Context, id, fp, lang string) (*ChartRecord, error) {
	c := ChartRecord{DeliveryID: id, Fingerprint: fp, Lang: lang}
	err := db.x.queryRow(ctx, `SELECT content_type, image, meta, renderer, fallback_reason, plan, note, error, reason
		FROM alertchart_chart WHERE delivery_id = $1 AND fingerprint = $2 AND lang = $3`, id, fp, lang).
		Scan(&c.ContentType, &c.Image, &c.Meta, &c.Renderer, &c.Fallback, &c.Plan, &c.Note, &c.Error, &c.Reason)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// ChartImage returns the first stored image of a notification, or the
// first of fingerprint fp when fp is set (ErrNoRows when there is none).
func (db DB) ChartImage(ctx context.Context, id, fp string) (contentType string, image []byte, err error) {
	q := `SELECT content_type, image FROM alertchart_chart WHERE delivery_id = $1 AND error = '' AND content_type <> ''`
	args := []any{id}
	if fp != "" {
		q += ` AND fingerprint = $2`
		args = append(args, fp)
	}
	q += ` ORDER BY created_at LIMIT 1`
	err = db.x.queryRow(ctx, q, args...).Scan(&contentType, &image)
	if err == nil && len(image) == 0 {
		err = ErrNoRows
	}
	return contentType, image, err
}

// HasChart reports whether a notification has at least one stored image.
func (db DB) HasChart(ctx context.Context, id string) (bool, error) {
	var n int64
	err := db.x.queryRow(ctx, `SELECT COUNT(*) FROM alertchart_chart WHERE delivery_id = $1 AND error = '' AND content_type <> ''`, id).Scan(&n)
	return n > 0, err
}
