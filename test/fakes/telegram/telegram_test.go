package telegram

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestParseHTML(t *testing.T) {
	for in, ok := range map[string]bool{
		"<b>x</b> &lt;y&gt; &amp; &quot; &#128293;": true,
		`<a href="http://x?a=1&amp;b=2">l</a>`:      true,
		"<b>x":                                      false,
		"<b>x</i>":                                  false,
		"<font>x</font>":                            false,
		"a & b":                                     false,
		"a &nbsp; b":                                false,
		"a > b":                                     false,
	} {
		if _, err := parse(in, "HTML"); (err == "") != ok {
			t.Errorf("%q: err %q", in, err)
		}
	}
	if plain, _ := parse("<b>ab</b>&lt;", "HTML"); plain != "abx" {
		t.Errorf("visible text %q", plain)
	}
}

func TestAPIContract(t *testing.T) {
	s := New()
	defer s.Close()
	call := func(path, body string) (int, map[string]any) {
		resp, err := http.Post(s.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	ok := `{"chat_id":"-1001234567890","text":"<b>hi</b>","parse_mode":"HTML"}`
	if st, v := call("/bot123456:fake-token/sendMessage", ok); st != 200 || v["ok"] != true {
		t.Fatalf("%d %v", st, v)
	}
	if st, _ := call("/bot123456:other/sendMessage", ok); st != 401 {
		t.Fatalf("bad token: %d", st)
	}
	if st, _ := call("/botnocolon/sendMessage", ok); st != 404 {
		t.Fatalf("malformed token: %d", st)
	}
	if _, v := call("/bot123456:fake-token/sendMessage", `{"chat_id":"1","text":"x"}`); v["description"] != "Bad Request: chat not found" {
		t.Fatalf("%v", v)
	}
	if _, v := call("/bot123456:fake-token/sendMessage", `{"chat_id":"-1001234567890","text":"<b>x","parse_mode":"HTML"}`); !strings.HasPrefix(v["description"].(string), "Bad Request: can't parse entities") {
		t.Fatalf("%v", v)
	}
	// 4096 visible characters pass even with markup around them; 4097 do not.
	long := `{"chat_id":"-1001234567890","parse_mode":"HTML","text":"<b>` + strings.Repeat("字", TextMax) + `</b>"}`
	if st, _ := call("/bot123456:fake-token/sendMessage", long); st != 200 {
		t.Fatalf("4096: %d", st)
	}
	if _, v := call("/bot123456:fake-token/sendMessage", strings.Replace(long, "</b>", "x</b>", 1)); v["description"] != "Bad Request: message is too long" {
		t.Fatalf("%v", v)
	}
	var st int
	var v map[string]any
	for i := 0; i < PerMinute; i++ {
		st, v = call("/bot123456:fake-token/sendMessage", ok)
	}
	if st != 429 || v["parameters"].(map[string]any)["retry_after"].(float64) < 1 {
		t.Fatalf("rate: %d %v", st, v)
	}
}
