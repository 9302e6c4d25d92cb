package policies

// This file holds the policy language v1 as Go types: the YAML loader, the JSON Schema
// generator (schema.go) and `policy show` all read these definitions, so the three never
// disagree. Each field's `yaml` tag is its key, `desc` documents it (schema and docs), and
// `policy:"required"` marks keys that must be present. Pointer scalars distinguish "unset"
// (inherit through extends) from an explicit zero or false.

// APIVersion is the only policy language version this build reads.
const APIVersion = "rampart.dev/v1"

// File is one policy document as written.
type File struct {
	APIVersion  APIVersionName `yaml:"apiVersion" policy:"required" desc:"Policy language version; must be rampart.dev/v1."`
	Name        PolicyName     `yaml:"name" policy:"required" desc:"Policy name: lower-case letters, digits, '.', '_' and '-'."`
	Description string         `yaml:"description,omitempty" desc:"What the policy is for, in one or two sentences."`
	Source      *SourceSpec    `yaml:"source,omitempty" desc:"Where the policy's numbers come from (built-in profiles cite their standard)."`
	Extends     Extends        `yaml:"extends,omitempty" desc:"Policies this one builds on, applied in order before this file: built-in names or file paths (relative to this file)."`
	Thresholds  *ThresholdSpec `yaml:"thresholds,omitempty" desc:"What checks compare facts against, for every endpoint."`
	Severities  Severities     `yaml:"severities,omitempty" desc:"Per-rule severity overrides: rule ID (or glob such as tls/*) to info, low, medium, high or critical."`
	Disable     []RulePattern  `yaml:"disable,omitempty" desc:"Rule IDs or globs whose findings are dropped."`
	Enable      []RulePattern  `yaml:"enable,omitempty" desc:"Rule IDs or globs to turn back on after a policy this one extends disabled them."`
	Overrides   []OverrideSpec `yaml:"overrides,omitempty" merge:"append" desc:"Scoped changes: thresholds, severities and disabled rules for the endpoints a selector matches. Later entries win."`
	Waivers     []WaiverSpec   `yaml:"waivers,omitempty" merge:"append" desc:"Accepted findings, each with a reason, an owner and an expiry date. An expired waiver stops hiding its finding and raises policy/waiver-expired."`
}

// SourceSpec says where a policy's numbers come from.
type SourceSpec struct {
	Title   string `yaml:"title,omitempty" desc:"Name of the standard or guideline."`
	Version string `yaml:"version,omitempty" desc:"Version of the standard the numbers were taken from."`
	URL     string `yaml:"url,omitempty" desc:"Where the standard is published."`
	Note    string `yaml:"note,omitempty" desc:"How the standard was turned into thresholds, and any interpretation made."`
}

// ThresholdSpec is what checks compare facts against. Every part is optional; unset values
// are inherited through extends, and a value never set anywhere means "no requirement".
type ThresholdSpec struct {
	TLS         *TLSSpec         `yaml:"tls,omitempty" desc:"Protocol versions, cipher suites and key-exchange groups."`
	Keys        *KeySpec         `yaml:"keys,omitempty" desc:"Minimum sizes of RSA, elliptic-curve and Diffie-Hellman keys."`
	Certificate *CertSpec        `yaml:"certificate,omitempty" desc:"Certificate key types, signatures, lifetime, expiry warning, OCSP stapling and Certificate Transparency."`
	HTTP        *HTTPSpec        `yaml:"http,omitempty" desc:"HTTP-level requirements for HTTPS endpoints (web, Matrix, BOSH/WebSocket gateways)."`
	Messaging   *MessagingSpec   `yaml:"messaging,omitempty" desc:"STARTTLS and authentication on plaintext-capable messaging and mail ports."`
	Exposure    *ExposureSpec    `yaml:"exposure,omitempty" desc:"Which service roles, services and ports may be reachable."`
	DNS         *DNSRequirements `yaml:"dns,omitempty" desc:"DNS hygiene: CAA, DNSSEC, and MTA-STS or DANE for mail."`
}

