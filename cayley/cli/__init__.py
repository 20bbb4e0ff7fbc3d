"""The ``cayley`` command: run, validate, view, version and diff dataflows, serve the run viewer.

.. code-block:: console

    $ cayley run flows/etl.py -o report --inputs '{"day": "2024-05-01"}'
    $ cayley validate flows/etl.py -o report
    $ cayley view flows/etl.py --out etl.svg
    $ cayley version flows/etl.py
    $ cayley diff old/etl.py flows/etl.py --out changes.png
    $ cayley ui --port 8241

``python -m cayley`` is the same command. Every error exits with status 1 and a short message
on stderr naming what is wrong and what to do; ``--traceback`` shows the full traceback.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence

__all__ = ["main"]


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    print(f"cayley: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command in ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    from cayley.cli.output import describe_error, format_traceback
    from cayley.cli.parser import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 1
    warnings.showwarning = _show_warning
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"cayley {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`cayley version flow.py | head`): nothing left to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if args.traceback:
            print(format_traceback(exc), file=sys.stderr)
        else:
            print(f"cayley {args.command}: error: {describe_error(exc)}", file=sys.stderr)
        return 1
