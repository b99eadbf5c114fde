"""sources room."""
