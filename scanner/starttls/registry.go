package starttls

// dialogues maps each dialogue name (services.Service.StartTLS) to its implementation.
// Adding a protocol is one file with its dialogue function and one line here.
var dialogues = map[string]dialogue{
	"smtp":        smtpDialogue,
	"lmtp":        lmtpDialogue,
	"imap":        imapDialogue,
	"pop3":        pop3Dialogue,
	"sieve":       sieveDialogue,
	"xmpp-client": xmppClientDialogue,
	"xmpp-server": xmppServerDialogue,
	"ldap":        ldapDialogue,
	"ftp":         ftpDialogue,
	"nntp":        nntpDialogue,
	"irc":         ircDialogue,
	"postgres":    postgresDialogue,
	"mysql":       mysqlDialogue,
}
