"""The review of one agent's changes, and the flows it shares with the dashboard."""
