"""Quarterdeck's offline demo agent: a fake coding-agent TUI that really edits and commits.

Run it with ``python -m app.demo.agent``; `app.demo.script` holds its seeded, pure planning.
"""
