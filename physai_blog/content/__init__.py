"""Stage 1, content: the blog's inputs read and validated (physai.yaml, posts, front matter,
experiment scripts read statically), with every input error collected."""
