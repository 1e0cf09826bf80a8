"""A process's recommendations as a document: Markdown, HTML or Word.

Only what every participant of the process may see goes in (submitted, not a draft), so an
export can be shared with all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import InvalidInput
from .models import Process, Recommendation, utcnow
from .states import State
from .validation import fits_db_int
from .visibility import published_clause

FORMATS = ("md", "html", "docx")


@dataclass(frozen=True)
class ProcessDocument:
    process: Process
    recommendations: list[Recommendation]
    states: tuple[State, ...]
    generated_at: datetime

    @property
    def heading(self) -> str:
        return self.process.title

    @property
    def participants(self) -> str:
        return ", ".join(f"{a.name} ({a.code})" for a in self.process.agencies)


def process_document(session: Session, process_id: int, *, states: Iterable[str]) -> ProcessDocument:
    process = session.get(Process, process_id) if fits_db_int(process_id) else None
    if process is None:
        raise InvalidInput(f"No process {process_id}.", code="unknown_process")
    try:
        wanted = tuple(dict.fromkeys(State(s) for s in states))
    except ValueError as exc:
        raise InvalidInput(f"Unknown state: {exc}.", code="unknown_state") from None
    recommendations = list(
        session.scalars(
            select(Recommendation)
            .where(
                Recommendation.process_id == process.id,
                Recommendation.state.in_(wanted),
                published_clause(),
            )
            .order_by(Recommendation.id)
        )
    )
    return ProcessDocument(process, recommendations, wanted, utcnow())


def _meta(rec: Recommendation) -> list[tuple[str, str]]:
    return [
        ("State", rec.state.label),
        ("Proposed by", f"{rec.proposing_agency.name} ({rec.proposing_agency.code})"),
        ("Addressed to", ", ".join(a.code for a in rec.addressed_agencies)),
        ("Text", f"revision {rec.revision}, {rec.updated_at:%d %B %Y}"),
    ]


def to_markdown(doc: ProcessDocument) -> str:
    lines = [f"# {doc.heading}", "", f"Participants: {doc.participants}", ""]
    for number, rec in enumerate(doc.recommendations, start=1):
        lines += [f"## {number}. {rec.title}", ""]
        lines += [f"- {label}: {value}" for label, value in _meta(rec)]
        lines += ["", rec.body.strip(), ""]
    lines.append(f"_Exported from Accord on {doc.generated_at:%d %B %Y %H:%M} UTC._")
    return "\n".join(lines) + "\n"


def to_html(doc: ProcessDocument) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(doc.heading)}</title></head><body>",
        f"<h1>{escape(doc.heading)}</h1>",
        f"<p>Participants: {escape(doc.participants)}</p>",
    ]
    for number, rec in enumerate(doc.recommendations, start=1):
        parts.append(f"<section><h2>{number}. {escape(rec.title)}</h2><dl>")
        parts += [f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in _meta(rec)]
        # body_html was sanitized when the revision was saved.
        parts.append(f"</dl>{rec.body_html}</section>")
    parts.append(f"<footer>Exported from Accord on {doc.generated_at:%d %B %Y %H:%M} UTC.</footer>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def to_docx(doc: ProcessDocument, path: Path) -> None:
    import docx  # python-docx; imported here so the engine does not load it otherwise

    document = docx.Document()
    document.add_heading(doc.heading, level=0)
    document.add_paragraph(f"Participants: {doc.participants}")
    for number, rec in enumerate(doc.recommendations, start=1):
        document.add_heading(f"{number}. {rec.title}", level=1)
        for label, value in _meta(rec):
            paragraph = document.add_paragraph(style="List Bullet")
            paragraph.add_run(f"{label}: ").bold = True
            paragraph.add_run(value)
        for block in rec.body.split("\n\n"):
            block = block.strip()
            if not block:
                continue
            if all(line.lstrip().startswith(("- ", "* ")) for line in block.splitlines()):
                for line in block.splitlines():
                    document.add_paragraph(line.lstrip()[2:], style="List Bullet")
            elif block.startswith("#"):
                document.add_heading(block.lstrip("#").strip(), level=2)
            else:
                document.add_paragraph(" ".join(block.splitlines()))
    document.add_paragraph(f"Exported from Accord on {doc.generated_at:%d %B %Y %H:%M} UTC.")
    document.save(str(path))


def write(doc: ProcessDocument, fmt: str, path: Path) -> int:
    """Write `doc` to `path` in `fmt`; returns the number of recommendations written."""
    if fmt == "md":
        path.write_text(to_markdown(doc), encoding="utf-8")
    elif fmt == "html":
        path.write_text(to_html(doc), encoding="utf-8")
    elif fmt == "docx":
        to_docx(doc, path)
    else:
        raise InvalidInput(f"Unknown format {fmt!r}; one of: {', '.join(FORMATS)}.", code="unknown_format")
    return len(doc.recommendations)
