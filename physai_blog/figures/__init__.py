"""Stage 3, figures: plan each figure by the data it reads, draw the stale ones in workers."""
