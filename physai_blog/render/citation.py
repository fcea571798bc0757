"""The "Cite this post" block: BibTeX and plain text from front matter and ``base_url``."""

from __future__ import annotations

import re

from physai_blog.runtime.names import slugify

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def absolute_url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _bibtex_escape(text: str) -> str:
    return re.sub(r"([&%$#_])", r"\\\1", text).replace("{", "\\{").replace("}", "\\}")


def _last_name(author: str) -> str:
    author = author.strip()
    if "," in author:
        return author.split(",")[0].strip()
    return author.split()[-1] if author.split() else "anonymous"


def bibtex_key(authors: list[str], year: int, title: str) -> str:
    first_word = next((w for w in slugify(title).split("-") if len(w) > 3), "post")
    return f"{slugify(_last_name(authors[0])).replace('-', '')}{year}{first_word}"


def citation(title: str, authors: list[str], date, site_title: str, url: str) -> dict:
    authors = authors or ["Anonymous"]
    key = bibtex_key(authors, date.year, title)
    bibtex = "\n".join([
        f"@misc{{{key},",
        f"  author       = {{{' and '.join(_bibtex_escape(a) for a in authors)}}},",
        f"  title        = {{{{{_bibtex_escape(title)}}}}},",
        f"  year         = {{{date.year}}},",
        f"  month        = {MONTHS[date.month - 1]},",
        f"  howpublished = {{{_bibtex_escape(site_title)}}},",
        f"  url          = {{{url}}},",
        "}",
    ])
    names = _plain_authors(authors)
    plain = f"{names} ({date.year}). {title}. {site_title}. {url}"
    return {"key": key, "bibtex": bibtex, "plain": plain}


def _plain_authors(authors: list[str]) -> str:
    if len(authors) == 1:
        return authors[0]
    return ", ".join(authors[:-1]) + " and " + authors[-1]
