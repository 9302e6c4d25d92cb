package exposure

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/rampart-scan/rampart/model"
)

// httpRequest is a plain GET with Connection: close.
func httpRequest(host, path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: rampart\r\nAccept: */*\r\nConnection: close\r\n\r\n")
}

// httpDone: the header is complete and the body announced by Content-Length (or the end of a
// chunked body) arrived. Without either the reply ends when the server closes.
func httpDone(b []byte) bool {
	if !bytes.HasPrefix(b, []byte("HTTP/")) {
		return len(b) >= 5 // not HTTP: no point waiting for more
	}
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		return false
	}
	head, body := b[:i], b[i+4:]
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch strings.ToLower(string(bytes.TrimSpace(k))) {
		case "content-length":
			n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			return err != nil || len(body) >= n
		case "transfer-encoding":
			if bytes.Contains(bytes.ToLower(v), []byte("chunked")) {
				return bytes.HasSuffix(body, []byte("0\r\n\r\n"))
			}
		}
	}
	return false
}

// classifyHTTP reads an HTTP response to GET path and records what it shows: the HTTP facts,
// and Elasticsearch, Docker API, etcd or Kubernetes API when the response is theirs.
func classifyHTTP(raw []byte, path string, f *model.ServiceFacts) bool {
	if !bytes.HasPrefix(raw, []byte("HTTP/")) {
		return false
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		return false
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	_ = resp.Body.Close()

	if f.Service == "" {
		f.Service = model.SvcHTTP
	}
	h := &model.HTTPFacts{
		Method:      http.MethodGet,
		Path:        path,
		Status:      resp.StatusCode,
		Server:      clean(resp.Header.Get("Server")),
		ContentType: clean(resp.Header.Get("Content-Type")),
	}
	if f.HTTP == nil || path == "/" {
		f.HTTP = h
	}
	if srv := resp.Header.Get("Server"); srv != "" && f.Product == "" {
		p, v, _ := strings.Cut(strings.Fields(srv + " ")[0], "/")
		f.Product, f.Version = clean(p), clean(v)
	}

	var doc map[string]any
	_ = json.Unmarshal(body, &doc)
	str := func(m map[string]any, k string) string {
		if m == nil {
			return ""
		}
		switch v := m[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return ""
	}
	sub := func(k string) map[string]any {
		m, _ := doc[k].(map[string]any)
		return m
	}
	authStatus := resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden

	switch {
	case resp.Header.Get("X-Elastic-Product") != "" || bytes.Contains(body, []byte("You Know, for Search")) ||
		(doc != nil && doc["cluster_name"] != nil && doc["cluster_uuid"] != nil):
		f.Service, f.Product = model.SvcElasticsearch, "Elasticsearch"
		if d := sub("version"); d != nil {
			f.Version = clean(str(d, "number"))
			if str(d, "distribution") == "opensearch" {
				f.Product = "OpenSearch"
			}
		}
		if n := str(doc, "cluster_name"); n != "" {
			setExtra(f, "cluster_name", n)
		}
		f.AuthRequired = ptr(authStatus)
	case bytes.Contains(body, []byte("The OpenSearch Project")):
		f.Service, f.Product = model.SvcElasticsearch, "OpenSearch"
		f.AuthRequired = ptr(authStatus)
	case authStatus && strings.Contains(strings.ToLower(resp.Header.Get("WWW-Authenticate")), `realm="security"`) &&
		bytes.Contains(body, []byte("security_exception")):
		f.Service, f.Product = model.SvcElasticsearch, "Elasticsearch"
		f.AuthRequired = ptr(true)
	case str(doc, "ApiVersion") != "" || resp.Header.Get("Api-Version") != "" ||
		strings.HasPrefix(resp.Header.Get("Server"), "Docker/"):
		f.Service, f.Product = model.SvcDocker, "Docker"
		if v := str(doc, "Version"); v != "" {
			f.Version = clean(v)
		}
		if v := str(doc, "ApiVersion"); v != "" {
			setExtra(f, "api_version", v)
		} else if v := resp.Header.Get("Api-Version"); v != "" {
			setExtra(f, "api_version", v)
		}
		if resp.StatusCode == http.StatusOK && str(doc, "ApiVersion") != "" {
			f.AuthRequired = ptr(false)
		} else if authStatus {
			f.AuthRequired = ptr(true)
		}
	case str(doc, "etcdserver") != "":
		f.Service, f.Product, f.Version = model.SvcEtcd, "etcd", clean(str(doc, "etcdserver"))
		if c := str(doc, "etcdcluster"); c != "" {
			setExtra(f, "etcdcluster", c)
		}
	case str(doc, "gitVersion") != "" && str(doc, "major") != "":
		f.Service, f.Product, f.Version = model.SvcKubernetes, "Kubernetes", clean(str(doc, "gitVersion"))
		f.AuthRequired = nil
	case authStatus && str(doc, "kind") == "Status" && str(doc, "apiVersion") == "v1":
		f.Service, f.Product = model.SvcKubernetes, "Kubernetes"
		f.AuthRequired = ptr(true)
	}
	return true
}