// TLSSpec sets protocol and cipher-suite requirements.
type TLSSpec struct {
	MinVersion            TLSVersion     `yaml:"min_version,omitempty" desc:"Lowest acceptable protocol version."`
	AllowedSuites         []SuitePattern `yaml:"allowed_suites,omitempty" desc:"IANA cipher-suite names or globs (TLS_ECDHE_*_GCM_*) that may be offered; when set, any other suite is a finding."`
	ForbiddenSuites       []SuitePattern `yaml:"forbidden_suites,omitempty" desc:"IANA cipher-suite names or globs that must never be offered; wins over allowed_suites."`
	AllowedGroups         []string       `yaml:"allowed_groups,omitempty" desc:"Key-exchange groups (IANA TLS Supported Groups names such as x25519, secp256r1, X25519MLKEM768) that may be offered."`
	RequireForwardSecrecy *bool          `yaml:"require_forward_secrecy,omitempty" desc:"Every offered suite must use ephemeral key exchange (ECDHE, DHE or TLS 1.3)."`
	RequireAEAD           *bool          `yaml:"require_aead,omitempty" desc:"Every offered suite must use an AEAD cipher (GCM, CCM, ChaCha20-Poly1305)."`
}

// KeySpec sets minimum key sizes, in bits.
type KeySpec struct {
	MinRSABits *int `yaml:"min_rsa_bits,omitempty" desc:"Minimum RSA modulus size of certificate keys."`
	MinECBits  *int `yaml:"min_ec_bits,omitempty" desc:"Minimum elliptic-curve size of certificate keys and ECDHE groups."`
	MinDHBits  *int `yaml:"min_dh_bits,omitempty" desc:"Minimum finite-field Diffie-Hellman group size (applies when DHE is offered)."`
}

// CertSpec sets certificate requirements.
type CertSpec struct {
	AllowedKeyTypes                []KeyType   `yaml:"allowed_key_types,omitempty" desc:"Leaf key types that may be served."`
	AllowedCurves                  []CurveName `yaml:"allowed_curves,omitempty" desc:"Named curves that ECDSA leaf keys may use."`
	AllowedSignatureAlgorithms     []SigAlg    `yaml:"allowed_signature_algorithms,omitempty" desc:"Signature algorithms the leaf may be signed with (Go crypto/x509 names: SHA256-RSA, ECDSA-SHA384, SHA256-RSAPSS, Ed25519, ...)."`
	MaxLifetimeDays                *int        `yaml:"max_lifetime_days,omitempty" desc:"Longest acceptable validity period of the leaf, notBefore to notAfter, in days."`
	ExpiryWarningDays              *int        `yaml:"expiry_warning_days,omitempty" desc:"A leaf expiring within this many days is flagged."`
	RequireOCSPStapling            *bool       `yaml:"require_ocsp_stapling,omitempty" desc:"The server must staple an OCSP response."`
	RequireCertificateTransparency *bool       `yaml:"require_ct,omitempty" desc:"The leaf must carry Signed Certificate Timestamps (embedded, stapled or in the TLS extension)."`
}

// HTTPSpec sets HTTP-level requirements.
type HTTPSpec struct {
	RequireHSTS       *bool `yaml:"require_hsts,omitempty" desc:"HTTPS endpoints must send Strict-Transport-Security."`
	HSTSMinAgeSeconds *int  `yaml:"hsts_min_age_seconds,omitempty" desc:"Smallest acceptable HSTS max-age, in seconds."`
}

// MessagingSpec sets requirements for plaintext-capable messaging and mail ports.
type MessagingSpec struct {
	RequireSTARTTLS     *bool `yaml:"require_starttls,omitempty" desc:"A plaintext port of a protocol that has STARTTLS (SMTP, submission, IMAP, POP3, XMPP, Sieve, LDAP, NNTP, IRC) must offer it."`
	ForbidPlaintextAuth *bool `yaml:"forbid_plaintext_auth,omitempty" desc:"Authentication must not be offered before TLS (SASL PLAIN/LOGIN or USER/PASS in the clear)."`
}

