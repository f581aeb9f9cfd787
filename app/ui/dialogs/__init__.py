"""Modal dialogs: questions, forms and text shown over the dashboard or the review."""
