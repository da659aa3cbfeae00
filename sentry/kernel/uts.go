package kernel

// The sandbox is its own UTS namespace: sethostname and setdomainname
// change the names inside the sentry only, never the host's.

// SetHostname implements sethostname(2)'s change (the caller checks the
// length and CAP_SYS_ADMIN).
func (k *Kernel) SetHostname(name string) {
	k.hostnameMu.Lock()
	defer k.hostnameMu.Unlock()
	k.hostname = name
}

// Domainname returns the NIS domain name uname reports ("(none)" until
// setdomainname changes it, as on Linux).
func (k *Kernel) Domainname() string {
	k.hostnameMu.Lock()
	defer k.hostnameMu.Unlock()
	return k.domainname
}

// SetDomainname implements setdomainname(2)'s change.
func (k *Kernel) SetDomainname(name string) {
	k.hostnameMu.Lock()
	defer k.hostnameMu.Unlock()
	k.domainname = name
}
