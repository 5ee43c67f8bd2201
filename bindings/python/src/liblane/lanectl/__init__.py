"""lanectl: an operator's view of liblane hosts (top, history, metrics)."""

from __future__ import annotations

import argparse
import sys


def _max_pairs(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        name, sep, n = v.rpartition("=")
        if not sep or not name or not n.isdigit() or int(n) < 1:
            raise argparse.ArgumentTypeError(f"--max-concurrent wants NAME=N (N >= 1), got {v!r}")
        out[name] = int(n)
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lanectl", description="Watch and inspect liblane lanes.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("top", help="live table of every lane from a metrics endpoint")
    t.add_argument("url", help="the host's Prometheus metrics URL (text of lane_registry_metrics), or a file")
    t.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default 2)")
    t.add_argument("--iterations", type=int, default=None, metavar="N", help="stop after N refreshes")
    t.add_argument("--once", action="store_true", help="print one table and exit (no screen control)")

    h = sub.add_parser("history", help="occupancy over time from the sampler's SQLite history")
    h.add_argument("db", help="the SQLite file the sampler writes")
    h.add_argument("--lane", action="append", dest="lanes", metavar="NAME", help="only this lane (repeatable)")
    h.add_argument("--since", help="start: 90s, 30m, 1h, 2d, 1w ago, or an ISO 8601 time")
    h.add_argument("--until", help="end, same forms (default: now)")
    h.add_argument("--out", help="chart file, .png or .svg (needs matplotlib)")
    h.add_argument("--max-concurrent", action="append", default=[], metavar="NAME=N",
                   help="a lane's max_concurrent (the history has none); repeatable")
    h.add_argument("--metrics", metavar="URL|FILE", help="take max_concurrent from a metrics text instead")

    m = sub.add_parser("metrics", help="check a metrics text with prometheus_client's parser")
    m.add_argument("source", metavar="FILE|URL")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "top":
        from . import top

        if args.interval <= 0:
            print("lanectl top: --interval must be > 0", file=sys.stderr)
            return 2
        return top.run(args.url, args.interval, args.iterations, args.once)
    if args.command == "history":
        from . import history

        try:
            caps = _max_pairs(args.max_concurrent)
            if args.metrics:
                from .promtext import parse
                from .top import fetch

                for s in parse(fetch(args.metrics)):
                    if s.name == "lane_max_concurrent" and "lane" in s.labels:
                        caps.setdefault(s.labels["lane"], int(s.value))
            return history.run(args.db, args.lanes, args.since, args.until, args.out, caps)
        except (ValueError, OSError) as e:
            print(f"lanectl history: {e}", file=sys.stderr)
            return 2
    from . import metrics

    return metrics.run(args.source)


if __name__ == "__main__":
    sys.exit(main())
