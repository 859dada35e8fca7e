"""talentfed: a federated ActivityPub node for research and engineering talent."""

__version__ = "0.1.0"
