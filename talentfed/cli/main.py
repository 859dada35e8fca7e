"""Entry point of the `talentfed` command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from talentfed import __version__
from talentfed.cli import (
    analytics,
    archive,
    backups,
    blocking,
    content,
    domain_blocks,
    media,
    moving,
    node,
    social,
    users,
)
from talentfed.cli.context import CommandError
from talentfed.config import DEFAULT_CONFIG_PATH, ENV_PREFIX, ConfigError
from talentfed.domain.errors import FieldError
from talentfed.domain.members import MemberError
from talentfed.observability import logs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="talentfed",
        description="talentfed: a federated ActivityPub node for research and engineering talent.",
    )
    parser.add_argument("--version", action="version", version=f"talentfed {__version__}")
    parser.add_argument(
        "--config",
        default=os.environ.get(ENV_PREFIX + "CONFIG", DEFAULT_CONFIG_PATH),
        help=f"configuration file (default: ${ENV_PREFIX}CONFIG or {DEFAULT_CONFIG_PATH})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    node.register(commands)
    users.register(commands)
    social.register(commands)
    blocking.register(commands)
    moving.register(commands)
    content.register(commands)
    analytics.register(commands)
    media.register(commands)
    backups.register(commands)
    archive.register(commands)
    domain_blocks.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Text until a command has read its configuration: `serve` and `worker` then apply [log]
    # (whose level TALENTFED_LOG_LEVEL overrides; an invalid one is reported when it is read).
    level = os.environ.get("TALENTFED_LOG_LEVEL", "INFO").strip().upper()
    logs.configure(level if level in logging.getLevelNamesMapping() else "INFO")
    # Alembic announces its context on every schema check; `migrate` prints its own summary.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"talentfed: configuration error: {exc}", file=sys.stderr)
        return 2
    # the domain's refusals read as one line
    except (CommandError, MemberError, FieldError) as exc:
        print(f"talentfed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
