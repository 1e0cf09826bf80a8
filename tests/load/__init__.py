"""Concurrent clients against Accord served by gunicorn: `python -m tests.load --help`."""
