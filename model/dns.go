package model

// DomainObservation is every fact recorded about one domain (DNS hygiene): facts only.
type DomainObservation struct {
	Name string `json:"name"`
}

// DomainResult pairs a domain's observation with the findings evaluated from it.
type DomainResult struct {
	Observation DomainObservation `json:"observation"`
	Findings    []Finding         `json:"findings"`
}
