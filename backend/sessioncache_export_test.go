package backend

// CachedSessions is how many sessions s's cache holds.
func CachedSessions(s *Service) int { return s.sessions.len() }

// SessionCacheTrusted reports whether s's cache runs and may answer hits now.
func SessionCacheTrusted(s *Service) bool {
	c := s.sessions
	return c.active() && c.mono() < c.trustedUntil.Load()
}
