#!/usr/bin/env python3
"""A README example is its file in the repository, word for word.

usage: check_readme.py README.md "<section title>" <example file>

A C or C++ example is the whole file. A Go example (*_test.go) is the body of its
`func Example()` up to `// Output:`, one tab of indentation removed.
"""
import re
import sys

readme_path, title, example_path = sys.argv[1:4]
readme, example = (open(p).read() for p in (readme_path, example_path))
lang = "go" if example_path.endswith(".go") else "cpp" if example_path.endswith(".cpp") else "c"
if lang == "go":
    m = re.search(r"^func Example\(\) \{\n(.*?)^\t// Output:", example, re.S | re.M)
    if not m:
        sys.exit(f"{example_path} has no func Example() with an // Output: block")
    example = "".join(line[1:] if line.startswith("\t") else line for line in m.group(1).splitlines(True))
# The section's first code block of that language (prose may come first).
pattern = r"## " + re.escape(title) + r"\n(?:(?!```|\n## ).)*?```" + lang + r"\n(.*?)```"
blocks = re.findall(pattern, readme, re.S)
if not blocks:
    sys.exit(f"README has no '## {title}' {lang} code block")
if blocks[0] != example:
    sys.exit(f"README's '{title}' example differs from {example_path}: copy one onto the other")
print(f"README's '{title}' example matches {example_path}")
