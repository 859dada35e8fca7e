"""Domain: members, the institution, and what they publish."""
