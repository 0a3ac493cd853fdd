"""Screenshot a Snakemake HTML report in headless Chromium, showing one of its images.

The report is a single-page app: its images appear only once a result is opened. A copy of the
report gets a script that opens the result as a click on its view button would, and Chromium
renders that copy to a PNG:

    python scripts/report_screenshot.py report.html results/table4.png screenshot.png
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "headless_shell")
# The flags of a quiet headless run on a machine without network or GPU.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    return next((path for name in CHROMIUM_CANDIDATES if (path := shutil.which(name))), None)


def open_result_script(result_path: str) -> str:
    """JavaScript that opens ``result_path``'s category and shows its image, as the view button does."""
    path = json.dumps(result_path)
    return f"""
<script>
window.addEventListener("load", () => setTimeout(() => {{
    const entry = results[{path}];
    if (entry === undefined) {{ document.title = "missing result"; return; }}
    for (const [category, subcategories] of Object.entries(categories)) {{
        for (const paths of Object.values(subcategories)) {{
            if (paths.includes({path})) app.showCategory(category);
        }}
    }}
    app.setView({{content: "img", contentPath: entry.data_uri, resultPath: {path}}});
}}, 300));
</script>
"""


def screenshot(report: Path, result_path: str, out_png: Path, size: tuple[int, int] = (1600, 1000)) -> None:
    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError(f"no Chromium found (looked for {', '.join(CHROMIUM_CANDIDATES)})")
    html = report.read_text(encoding="utf-8")
    if f'"{result_path}"' not in html:
        raise ValueError(f"{report}: no result {result_path!r}")
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "report.html"
        # The last </body>: the bundled libraries spell the tag inside their own strings too.
        head, tag, tail = html.rpartition("</body>")
        if not tag:
            raise ValueError(f"{report}: no </body> tag")
        page.write_text(head + open_result_script(result_path) + tag + tail, encoding="utf-8")
        command = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={Path(scratch) / 'profile'}",
            f"--window-size={size[0]},{size[1]}",
            "--virtual-time-budget=10000",
            f"--screenshot={out_png.resolve()}",
            page.as_uri(),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if completed.returncode != 0 or not out_png.is_file():
        raise RuntimeError(f"chromium failed ({completed.returncode}): {completed.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("result", help="the result's path as the report lists it, e.g. results/table4.png")
    parser.add_argument("out_png", type=Path)
    args = parser.parse_args(argv)
    screenshot(args.report, args.result, args.out_png)
    print(f"wrote {args.out_png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
