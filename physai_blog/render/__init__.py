"""Stage 5, render: Markdown with directives, numbers and claims, citations, typography, HTML."""
