#!/usr/bin/env python3
"""README's C example is examples/c/quickstart.c, word for word."""
import re
import sys

readme, example = (open(p).read() for p in sys.argv[1:3])
blocks = re.findall(r"## A lane in C\n\n```c\n(.*?)```", readme, re.S)
if not blocks:
    sys.exit("README has no '## A lane in C' code block")
if blocks[0] != example:
    sys.exit("README's C example differs from examples/c/quickstart.c: copy one onto the other")
print("README's C example matches examples/c/quickstart.c")
