package model

// DomainObservation is every fact recorded about one domain (DNS hygiene): facts only.
// A nil family means it was not collected; a non-nil family with Error set means the lookup
// failed and the other fields say nothing.
type DomainObservation struct {
	Name string `json:"name"`
	// Resolvers are the DNS servers asked, as "udp:127.0.0.1:53".
	Resolvers []string `json:"resolvers,omitempty"`

	DNSSEC *DNSSECFacts `json:"dnssec,omitempty"`
	CAA    *CAAFacts    `json:"caa,omitempty"`
	MX     []MXRecord   `json:"mx,omitempty"`
	MTASTS *MTASTSFacts `json:"mta_sts,omitempty"`
	TLSRPT *TLSRPTFacts `json:"tls_rpt,omitempty"`
	SRV    []SRVRecord  `json:"srv,omitempty"`
	// NAPTR are the domain's NAPTR records (at most 32), in order/preference order.
	NAPTR  []NAPTRRecord `json:"naptr,omitempty"`
	TLSA   []TLSAFacts   `json:"tlsa,omitempty"`
	CNAMEs []CNAMEFact   `json:"cnames,omitempty"`
	// Disagreements are names whose address sets differ between the resolvers asked.
	Disagreements []ResolverDisagreement `json:"resolver_disagreements,omitempty"`
	// Wildcards are the wildcard answers found while brute forcing (per level and type).
	Wildcards []WildcardFact `json:"wildcards,omitempty"`
	// Subdomains are names found by brute force that are not wildcard answers.
	Subdomains []string `json:"subdomains,omitempty"`
}

// DNSSECFacts says whether the zone is signed and whether answers validated.
type DNSSECFacts struct {
	// DNSKEY is true when the name has DNSKEY records at its zone apex (the zone is signed).
	DNSKEY bool `json:"dnskey"`
	// DS is true when the parent publishes a DS record for the zone (the chain is linked).
	DS bool `json:"ds"`
	// Zone is the apex the DNSKEY/DS lookups were made at (the SOA owner of the name).
	Zone string `json:"zone,omitempty"`
	// Validated is true when a resolver set the AD bit on an answer for the name to a query
	// with DO=1 and AD=1. It means something only if that resolver validates and the path to
	// it is trusted (RFC 6840 §5.7).
	Validated bool `json:"validated"`
	// ValidatedBy lists the resolvers that set AD.
	ValidatedBy []string `json:"validated_by,omitempty"`
	// Error is set when the zone or its DNSKEY could not be looked up (the facts say nothing);
	// DSError when only the DS lookup at the parent failed (DS is then unknown, not false).
	Error   string `json:"error,omitempty"`
	DSError string `json:"ds_error,omitempty"`
}

// CAAFacts are the CAA records that govern the name (RFC 8659 climbs towards the root).
type CAAFacts struct {
	// Found is the name the records were found at ("" when no CAA set exists up the tree).
	Found   string      `json:"found,omitempty"`
	Records []CAARecord `json:"records,omitempty"`
	Error   string      `json:"error,omitempty"`
}

// CAARecord is one CAA record.
type CAARecord struct {
	Flag  uint8  `json:"flag"`
	Tag   string `json:"tag"`
	Value string `json:"value"`
}

// MXRecord is one MX record of the domain.
type MXRecord struct {
	Preference uint16 `json:"preference"`
	Host       string `json:"host"` // no trailing dot; "." for a null MX (RFC 7505)
}

