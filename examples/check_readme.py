#!/usr/bin/env python3
"""A README example is its file in examples/, word for word.

usage: check_readme.py README.md "<section title>" <example file>
"""
import re
import sys

readme_path, title, example_path = sys.argv[1:4]
readme, example = (open(p).read() for p in (readme_path, example_path))
blocks = re.findall(r"## " + re.escape(title) + r"\n\n(?:[^`]*?\n)?```c\n(.*?)```", readme, re.S)
if not blocks:
    sys.exit(f"README has no '## {title}' code block")
if blocks[0] != example:
    sys.exit(f"README's '{title}' example differs from {example_path}: copy one onto the other")
print(f"README's '{title}' example matches {example_path}")
