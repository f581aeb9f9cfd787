"""The hook script agents run to hand events to Quarterdeck (shipped as package data)."""