// MTASTSFacts are the MTA-STS record and policy of a domain (RFC 8461).
type MTASTSFacts struct {
	// Record is the `_mta-sts` TXT record starting with v=STSv1 ("" when absent).
	Record string `json:"record,omitempty"`
	ID     string `json:"id,omitempty"`
	// Records counts the v=STSv1 TXT records (RFC 8461 §3.1: more than one is invalid).
	Records   int    `json:"records"`
	PolicyURL string `json:"policy_url,omitempty"`
	// Fetched is true when the policy was retrieved with HTTP 200.
	Fetched     bool     `json:"fetched"`
	FetchError  string   `json:"fetch_error,omitempty"`
	Version     string   `json:"version,omitempty"`
	Mode        string   `json:"mode,omitempty"` // enforce, testing, none
	MX          []string `json:"mx,omitempty"`
	MaxAge      int64    `json:"max_age,omitempty"`
	PolicyError string   `json:"policy_error,omitempty"` // syntax problems of the policy body
	// Uncovered lists the domain's MX hosts that no policy mx pattern matches.
	Uncovered []string `json:"uncovered,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// TLSRPTFacts is the SMTP TLS reporting record of a domain (RFC 8460).
type TLSRPTFacts struct {
	Record string   `json:"record,omitempty"` // the v=TLSRPTv1 TXT record
	RUA    []string `json:"rua,omitempty"`
	Valid  bool     `json:"valid"`
	Error  string   `json:"error,omitempty"`
}

// SRVRecord is one SRV record found for a service profile.
type SRVRecord struct {
	Owner    string `json:"owner"` // _xmpp-client._tcp.example.org
	Service  string `json:"service"`
	Priority uint16 `json:"priority"`
	Weight   uint16 `json:"weight"`
	Port     uint16 `json:"port"`
	Target   string `json:"target"` // no trailing dot; "." means the service is absent
	// TargetCNAME is set when the target is an alias (RFC 2782 forbids it): the CNAME target.
	TargetCNAME string `json:"target_cname,omitempty"`
}

// NAPTRRecord is one NAPTR record of the domain (RFC 3403); SIP follows those with flag
// "s" and service SIPS+D2T or SIP+D2T to an SRV owner (RFC 3263 §4.1).
type NAPTRRecord struct {
	Order       uint16 `json:"order"`
	Preference  uint16 `json:"preference"`
	Flags       string `json:"flags"`
	Service     string `json:"service"`
	Regexp      string `json:"regexp,omitempty"`
	Replacement string `json:"replacement"` // no trailing dot; "." when none
}

// TLSAFacts are the TLSA records at one `_port._tcp.host` name.
type TLSAFacts struct {
	Owner   string       `json:"owner"` // _25._tcp.mx.example.org
	Host    string       `json:"host"`
	Port    uint16       `json:"port"`
	Service string       `json:"service,omitempty"`
	Records []TLSARecord `json:"records,omitempty"`
	// Secure is true when a resolver set AD on the TLSA answer (DANE needs DNSSEC).
	Secure bool   `json:"secure"`
	Error  string `json:"error,omitempty"`
	// Matches holds the result of matching the records against chains served by endpoints
	// of Host:Port, filled after probing (discover.AttachTLSAMatches).
	Matches []TLSAMatch `json:"matches,omitempty"`
}

// TLSARecord is one TLSA record (RFC 6698).
type TLSARecord struct {
	Usage        uint8  `json:"usage"`
	Selector     uint8  `json:"selector"`
	MatchingType uint8  `json:"matching_type"`
	Data         string `json:"data"` // hex
}

// TLSAMatch is whether the TLSA set matched the chain one endpoint served.
type TLSAMatch struct {
	Endpoint string `json:"endpoint"` // Endpoint.ID
	Matched  bool   `json:"matched"`
	// Record is the first matching record, as "usage selector type"; Detail explains a miss.
	Record string `json:"record,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// CNAMEFact is one alias seen while resolving the domain's names.
type CNAMEFact struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	// Dangling is true when the chain ends in a name that does not exist (NXDOMAIN): whoever
	// registers that name controls the alias (takeover risk).
	Dangling bool   `json:"dangling"`
	Rcode    string `json:"rcode,omitempty"` // the final answer's rcode when dangling
}

// ResolverDisagreement is a name whose answers differ between resolvers.
type ResolverDisagreement struct {
	Name    string              `json:"name"`
	Type    string              `json:"type"`    // A, AAAA
	Answers map[string][]string `json:"answers"` // resolver → sorted answers (or "error: …")
}

// WildcardFact is a wildcard answer found at one level for one record type.
type WildcardFact struct {
	Level   string   `json:"level"` // the parent whose random children answered
	Type    string   `json:"type"`
	Answers []string `json:"answers"`
}
