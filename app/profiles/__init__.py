"""Built-in agent profiles (data)."""
