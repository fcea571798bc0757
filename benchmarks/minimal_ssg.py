"""The floor for corpus T: the least a Markdown blog generator has to do.

    python minimal_ssg.py BLOG_ROOT OUT_DIR [--procs N]

Reads every ``posts/*.md``, parses its YAML front matter, converts the body with
python-markdown (extra + codehilite + toc, like Pelican's defaults), renders one Jinja2 template
per post plus an index, and writes the files.  No cache, no math, no checks: a lower bound.
With ``--procs 2`` the per-post work runs in a multiprocessing pool.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jinja2
import markdown
import yaml

PAGE = jinja2.Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><header><a href="../../index.html">Benchmark Blog</a></header>
<article><h1>{{ title }}</h1><p class="date">{{ date }}</p>
<p class="tags">{% for t in tags %}<a href="../../tags/{{ t }}/">{{ t }}</a> {% endfor %}</p>
{{ body }}</article></body></html>
""")
INDEX = jinja2.Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Benchmark Blog</title></head><body><ul>
{% for p in posts %}<li><a href="{{ p.url }}">{{ p.title }}</a> {{ p.date }}: {{ p.description }}</li>
{% endfor %}</ul></body></html>
""")


def render(path: Path, out: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    html = markdown.markdown(body, extensions=["extra", "codehilite", "toc"])
    slug = path.stem.split("-", 3)[-1]
    dest = out / "posts" / slug / "index.html"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(PAGE.render(title=meta["title"], date=meta["date"], tags=meta.get("tags", []),
                                body=html), encoding="utf-8")
    return {"url": f"posts/{slug}/index.html", "title": meta["title"], "date": str(meta["date"]),
            "description": meta.get("description", "")}


def _render(args):
    return render(*args)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--procs", type=int, default=1)
    args = parser.parse_args(argv)
    paths = sorted((args.root / "posts").glob("*.md"))
    jobs = [(p, args.out) for p in paths]
    if args.procs > 1:
        import multiprocessing

        with multiprocessing.Pool(args.procs) as pool:
            posts = pool.map(_render, jobs, chunksize=max(1, len(jobs) // (4 * args.procs)))
    else:
        posts = [_render(j) for j in jobs]
    posts.sort(key=lambda p: p["date"], reverse=True)
    (args.out / "index.html").write_text(INDEX.render(posts=posts), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
