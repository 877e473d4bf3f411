"""The presenter page: a live view of a workshop for the shared screen, behind a signed link."""
