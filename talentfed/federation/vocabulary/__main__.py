"""`python -m talentfed.federation.vocabulary` prints FEDERATION.md's table of terms."""

from talentfed.federation.vocabulary.table import markdown_table

print(markdown_table(), end="")
