package model

import "strconv"

// NodeGroup is every endpoint that serves one name, port and service from a different address
// (data centres, nodes behind a load balancer), and what differs between them. Facts only.
type NodeGroup struct {
	Name    string `json:"name"`
	Port    uint16 `json:"port"`
	Service string `json:"service,omitempty"`
	// Endpoints are the members' Endpoint.ID values, sorted.
	Endpoints []string `json:"endpoints"`
	// Differences lists each compared fact whose value is not the same on every member.
	Differences []NodeDifference `json:"differences,omitempty"`
}

// NodeDifference is one fact with its value per member address.
type NodeDifference struct {
	// Fact is "reachable", "leaf_certificate", "negotiated", "protocol_versions",
	// "cipher_suites", "groups" or "starttls".
	Fact string `json:"fact"`
	// Values maps a member's address ("192.0.2.7:443") to its value of the fact.
	Values map[string]string `json:"values"`
}

// NodeGroupResult pairs a node group with the findings evaluated from it.
type NodeGroupResult struct {
	Group    NodeGroup `json:"group"`
	Findings []Finding `json:"findings"`
}

// ID is the group's stable identity, the asset of its findings.
func (g NodeGroup) ID() string {
	s := g.Service
	if s == "" {
		s = "tcp"
	}
	return s + "://" + g.Name + ":" + strconv.Itoa(int(g.Port))
}
