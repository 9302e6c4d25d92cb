// Package model holds the plain data types that flow through Rampart's pipeline:
//
//	targets ─► discover ─► probe ─► observations ─► evaluate(policy) ─► findings ─► store ─► reports
//
// Target is what the user asked for, Endpoint is one (name, address, port, service) to audit,
// Observation holds the facts a probe recorded about one endpoint (never a verdict, never a
// severity), and Finding is what a check concluded from those facts under a policy.
//
// Later capabilities extend these types by adding fields (each fact family in its own file);
// they never replace them. Every type serialises to JSON as it is: the JSON report, the JSONL
// stream and the store all use these encodings.
package model
