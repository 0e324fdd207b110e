package store

import (
	"context"
	"time"
)

// ChartRecord is one rendered chart, or why there is none
// (alertchart_chart), shared by all channels of a notification.
type ChartRecord struct {
	DeliveryID  string
	Fingerprint string
	CreatedAt   time.Time
	ContentType string
	Image       []byte
	// Meta is everything of the chart but the image, as JSON.
	Meta     string
	Renderer string
	Fallback string
	Plan     string
	Note     string
	// Error is why there is no chart ("" when there is one).
	Error string
}

// InsertChart stores a chart record unless one is stored already.
func (db DB) InsertChart(ctx context.Context, c ChartRecord) error {
	img := c.Image
	if img == nil {
		img = []byte{}
	}
	_, err := db.x.exec(ctx, `INSERT INTO alertchart_chart (delivery_id, fingerprint, created_at, content_type, image, meta, renderer, fallback_reason, plan, note, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (delivery_id, fingerprint) DO NOTHING`,
		c.DeliveryID, c.Fingerprint, c.CreatedAt.UnixMilli(), c.ContentType, img, c.Meta, c.Renderer, c.Fallback, c.Plan, c.Note, c.Error)
	return err
}

// Chart loads a stored chart record (ErrNoRows if there is none).
func (db DB) Chart(ctx context.Context, id, fp string) (*ChartRecord, error) {
	c := ChartRecord{DeliveryID: id, Fingerprint: fp}
	err := db.x.queryRow(ctx, `SELECT content_type, image, meta, renderer, fallback_reason, plan, note, error
		FROM alertchart_chart WHERE delivery_id = $1 AND fingerprint = $2`, id, fp).
		Scan(&c.ContentType, &c.Image, &c.Meta, &c.Renderer, &c.Fallback, &c.Plan, &c.Note, &c.Error)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// ChartImage returns the first stored image of a notification, or the one
// of fingerprint fp when fp is set (ErrNoRows when there is none).
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
