"""The layering check catches what it is meant to catch.

    check_layers_test.py CHECK_LAYERS_PY SRC_DIR

The real tree passes; synthetic trees with an upward include, a thread
header in core and an extern "C" outside capi each fail with a message that
names the file and line.
"""
import pathlib
import subprocess
import sys
import tempfile

checker, src = sys.argv[1], sys.argv[2]
failures = []


def run(tree):
    return subprocess.run([sys.executable, checker, str(tree)], capture_output=True, text=True)


real = run(src)
if real.returncode != 0:
    failures.append("the real src/ fails the check:\n" + real.stderr)

BAD = {
    "exec includes session": ("exec/lane.cpp", '#include "session/session.hpp"\n', "exec/lane.cpp:1"),
    "session includes registry": ("session/s.cpp", '#include "registry/registry.hpp"\n', "session/s.cpp:1"),
    "core includes exec": ("core/q.hpp", '#pragma once\n#include "exec/pool.hpp"\n', "core/q.hpp:2"),
    "core includes <thread>": ("core/q.cpp", "#include <thread>\n", "core/q.cpp:1"),
    "core includes <mutex>": ("core/q.cpp", "#include <cstdint>\n#include <mutex>\n", "core/q.cpp:2"),
    "extern C in exec": ("exec/x.cpp", 'extern "C" void f(void);\n', "exec/x.cpp:1"),
    "unknown layer": ("plugins/c.cpp", "int x;\n", "plugins"),
    "cluster includes session": ("cluster/c.cpp", '#include "session/session.hpp"\n', "cluster/c.cpp:1"),
}
for name, (path, text, where) in BAD.items():
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d)
        for layer in ("core", "exec", "session", "registry", "sampler", "capi"):
            (root / layer).mkdir()
        (root / "capi" / "ok.cpp").write_text('#include "sampler/s.hpp"\n#include "lane/lane.h"\nextern "C" {}\n')
        (root / "sampler" / "ok.cpp").write_text('#include "registry/r.hpp"\n#include "exec/l.hpp"\n')
        f = root / path
        f.parent.mkdir(exist_ok=True)
        f.write_text(text)
        r = run(root)
        if r.returncode != 1:
            failures.append(f"{name}: exit {r.returncode}, expected 1")
        elif where not in r.stderr:
            failures.append(f"{name}: message does not name {where!r}: {r.stderr}")

for f in failures:
    print("FAIL:", f)
print(f"{len(BAD) + 1 - len(failures)}/{len(BAD) + 1} layering cases behave")
sys.exit(1 if failures else 0)
