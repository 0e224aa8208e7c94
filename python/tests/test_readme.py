"""README.md's Python example works as written (run from the repository root)."""
import re
import subprocess
import sys

import fer  # noqa: F401  (the installed package must be importable first)


def test_readme_example_runs(source_dir):
    readme = (source_dir / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "README.md has no ```python block"
    code = blocks[0]
    assert len(code.strip().splitlines()) == 5, "the README example is five lines"
    out = subprocess.run([sys.executable, "-c", code], cwd=source_dir, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 6, out.stdout  # five faces of the group photo, then the crop's emotion
    assert all(any(e in line for e in fer.EMOTIONS) for line in lines[:5]), out.stdout
    assert lines[5] == "happy"
