package store

import (
	"context"
	"time"
)

// Send attempts (alertchart_attempt): one row per try of a text or chart,
// kept for the deliveries page; decisions never read them back.

// Attempt is one send attempt (alertchart_attempt).
type Attempt struct {
	Key
	Part       string
	At         time.Time
	OK         bool
	Error      string
	StatusCode int
	Duration   time.Duration
}

// InsertAttempt records one send attempt.
func (db DB) InsertAttempt(ctx context.Context, a Attempt) error {
	st := attemptStmt(a)
	_, err := db.x.exec(ctx, st.q, st.args...)
	return err
}

func attemptStmt(a Attempt) stmt {
	ok := 0
	if a.OK {
		ok = 1
	}
	return stmt{`INSERT INTO alertchart_attempt (delivery_id, channel, part, at, ok, error, status_code, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, []any{a.DeliveryID, a.Channel, a.Part, a.At.UnixMilli(), ok, a.Error, a.StatusCode, a.Duration.Milliseconds()}}
}

// Attempts lists a notification's send attempts in time order.
func (db DB) Attempts(ctx context.Context, id string) ([]Attempt, error) {
	rows, err := db.x.query(ctx, `SELECT channel, part, at, ok, error, status_code, duration_ms FROM alertchart_attempt
		WHERE delivery_id = $1 ORDER BY at`, id)
	if err != nil {
		return nil, err
	}
	defer rows.close()
	var out []Attempt
	for rows.Next() {
		a := Attempt{Key: Key{DeliveryID: id}}
		var at, dur int64
		var ok int
		if err := rows.Scan(&a.Channel, &a.Part, &at, &ok, &a.Error, &a.StatusCode, &dur); err != nil {
			return nil, err
		}
		a.At, a.OK, a.Duration = time.UnixMilli(at), ok != 0, time.Duration(dur)*time.Millisecond
		out = append(out, a)
	}
	return out, rows.Err()
}
