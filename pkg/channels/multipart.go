package channels

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
)

// FormPart is one part of a multipart/form-data upload: a plain field when
// FileName is empty, else a file with its content type.
type FormPart struct {
	Name        string
	FileName    string
	ContentType string
	Data        []byte
}

// Field is a plain form field.
func Field(name, value string) FormPart { return FormPart{Name: name, Data: []byte(value)} }

// File is a file part; the chart uploads of Telegram, Discord and Feishu.
func File(name, fileName, contentType string, data []byte) FormPart {
	return FormPart{Name: name, FileName: fileName, ContentType: contentType, Data: data}
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")

// PostMultipart posts parts as multipart/form-data to url, with header's
// values added (e.g. Authorization), and reads the answer like Do.
func PostMultipart(ctx context.Context, client *http.Client, url string, header http.Header, parts ...FormPart) (*Response, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + quoteEscaper.Replace(p.Name) + `"`
		if p.FileName != "" {
			cd += `; filename="` + quoteEscaper.Replace(p.FileName) + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.ContentType != "" {
			h.Set("Content-Type", p.ContentType)
		}
		w, err := mw.CreatePart(h)
		if err == nil {
			_, err = w.Write(p.Data)
		}
		if err != nil {
			return nil, &Error{Kind: Permanent, Msg: "encoding upload", Err: err}
		}
	}
	if err := mw.Close(); err != nil {
		return nil, &Error{Kind: Permanent, Msg: "encoding upload", Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &buf)
	if err != nil {
		return nil, &Error{Kind: Permanent, Msg: "bad URL", Err: redactURLError(err)}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return Do(ctx, client, req)
}
