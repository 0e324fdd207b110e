// Time units: Grafana's ns/µs/ms/s/m/h/d formatters, which step up to the
// next unit as a value grows (90 s is shown as "1.50 min").

package units

import "math"

func toNanoSeconds(v float64, d int) (string, string) {
	a := math.Abs(v)
	switch {
	case a < 1000:
		return ToFixed(v, d), " ns"
	case a < 1e6:
		return ToFixed(v/1e3, d), " µs"
	case a < 1e9:
		return ToFixed(v/1e6, d), " ms"
	case a < 60e9:
		return ToFixed(v/1e9, d), " s"
	case a < 3600e9:
		return ToFixed(v/60e9, d), " min"
	case a < 86400e9:
		return ToFixed(v/3600e9, d), " hour"
	}
	return ToFixed(v/86400e9, d), " day"
}

func toMicroSeconds(v float64, d int) (string, string) {
	a := math.Abs(v)
	switch {
	case a < 1000:
		return ToFixed(v, d), " µs"
	case a < 1e6:
		return ToFixed(v/1e3, d), " ms"
	}
	return ToFixed(v/1e6, d), " s"
}

func toMilliSeconds(v float64, d int) (string, string) {
	a := math.Abs(v)
	switch {
	case a < 1000:
		return ToFixed(v, d), " ms"
	case a < 60000:
		return ToFixed(v/1000, d), " s"
	case a < 3600000:
		return ToFixed(v/60000, d), " min"
	case a < 86400000:
		return ToFixed(v/3600000, d), " hour"
	case a < 31536000000:
		return ToFixed(v/86400000, d), " day"
	}
	return ToFixed(v/31536000000, d), " year"
}

func toSeconds(v float64, d int) (string, string) {
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0", " s"
	case a < 1e-6:
		return ToFixed(v*1e9, d), " ns"
	case a < 1e-3:
		return ToFixed(v*1e6, d), " µs"
	case a < 1:
		return ToFixed(v*1e3, d), " ms"
	case a < 60:
		return ToFixed(v, d), " s"
	case a < 3600:
		return ToFixed(v/60, d), " min"
	case a < 86400:
		return ToFixed(v/3600, d), " hour"
	case a < 604800:
		return ToFixed(v/86400, d), " day"
	case a < 31536000:
		return ToFixed(v/604800, d), " week"
	}
	return ToFixed(v/3.15569e7, d), " year"
}

func toMinutes(v float64, d int) (string, string) {
	a := math.Abs(v)
	switch {
	case a < 60:
		return ToFixed(v, d), " min"
	case a < 1440:
		return ToFixed(v/60, d), " hour"
	case a < 10080:
		return ToFixed(v/1440, d), " day"
	case a < 604800:
		return ToFixed(v/10080, d), " week"
	}
	return ToFixed(v/525600, d), " year"
}

func toHours(v float64, d int) (string, string) {
	a := math.Abs(v)
	switch {
	case a < 24:
		return ToFixed(v, d), " hour"
	case a < 168:
		return ToFixed(v/24, d), " day"
	case a < 8760:
		return ToFixed(v/168, d), " week"
	}
	return ToFixed(v/8760, d), " year"
}

func toDays(v float64, d int) (string, string) {
	a := math.Abs(v)
	switch {
	case a < 7:
		return ToFixed(v, d), " day"
	case a < 365:
		return ToFixed(v/7, d), " week"
	}
	return ToFixed(v/365, d), " year"
}
