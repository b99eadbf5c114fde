"""defs room."""
