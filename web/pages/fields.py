"""The one parser of the numbers typed into the pages' forms and addresses (ids, revision and
page numbers). Choices (an action, a decision, a state) are the engine's to check: it knows
which exist, and refuses the others with a sentence.

Why not `str.isdigit()` and `int()`: both take far more than ASCII digits ("²".isdigit() is
true and `int("²")` fails; `int("٣")` is 3, `int(" 1_0 ")` is 10). A number that is not plainly
typed is refused, never guessed at.
"""

from __future__ import annotations

import re
from typing import Literal, overload

from flask_babel import LazyString
from flask_babel import gettext as _

from accord.workflow.errors import InvalidInput
from accord.workflow.validation import DB_INT_MAX

#: Plain ASCII digits, at most as many as the largest number accepted has.
_DIGITS = re.compile(r"[0-9]{1,%d}" % len(str(DB_INT_MAX)))  # noqa: UP031  (the braces are the pattern's)


@overload
def whole_number(
    raw: str | None, label: str | LazyString, *, default: int | None = None, required: Literal[True]
) -> int: ...
@overload
def whole_number(raw: str | None, label: str | LazyString, *, default: int, required: bool = False) -> int: ...
@overload
def whole_number(
    raw: str | None, label: str | LazyString, *, default: None = None, required: bool = False
) -> int | None: ...
def whole_number(
    raw: str | None, label: str | LazyString, *, default: int | None = None, required: bool = False
) -> int | None:
    """A form or query field (`raw`, None when absent) as a number from 1 to DB_INT_MAX;
    `default` when absent or empty, unless `required`. Anything else is refused with a sentence
    naming `label` (422), like any other invalid value."""
    if not raw:
        if required:
            raise InvalidInput(_("%(field)s is missing.", field=label))
        return default
    number = int(raw) if _DIGITS.fullmatch(raw) else 0
    if not 1 <= number <= DB_INT_MAX:
        raise InvalidInput(
            _("%(field)s must be a number from 1 to %(largest)s, such as 12.", field=label, largest=DB_INT_MAX)
        )
    return number
