"""effects room."""
