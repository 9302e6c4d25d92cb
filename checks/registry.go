package checks

// builtin lists every check family. Each family lives in its own file.
func builtin() []Check {
	return []Check{
		reachabilityCheck(),
		protocolCheck(),
		certValidityCheck(),
		certTrustCheck(),
	}
}

// builtinDomain lists the domain-level (DNS hygiene) check families.
func builtinDomain() []DomainCheck {
	return nil
}
