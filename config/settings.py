"""Settings: defaults, overridden by environment variables.

| variable | default |
| --- | --- |
| ACCORD_DATABASE_URL | SQLite file `accord.db` in the instance folder |
| ACCORD_INSTANCE_PATH | `instance/` in the current directory |
| ACCORD_SECRET_KEY | a random key made once and kept in the instance folder |
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str
    instance_path: Path
    secret_key: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        instance = Path(env.get("ACCORD_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
        url = env.get("ACCORD_DATABASE_URL") or f"sqlite:///{instance / 'accord.db'}"
        return cls(
            database_url=url,
            instance_path=instance,
            secret_key=env.get("ACCORD_SECRET_KEY") or "",
        )

    def ensure_instance(self) -> None:
        """Create the instance folder (for the SQLite file and the generated key)."""
        self.instance_path.mkdir(parents=True, exist_ok=True)

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept in the instance folder, so
        sessions survive a restart without anyone ever running on a known default."""
        if self.secret_key:
            return self.secret_key
        self.ensure_instance()
        path = self.instance_path / "secret_key"
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()
