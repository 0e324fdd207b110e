// Package i18n is the one catalogue of the backend's user-facing words, in
// Chinese (zh, the default) and English (en), and the one duration
// formatter. Words are looked up by a stable message id with named
// arguments, so a text can travel as data (an id and its arguments, e.g. in
// a health check's JSON) and be put into words in the reader's language
// where it is shown.
//
//	i18n.T("zh", "chart.unavailable", "reason", i18n.T("zh", "chart.reason.no_store"))
//	// 图表不可用：未配置图片存储
//	i18n.Duration("en", 90*time.Minute) // 1h30m
//
// Placeholders are written {name}; every id exists in both languages with
// the same placeholders (checked by the package's tests). An id that is not
// in the catalogue is returned unchanged, so a typo shows up in the text
// rather than as an empty string.
package i18n

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The supported languages. Chinese is the default: any other value reads
// as Chinese, the way settings treat an unset language.
const (
	ZH = "zh"
	EN = "en"
)

// Lang normalises a language setting: "en", "en-US", "EN" → "en"; anything
// else → "zh".
func Lang(lang string) string {
	if l := strings.ToLower(lang); l == EN || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_") {
		return EN
	}
	return ZH
}

// Message is a user-facing text not yet put into words: a catalogue id and
// its arguments. It marshals as {"code": …, "args": {…}}, the shape the
// config page translates.
type Message struct {
	Code string            `json:"code"`
	Args map[string]string `json:"args,omitempty"`
}

// M builds a Message from an id and name/value pairs. Values are formatted
// with fmt.Sprint; format durations with Duration first, since a Message
// is language-neutral.
func M(code string, kv ...any) Message {
	m := Message{Code: code}
	if len(kv) > 1 {
		m.Args = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m.Args[fmt.Sprint(kv[i])] = fmt.Sprint(kv[i+1])
		}
	}
	return m
}

// Text puts m into words in lang.
func (m Message) Text(lang string) string {
	kv := make([]any, 0, 2*len(m.Args))
	for k, v := range m.Args {
		kv = append(kv, k, v)
	}
	return T(lang, m.Code, kv...)
}

// T returns the text of id in lang with its placeholders filled from
// name/value pairs. A time.Duration value is formatted with Duration in
// lang; other values with fmt.Sprint. A placeholder without a value stays
// as written.
func T(lang, id string, kv ...any) string {
	text, ok := catalogue[Lang(lang)][id]
	if !ok {
		return id
	}
	if len(kv) < 2 || !strings.Contains(text, "{") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 32)
	for {
		i := strings.IndexByte(text, '{')
		j := strings.IndexByte(text[max(i, 0):], '}')
		if i < 0 || j < 0 {
			break
		}
		j += i
		b.WriteString(text[:i])
		if v, ok := arg(lang, text[i+1:j], kv); ok {
			b.WriteString(v)
		} else {
			b.WriteString(text[i : j+1])
		}
		text = text[j+1:]
	}
	b.WriteString(text)
	return b.String()
}

// Fill returns the text of id in lang with every placeholder taken from
// args — one args lacks is left empty, not written as {name} — for texts
// whose arguments come as a map (health checks). An unknown id is
// returned unchanged.
func Fill(lang, id string, args map[string]string) string {
	names := Placeholders(id)
	kv := make([]any, 0, 2*len(names))
	for _, n := range names {
		kv = append(kv, n, args[n])
	}
	return T(lang, id, kv...)
}

// arg finds name among the name/value pairs and formats its value.
func arg(lang, name string, kv []any) (string, bool) {
	for i := 0; i+1 < len(kv); i += 2 {
		if k, _ := kv[i].(string); k != name {
			continue
		}
		switch x := kv[i+1].(type) {
		case string:
			return x, true
		case time.Duration:
			return Duration(lang, x), true
		case int:
			return strconv.Itoa(x), true
		default:
			return fmt.Sprint(x), true
		}
	}
	return "", false
}

// Has reports whether id is in the catalogue.
func Has(id string) bool {
	_, ok := catalogue[ZH][id]
	return ok
}

// Placeholders lists the names of id's {placeholders} in the order they
// first appear in its English text (the same names as in Chinese); nil
// for an unknown id.
func Placeholders(id string) []string {
	text, ok := catalogue[EN][id]
	if !ok {
		return nil
	}
	names := []string{}
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			return names
		}
		if name := text[i+1 : i+j]; !slices.Contains(names, name) {
			names = append(names, name)
		}
		text = text[i+j+1:]
	}
}

// IDs lists the catalogue's message ids, sorted.
func IDs() []string {
	out := make([]string, 0, len(catalogue[ZH]))
	for id := range catalogue[ZH] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// durationUnits are the units Duration uses, largest first.
var durationUnits = []struct {
	d      time.Duration
	zh, en string
}{{24 * time.Hour, "天", "d"}, {time.Hour, "小时", "h"}, {time.Minute, "分钟", "m"}, {time.Second, "秒", "s"}}

// Duration writes d, rounded to the second, with its one or two largest
// adjacent units: "1小时30分钟" / "1h30m", "5分钟" / "5m", "2天" / "2d",
// "0秒" / "0s". Chart titles ("最近10分钟"), alert durations ("已持续
// 5分钟") and notes all use it, so they agree. Negative durations are 0.
func Duration(lang string, d time.Duration) string {
	en := Lang(lang) == EN
	d = max(0, d.Round(time.Second))
	var b strings.Builder
	parts := 0
	for _, u := range durationUnits {
		n := d / u.d
		if n == 0 {
			if parts > 0 {
				break // units stay adjacent: 1h0m5s is "1h"
			}
			continue
		}
		d %= u.d
		b.WriteString(strconv.FormatInt(int64(n), 10))
		if en {
			b.WriteString(u.en)
		} else {
			b.WriteString(u.zh)
		}
		if parts++; parts == 2 {
			break
		}
	}
	if parts == 0 {
		if en {
			return "0s"
		}
		return "0秒"
	}
	return b.String()
}
