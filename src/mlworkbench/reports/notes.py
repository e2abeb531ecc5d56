"""Notes on this run: the warnings a notebook raised, in plain words, at the end of its report.

`reports.prepare_notebook()` calls `install()` in the kernel. From then on every Python
warning that would have been printed (and every one routed through the `py.warnings` logger
by `logging.captureWarnings`) becomes one sentence without file paths, module file names or
line numbers, translated into plain words where a common one is recognised, and counted when
it repeats. Which warnings are shown at all is still decided by the warning filters (Python
shows a warning once per place in the code by default), so a count says how often a warning
reached the report. Package code adds its own notes with `add_note`; a notebook ends with
`display(HTML(reports.notes_html()))`. The notes live in this module, one list per kernel.
"""

from __future__ import annotations

import html
import logging
import re
import warnings
from typing import Any

TITLE = "Notes on this run"
EMPTY = "No warnings were raised while this report was made."
NO_EFFECT = "A library announced a future change (no effect on results)."

_notes: dict[str, int] = {}
"""Each note's sentence and how often it was raised, in the order first raised."""

_SEGMENT = r"[\\/][^\s'\"`,;:()\[\]<>|*?\\/]+"
_PATHS = re.compile(
    r"(?P<url>https?://[^\s'\"<>]+)"  # web addresses stay as they are
    r"|(?P<quote>['\"])(?P<quoted>(?:file://)?(?:[A-Za-z]:|~)?[\\/][^'\"\n]*)(?P=quote)"
    rf"|(?<![\w.:/\\<-])(?P<path>(?:file://)?(?:[A-Za-z]:|~)?(?:{_SEGMENT})+[\\/]?)(?::\d+)*"
    r"|(?<![\w.-])(?P<module>[\w.-]+\.py[cx]?)(?::\d+)*\b"
)
_CODE_FILE = re.compile(r"\.py[cx]?$")
_FORMATTED = re.compile(r"^.*?:\d+: (?P<category>\w+): (?P<message>.*)$", re.S)
_SENTENCE = re.compile(r"^(.+?[.!?])(?=\s|$)")
_PLAIN: tuple[tuple[frozenset[str], str, str], ...] = (
    (
        frozenset({"ConvergenceWarning"}),
        "",
        "The model's solver stopped before converging (it reached its iteration limit); "
        "the fitted model may be slightly less accurate than a fully converged one.",
    ),
    (
        frozenset({"UndefinedMetricWarning"}),
        "",
        "A metric was undefined for a class with no predicted or no actual cases and was set to 0.",
    ),
    (
        frozenset({"PerformanceWarning"}),
        "",
        "A table operation was slower than it could be (a library's hint on speed); "
        "results are not affected.",
    ),
    (
        frozenset({"DataConversionWarning"}),
        "",
        "Input data was converted to the shape or type the model expects (no effect on results).",
    ),
    (
        frozenset({"FutureWarning", "DeprecationWarning", "PendingDeprecationWarning"}),
        "",
        NO_EFFECT,
    ),
    (
        frozenset({"RuntimeWarning"}),
        r"divide by zero",
        "A calculation divided by zero; the values affected show as infinite or missing.",
    ),
    (
        frozenset({"RuntimeWarning"}),
        r"invalid value encountered",
        "A calculation had no defined result (for example 0 divided by 0); "
        "the values affected show as missing.",
    ),
    (
        frozenset({"RuntimeWarning"}),
        r"overflow",
        "A calculation produced a number too large to store; the values affected show as infinite.",
    ),
    (
        frozenset({"RuntimeWarning"}),
        r"mean of empty slice|degrees of freedom",
        "An average or spread was taken over no values; it shows as missing.",
    ),
)


def strip_paths(text: str) -> str:
    """`text` without the machine's paths: a data file keeps its name only, code files
    (`*.py`) and line numbers go; web addresses stay."""

    def shorten(match: re.Match[str]) -> str:
        if match["url"]:
            return match["url"]
        if match["module"]:
            return ""
        path = (match["quoted"] or match["path"]).rstrip("\\/")
        name = re.split(r"[\\/]", path)[-1]
        if _CODE_FILE.search(name):
            return ""
        quote = match["quote"] or ""
        return f"{quote}{name}{quote}" if name else ""

    cleaned = _PATHS.sub(shorten, text)
    return re.sub(r"[ \t]{2,}", " ", cleaned).strip()


def plain_sentence(category: str | type[Warning], message: Any) -> str:
    """One warning as one plain-language sentence: a known one translated, any other as the
    first sentence of its message (paths removed) with its category in brackets."""
    if isinstance(category, type):
        names = {c.__name__ for c in category.__mro__}
        name = category.__name__
    else:
        names, name = {category}, category
    text = str(message)
    for categories, pattern, sentence in _PLAIN:
        if names & categories and (not pattern or re.search(pattern, text, re.I)):
            return sentence
    lines = [line.strip() for line in strip_paths(text).splitlines() if line.strip()]
    if not lines:
        return f"A warning of type {name} was raised without a message."
    first = _SENTENCE.match(lines[0])
    sentence = first.group(1) if first else lines[0]
    if len(sentence) > 300:
        sentence = sentence[:297].rstrip() + "…"
    return f"{sentence} ({name})"


def add_note(text: str) -> None:
    """Add a note of the package's own to this run's notes (paths removed, repeats counted)."""
    sentence = strip_paths(str(text))
    if sentence:
        _notes[sentence] = _notes.get(sentence, 0) + 1


def notes() -> list[str]:
    """This run's notes as shown in the report, repeats with their count."""
    return [f"{text} ({count} times)" if count > 1 else text for text, count in _notes.items()]


def clear() -> None:
    """Forget every note (a notebook run that starts over starts with none)."""
    _notes.clear()


def notes_html() -> str:
    """The "Notes on this run" section of a report as HTML, every note escaped."""
    items = notes()
    body = (
        '<ul style="margin:4px 0 0 0;padding-left:20px">'
        + "".join(f"<li>{html.escape(note)}</li>" for note in items)
        + "</ul>"
        if items
        else f'<p style="margin:4px 0 0 0">{html.escape(EMPTY)}</p>'
    )
    return (
        '<div class="mlwb-notes" style="border-left:6px solid #6e7781;background:#f6f8fa;'
        'padding:10px 16px;margin:16px 0 8px 0;font-size:14px;">'
        f'<h2 style="font-size:17px;margin:0 0 4px 0">{html.escape(TITLE)}</h2>{body}</div>'
    )


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Stands in for `warnings.showwarning`: records the warning instead of printing it."""
    add_note(plain_sentence(category, message))


class _WarningLog(logging.Handler):
    """Records what `logging.captureWarnings` sends to the `py.warnings` logger."""

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        formatted = _FORMATTED.match(text)
        if formatted:
            add_note(plain_sentence(formatted["category"], formatted["message"]))
        else:
            add_note(plain_sentence("Warning", text))


def install() -> None:
    """Collect every warning raised from now on in this process as a note, starting empty."""
    clear()
    warnings.showwarning = _show_warning
    logger = logging.getLogger("py.warnings")
    logger.handlers = [_WarningLog()]
    logger.propagate = False
