"""Stage 6, output: the gathered site written into a staging folder and swapped in at once."""