// ExposureSpec says what may be reachable. A denied port or service always loses; an allowed
// port or service wins over the role lists; then a denied role, or a role outside allow_roles
// when that list is set, loses.
type ExposureSpec struct {
	AllowRoles    []Role        `yaml:"allow_roles,omitempty" desc:"When set, only services of these roles may be reachable (an allow-list, e.g. [web, mail, messaging]); services of unknown role are judged by the other keys."`
	DenyRoles     []Role        `yaml:"deny_roles,omitempty" desc:"Service roles that must not be reachable (database, cache, admin, remote-access, ...)."`
	AllowServices []ServiceName `yaml:"allow_services,omitempty" desc:"Services that may be reachable even when their role is denied."`
	DenyServices  []ServiceName `yaml:"deny_services,omitempty" desc:"Services that must not be reachable."`
	AllowPorts    []uint16      `yaml:"allow_ports,omitempty" desc:"Ports that may be open even when what answers there has a denied role."`
	DenyPorts     []uint16      `yaml:"deny_ports,omitempty" desc:"Ports that must not be open."`
}

// DNSRequirements sets DNS hygiene requirements, judged per domain.
type DNSRequirements struct {
	RequireCAA    *bool         `yaml:"require_caa,omitempty" desc:"The domain (or a parent, by tree climbing) must publish CAA records."`
	RequireDNSSEC *bool         `yaml:"require_dnssec,omitempty" desc:"The domain's answers must validate with DNSSEC."`
	MailTransport MailTransport `yaml:"mail_transport,omitempty" desc:"What protects inbound mail transport: none, mta-sts, dane, dane-or-mta-sts, dane-and-mta-sts."`
}

// Selector scopes an override or waiver. Every set field must match (AND); within one field,
// any listed value may match (OR). An empty selector matches every endpoint.
type Selector struct {
	Hosts     []HostPattern `yaml:"hosts,omitempty" desc:"Globs on the endpoint's DNS name (or its address when it has none), e.g. *.example.org."`
	Addresses []CIDR        `yaml:"addresses,omitempty" desc:"Addresses or CIDR blocks the endpoint's address must fall in."`
	Services  []ServiceName `yaml:"services,omitempty" desc:"Service names from the registry (smtp, xmpp-client, https, ...)."`
	Roles     []Role        `yaml:"roles,omitempty" desc:"Service roles (mail, messaging, web, database, ...)."`
	Ports     []uint16      `yaml:"ports,omitempty" desc:"Port numbers."`
	Tags      []string      `yaml:"tags,omitempty" desc:"Endpoint tags (from the scan file or target hints)."`
}

// OverrideSpec changes the policy for the endpoints its selector matches.
type OverrideSpec struct {
	Selector   Selector       `yaml:"selector" policy:"required" desc:"Which endpoints this override applies to."`
	Thresholds *ThresholdSpec `yaml:"thresholds,omitempty" desc:"Thresholds that replace the policy's for matching endpoints."`
	Severities Severities     `yaml:"severities,omitempty" desc:"Severity overrides for matching endpoints."`
	Disable    []RulePattern  `yaml:"disable,omitempty" desc:"Rules dropped for matching endpoints."`
	Enable     []RulePattern  `yaml:"enable,omitempty" desc:"Rules turned back on for matching endpoints."`
}

// WaiverSpec accepts the findings it matches until it expires.
type WaiverSpec struct {
	Rule     RulePattern `yaml:"rule" policy:"required" desc:"Rule ID or glob the waiver accepts."`
	Selector Selector    `yaml:"selector,omitempty" desc:"Which endpoints the waiver covers; empty covers all."`
	Detail   string      `yaml:"detail,omitempty" desc:"Glob on the finding's detail (e.g. the cipher-suite name); empty matches any."`
	Reason   string      `yaml:"reason" policy:"required" desc:"Why the risk is accepted."`
	Owner    string      `yaml:"owner" policy:"required" desc:"Who accepted it and answers for it."`
	Ticket   string      `yaml:"ticket,omitempty" desc:"Tracking reference."`
	Expires  Date        `yaml:"expires" policy:"required" desc:"Last day (YYYY-MM-DD, UTC) the waiver hides its findings."`
}
