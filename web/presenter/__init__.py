"""The presenter page: a live view of a session for the shared screen, behind a signed link."""
