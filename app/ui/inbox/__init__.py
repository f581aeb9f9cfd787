"""The inbox: every agent waiting on the human, answered in place."""
