package model

// HTTPSecurityFacts is what one or two HTTPS GET requests to an HTTPS endpoint (a web front
// end, a Matrix homeserver, a BOSH/WebSocket gateway) showed: the response status, the
// Strict-Transport-Security header, the security headers a browser-facing service sends, and
// whether responses are HTTP-compressed (the precondition of BREACH). Facts only. Every string
// came from the server: the prober bounds its length and escapes control characters.
type HTTPSecurityFacts struct {
	// Host is the Host header sent; Path the request target.
	Host string `json:"host"`
	Path string `json:"path"`
	// Connections is the number of TCP connections the probe opened (one per request not
	// sent on the audit's own connection).
	Connections int `json:"connections"`
	// SharedConnection is set when the first request went over the audit's own TLS
	// connection (its modern handshake) instead of a connection of its own.
	SharedConnection bool `json:"shared_connection,omitempty"`
	// Protocol is the HTTP version of the first exchange: "HTTP/1.1" or "HTTP/2".
	Protocol string `json:"protocol,omitempty"`
	// Status is the status code of the first response (0: no response was read).
	Status int `json:"status,omitempty"`
	// Location is the redirect target of a 3xx response; redirects are not followed.
	Location string `json:"location,omitempty"`
	// Server is the Server header.
	Server      string `json:"server,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	// HSTS is the Strict-Transport-Security header of the first response; nil when absent.
	HSTS *HSTSFacts `json:"hsts,omitempty"`
	// Headers maps each security header found (canonical name, e.g. "X-Frame-Options") to its
	// first value. Only the headers listed in the httpsec package are recorded.
	Headers map[string]string `json:"headers,omitempty"`
	// HeadersRepeated lists the recorded security headers that appeared more than once.
	HeadersRepeated []string `json:"headers_repeated,omitempty"`
	// Compression is what the server did with Accept-Encoding; nil when it was not tested.
	Compression *HTTPCompressionFacts `json:"compression,omitempty"`
	// Error is why the probe did not get a (complete) first response.
	Error string `json:"error,omitempty"`
}

// HSTSFacts is a Strict-Transport-Security header (RFC 6797) as sent and as parsed.
type HSTSFacts struct {
	// Values are the header values in the order received (several headers are a fact worth
	// recording: RFC 6797 §8.1 makes a browser process only the first).
	Values []string `json:"values"`
	// Valid is true when the first value conforms to RFC 6797 §6.1 (a browser honours it).
	Valid bool `json:"valid"`
	// MaxAge is the max-age directive in seconds, -1 when missing or unparsable.
	MaxAge            int64 `json:"max_age"`
	IncludeSubDomains bool  `json:"include_subdomains"`
	// Preload is the non-standard preload directive of hstspreload.org.
	Preload bool `json:"preload"`
	// Problems lists what is wrong with the header(s): duplicate or malformed directives,
	// missing max-age, several header fields.
	Problems []string `json:"problems,omitempty"`
}

// HTTPCompressionFacts records whether responses are HTTP-compressed.
type HTTPCompressionFacts struct {
	// Offered is the Accept-Encoding sent with the first request.
	Offered string `json:"offered"`
	// Encoding is the Content-Encoding of the response to that request ("" when none).
	Encoding string `json:"encoding,omitempty"`
	// WithoutOffer is the Content-Encoding of a second request sent with
	// "Accept-Encoding: identity" (made only when the first response was compressed); a
	// non-empty value means the server compresses whatever the client asks.
	WithoutOffer string `json:"without_offer,omitempty"`
	// Compared is true when that second request was answered.
	Compared bool `json:"compared,omitempty"`
	// Error is why the second request failed, if it did.
	Error string `json:"error,omitempty"`
}
