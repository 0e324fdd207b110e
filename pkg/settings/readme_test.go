package settings

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEDocumentsEverySetting keeps the README's settings reference
// complete: every jsonData field name and every secureJsonData key constant
// must appear in it.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	var walk func(tp reflect.Type, path string)
	walk = func(tp reflect.Type, path string) {
		for tp.Kind() == reflect.Slice || tp.Kind() == reflect.Pointer {
			tp = tp.Elem()
		}
		if tp.Kind() != reflect.Struct || tp == reflect.TypeOf(Duration(0)) {
			return
		}
		for i := 0; i < tp.NumField(); i++ {
			f := tp.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if name == "" || name == "-" {
				continue
			}
			if !regexp.MustCompile(`(?m)^\s*(- )?` + regexp.QuoteMeta(name) + `:`).MatchString(readme) {
				t.Errorf("README does not document jsonData field %s%s", path, name)
			}
			walk(f.Type, path+name+".")
		}
	}
	walk(reflect.TypeOf(Settings{}), "")
	for _, key := range []string{SecretPrometheusPassword, SecretPrometheusToken, SecretGrafanaToken, SecretImageStoreAccess,
		SecretImageStoreSecret, SecretPostgresDSN, SecretWebhookToken, PrometheusHeaderPrefix,
		"channels.<name>." + SecretURL, "channels.<name>." + SecretSecret, "channels.<name>." + SecretToken, "channels.<name>." + SecretAppSecret} {
		if !strings.Contains(readme, "`"+key) {
			t.Errorf("README does not document secureJsonData key %s", key)
		}
	}
}
