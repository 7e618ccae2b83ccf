"""Keyword-only functions on a session: what the command line, the HTTP API and the Celery tasks share."""
