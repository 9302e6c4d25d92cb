package model

// GradeMethod names the grading method and its version; it is stored with every grade so a
// grade can be compared only with grades of the same method. docs/grades.md describes it.
const GradeMethod = "rampart-grade/1 (SSL Labs SSL Server Rating Guide 2009r, messaging adaptations)"

// Grade letters. LetterT and LetterM follow SSL Labs: T when the certificate is not trusted
// (untrusted, self-signed, expired, SHA-1 signed), M when it does not match the name clients
// use. Both replace the A+…F letter, which is kept in Grade.TrustIgnored.
const (
	LetterAPlus  = "A+"
	LetterA      = "A"
	LetterAMinus = "A-"
	LetterB      = "B"
	LetterC      = "C"
	LetterD      = "D"
	LetterE      = "E"
	LetterF      = "F"
	LetterT      = "T"
	LetterM      = "M"
)

// GradeLetters lists every letter a grade can carry, best first, with T and M last: the order
// for a grade distribution.
var GradeLetters = []string{LetterAPlus, LetterA, LetterAMinus, LetterB, LetterC, LetterD, LetterE, LetterF, LetterT, LetterM}

// Grade is the letter grade of one TLS endpoint, with the numbers and the reasons behind it.
// A grade is derived from the observation alone (never from a policy's thresholds), so
// grades of different scans and policies compare.
type Grade struct {
	// Letter is one of GradeLetters, or "" when the endpoint speaks TLS but could not be
	// graded (NotGraded says why).
	Letter    string `json:"letter"`
	NotGraded string `json:"not_graded,omitempty"`
	// Score is the combined score 0–100: 0.3·protocol + 0.3·key exchange + 0.4·cipher,
	// rounded down, and 0 when any category is 0. The letter before caps follows from it
	// (≥80 A, ≥65 B, ≥50 C, ≥35 D, ≥20 E, else F).
	Score            int `json:"score"`
	ProtocolScore    int `json:"protocol_score"`
	KeyExchangeScore int `json:"key_exchange_score"`
	CipherScore      int `json:"cipher_score"`
	// TrustIgnored is the letter the configuration earns when certificate trust and name are
	// set aside; set only when Letter is T or M.
	TrustIgnored string `json:"letter_trust_ignored,omitempty"`
	// Caps are the conditions that limit the letter, worst first. A cap with Letter "A" keeps
	// an A from becoming A+; a cap with Letter T or M replaces the letter.
	Caps []GradeCap `json:"caps,omitempty"`
	// Warnings turn an A into A-; they never lower a grade below A.
	Warnings []GradeWarning `json:"warnings,omitempty"`
	// Incomplete lists facts that were missing or cut short, so the grade rests on less than
	// a full enumeration.
	Incomplete []string `json:"incomplete,omitempty"`
	// Notes say how facts beyond the endpoint changed the grade (a DANE record that
	// authenticates the certificate instead of the public PKI).
	Notes []string `json:"notes,omitempty"`
	// Method is GradeMethod at the time of grading.
	Method string `json:"method"`
}

// GradeCap is one condition that limits a grade.
type GradeCap struct {
	Letter string `json:"letter"` // the best letter the endpoint can have with this condition
	Reason string `json:"reason"`
	// Rule is the catalogue rule that describes the condition and its fix ("" when the
	// condition is a fact Rampart does not collect). The cap applies whatever the policy
	// says about that rule: it cites the rule, it does not depend on its finding.
	Rule string `json:"rule,omitempty"`
}

// GradeWarning is one condition that turns an A into A-.
type GradeWarning struct {
	Reason string `json:"reason"`
	Rule   string `json:"rule,omitempty"`
}

// GradeRank orders letters: 0 for A+, 1 for A … 7 for F, 8 for T, 9 for M; -1 for an unknown
// letter (including "" of an ungraded endpoint).
func GradeRank(letter string) int {
	for i, l := range GradeLetters {
		if l == letter {
			return i
		}
	}
	return -1
}
