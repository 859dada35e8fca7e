"""Protocol: ActivityPub, WebFinger, signatures, JSON-LD, inbox and delivery."""
