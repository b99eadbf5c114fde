"""automation room."""
