package settings

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration written as a Go duration string ("10m", "1h30m")
// in JSON and YAML; plain numbers are read as seconds.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "10m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return d.set(v)
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads "10m" or a number of seconds.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var v any
	if err := unmarshal(&v); err != nil {
		return err
	}
	return d.set(v)
}

func (d *Duration) set(v any) error {
	switch x := v.(type) {
	case nil:
		*d = 0
	case float64:
		*d = Duration(time.Duration(x * float64(time.Second)))
	case int:
		*d = Duration(time.Duration(x) * time.Second)
	case string:
		if x == "" {
			*d = 0
			return nil
		}
		p, err := time.ParseDuration(x)
		if err != nil {
			return fmt.Errorf("invalid duration %q (use e.g. \"10m\" or \"1h30m\")", x)
		}
		if p < 0 {
			return fmt.Errorf("negative duration %q", x)
		}
		*d = Duration(p)
	default:
		return fmt.Errorf("invalid duration %v", v)
	}
	return nil
}
