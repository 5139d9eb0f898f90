"""Use-cases. Plain functions; the acting user and the time are passed in; they flush, never commit."""
