"""A small reader of the Prometheus text format, enough for lane_registry_metrics.

``lanectl top`` uses it so that watching a host needs nothing beyond the
standard library; the tests check it against prometheus_client's parser on
the library's real output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


class ParseError(ValueError):
    pass


@dataclass(frozen=True)
class PromSample:
    name: str
    labels: dict[str, str] = field(hash=False)
    value: float


def _unescape_label(s: str, i: int, line: str) -> tuple[str, int]:
    """Reads a quoted label value starting after the opening quote at s[i]."""
    out: list[str] = []
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s):
                break
            n = s[i + 1]
            out.append({"n": "\n", "\\": "\\", '"': '"'}.get(n, "\\" + n))
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise ParseError(f"unterminated label value in: {line!r}")


def _value(tok: str, line: str) -> float:
    t = tok.strip()
    if t in ("+Inf", "Inf"):
        return math.inf
    if t == "-Inf":
        return -math.inf
    if t == "NaN":
        return math.nan
    try:
        return float(t)
    except ValueError:
        raise ParseError(f"bad sample value {tok!r} in: {line!r}") from None


def parse(text: str) -> list[PromSample]:
    samples: list[PromSample] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        i = 0
        while i < len(line) and (line[i].isalnum() or line[i] in "_:"):
            i += 1
        name = line[:i]
        if not name:
            raise ParseError(f"no metric name in: {raw!r}")
        labels: dict[str, str] = {}
        if i < len(line) and line[i] == "{":
            i += 1
            while True:
                while i < len(line) and line[i] in " ,":
                    i += 1
                if i < len(line) and line[i] == "}":
                    i += 1
                    break
                j = line.find("=", i)
                if j < 0 or j + 1 >= len(line) or line[j + 1] != '"':
                    raise ParseError(f"bad labels in: {raw!r}")
                key = line[i:j].strip()
                val, i = _unescape_label(line, j + 2, raw)
                labels[key] = val
        rest = line[i:].split()
        if not rest:
            raise ParseError(f"no value in: {raw!r}")
        samples.append(PromSample(name, labels, _value(rest[0], raw)))
    return samples
