"""What Quarterdeck knows about each agent CLI: one module per CLI."""
