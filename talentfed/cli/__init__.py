"""Command line: `talentfed …` for admins, scripts and tests."""
