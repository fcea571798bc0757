"""The summary every build ends with: its rows, and the plain text of it without ``rich``.

``rich`` costs a fresh process ~45 ms to import, a sixth of a one-post rebuild, and most
builds that print a summary ran nothing: no live display was ever shown.  Where the output is
not a terminal (a pipe, a log, CI) and the table fits the width ``rich`` would use, the
summary is written here, character for character as ``rich`` prints it (tests/test_summary.py
compares the two); anywhere else (a terminal's styles, a table that would wrap, text ``rich``
would read as markup or emoji) this says None and ``cli/progress.py`` prints it with ``rich``.
"""

from __future__ import annotations

import os
import sys

SUMMARY_ROWS = 20
HEADER = ("post", "runs executed", "figures drawn", "time")


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}:{secs:02d} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d} h"


def summary_rows(report, times: dict[str, float]) -> list[tuple[str, str, str, str]]:
    """The table's body, its last row the total.  ``times``: seconds of work per post."""
    executed = len(report.runs_executed)
    cached = max(0, report.runs_total - executed)
    runs_per_post: dict[str, int] = {}
    for key in report.runs_executed:
        slug = key.split("/", 1)[0]
        runs_per_post[slug] = runs_per_post.get(slug, 0) + 1
    figs_per_post: dict[str, int] = {}
    for key in report.figures_drawn:
        slug = key.split("/", 1)[0]
        figs_per_post[slug] = figs_per_post.get(slug, 0) + 1
    # A big blog lists the posts that did work, and counts the others in one row.
    shown = report.posts if len(report.posts) <= SUMMARY_ROWS else \
        [slug for slug in report.posts if slug in runs_per_post or slug in figs_per_post]
    rows = []
    for slug in shown:
        runs = runs_per_post.get(slug, 0)
        figs = figs_per_post.get(slug, 0)
        work = times.get(slug)
        said = getattr(report, "run_reasons", {}).get(f"{slug}/notebook")   # a notebook says why
        rows.append((slug, said if said else str(runs) if runs else "–",
                     str(figs) if figs else "–",
                     format_seconds(work) if work else "cached" if not (runs or figs) else "–"))
    if len(shown) < len(report.posts):
        rows.append((f"{len(report.posts) - len(shown)} other post(s)", "–", "–", "cached"))
    rows.append(("total", f"{executed} of {report.runs_total} ({cached} cached)",
                 f"{len(report.figures_drawn)} of {report.figures_total}",
                 format_seconds(report.seconds)))
    return rows


def written_line(report, destination: str = "") -> str:
    w = report.write
    written = f"{w.written} file(s) written" if w and w.swapped else "site unchanged"
    return f"{written} -> {destination}" if destination else written


def plain_summary(report, destination: str = "", width: int | None = None) -> str | None:
    """The summary of a build that ran nothing, as ``rich`` would print it to this process's
    stdout; None where that needs ``rich`` itself."""
    if report.runs_executed or (width is None and _is_terminal()):
        return None
    width = console_width() if width is None else width
    if width is None:
        return None
    head = f"Built {len(report.posts)} post(s) in {format_seconds(report.seconds)}"
    lines = [head]
    if report.posts:
        rows = [HEADER, *summary_rows(report, {})]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        total = sum(widths) + 3 * (len(widths) - 1)
        lines.append(_row(HEADER, widths))
        lines.append("─" * total)
        lines.extend(_row(row, widths) for row in rows[1:])
        if total > width:
            return None
    tail = written_line(report, destination)
    cells = "".join(lines) + tail
    # What rich would treat as markup or as an emoji code, or measure otherwise than len().
    if len(head) > width or "[" in cells or cells.count(":") > 1 or \
            not all(" " <= ch <= "~" or ch in "–─" for ch in cells):
        return None
    return "\n".join([*lines, tail]) + "\n"


def _row(cells, widths) -> str:
    """First column to the left, the others to the right; one space of padding on each inner
    side and a space between columns (rich's SIMPLE_HEAD, no edge, no edge padding)."""
    return "   ".join([cells[0].ljust(widths[0]),
                       *(cell.rjust(w) for cell, w in zip(cells[1:], widths[1:]))])


def _is_terminal() -> bool:
    """rich's Console.is_terminal for sys.stdout (and True where it is not sure)."""
    if os.name == "nt" or "ipykernel" in sys.modules or \
            getattr(sys.stdin, "__module__", "").startswith("idlelib"):
        return True
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "1"
    if os.environ.get("FORCE_COLOR") is not None:
        return os.environ["FORCE_COLOR"] != ""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        return True if isatty is None else bool(isatty())
    except ValueError:
        return True


def console_width() -> int | None:
    """rich's Console.width for a console that is not a terminal: the first standard stream's
    terminal size, else 80; COLUMNS overrides it."""
    width = None
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
        except (AttributeError, ValueError, OSError):
            continue
        break
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        width = int(columns)
    return width or 80
