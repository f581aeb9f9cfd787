"""Widgets of the dashboard; each renders immutable view models it is given."""
