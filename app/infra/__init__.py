"""Thin wrappers over outside programs and files (tmux, git, SQLite, the hook spool, processes);
no product decisions."""
