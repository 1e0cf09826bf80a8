"""The application for a WSGI server, configured from the environment (`config.settings`):

    gunicorn -w 2 --threads 4 -b 127.0.0.1:8000 accord.web.wsgi:app

Each worker process that imports this module builds its own app and database engine. Set
ACCORD_SECRET_KEY when running more than one worker, so every worker signs cookies alike.
The database must be migrated first (`accord db upgrade`); `GET /health` says whether it is.
"""

from __future__ import annotations

from . import create_app

app = create_app()
