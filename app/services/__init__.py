"""Effects: tmux, git, the state store, processes and configuration."""
