package silvertest

// NamespaceArgs are the batch commands' flags for the env's namespaces.
func (e *Env) NamespaceArgs() []string {
	return []string{"--bronze-namespace", e.NS.Bronze, "--silver-namespace", e.NS.Silver, "--archive-namespace", e.NS.Archive}
}
