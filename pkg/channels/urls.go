package channels

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Rebase moves a platform URL onto apiURL (self-hosted gateways, proxies,
// tests): the scheme and host come from apiURL, apiURL's path is prefixed to
// u's path, and the query of u is kept. An empty apiURL returns u.
func Rebase(u, apiURL string) (string, error) {
	if apiURL == "" {
		return u, nil
	}
	base, err := url.Parse(apiURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", fmt.Errorf("apiUrl %q must be an http(s) URL", apiURL)
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", errors.New("webhook URL is not a valid URL")
	}
	p.Scheme, p.Host, p.User = base.Scheme, base.Host, nil
	p.Path = strings.TrimRight(base.Path, "/") + p.Path
	p.RawPath = ""
	return p.String(), nil
}

// CheckURL validates a configured webhook URL without echoing it (it is a
// secret).
func CheckURL(u, what string) error {
	if u == "" {
		return fmt.Errorf("%s is not set", what)
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%s is not an http(s) URL", what)
	}
	return nil
}
