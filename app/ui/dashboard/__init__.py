"""The dashboard: the agent table, the selected pane's preview and the keys that act on them."""
