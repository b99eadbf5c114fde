"""Print the trial report to PDF with headless Chromium on A4 and check the pages (not part of CI).

    python scripts/print_report.py [REPORT_HTML] [--out DIR] [--png-dpi 50]

Needs Debian's ``chromium`` and ``poppler-utils`` (``pdftotext``, ``pdftoppm``, ``pdfinfo``). Writes
``trial_report.pdf`` and one PNG per page into DIR (default: a new temporary folder) and prints:
- the page count and the size of each page (A4 portrait or landscape);
- every word that runs past the right edge of the printed area (a table wider than the page), and
  every table column header of the HTML that is missing from the PDF (cut off the page);
- every page whose last block of text is a heading (a heading left alone at the foot of a page).
Exit status 1 when any check fails. Look at the PNGs as well: the checks cannot see everything.
"""
from __future__ import annotations

import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

A4 = (595.3, 841.9)          # points
MARGIN_RIGHT_MM = 12         # the report's @page rules use 12 mm left and right
TOLERANCE = 2.0              # points
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-pdf-header-footer"]
XHTML = "{http://www.w3.org/1999/xhtml}"


class Outline(HTMLParser):
    """Headings (h1-h4) and table column headers (th) of the report, as text."""

    def __init__(self):
        super().__init__()
        self.headings, self.headers, self._tag, self._text = [], [], None, []

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2", "h3", "h4", "th"):
            self._tag, self._text = tag, []
        elif tag in ("style", "script"):
            self._tag = "skip"

    def handle_endtag(self, tag):
        if self._tag and tag == self._tag and tag != "skip":
            text = " ".join("".join(self._text).split())
            if text:
                (self.headers if tag == "th" else self.headings).append(text)
            self._tag = None
        elif tag in ("style", "script"):
            self._tag = None

    def handle_data(self, data):
        if self._tag and self._tag != "skip":
            self._text.append(data)


def print_pdf(report: Path, pdf: Path) -> None:
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    try:
        subprocess.run(["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}",
                        report.resolve().as_uri()], check=True, capture_output=True, timeout=300)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def pages(pdf: Path) -> list[ET.Element]:
    """The PDF's pages with the bounding boxes of blocks, lines and words (``pdftotext -bbox-layout``)."""
    out = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True, capture_output=True, text=True)
    body = re.sub(r"<!DOCTYPE[^>]*>", "", out.stdout)
    return list(ET.fromstring(body).iter(f"{XHTML}page"))


def _words(element: ET.Element) -> list[ET.Element]:
    return list(element.iter(f"{XHTML}word"))


def _text(element: ET.Element) -> str:
    return " ".join(html.unescape(w.text or "") for w in _words(element))


def check(report: Path, out: Path, png_dpi: int) -> int:
    out.mkdir(parents=True, exist_ok=True)
    pdf = out / "trial_report.pdf"
    print_pdf(report, pdf)
    outline = Outline()
    outline.feed(report.read_text(encoding="utf-8"))
    headings = {" ".join(h.split()) for h in outline.headings}
    problems, sizes, all_words = [], [], set()
    for number, page in enumerate(pages(pdf), start=1):
        width, height = float(page.get("width")), float(page.get("height"))
        orientation = "landscape" if width > height else "portrait"
        a4 = abs(min(width, height) - A4[0]) < 2 and abs(max(width, height) - A4[1]) < 2
        sizes.append(f"{number}: {'A4' if a4 else f'{width:.0f}x{height:.0f} pt'} {orientation}")
        if not a4:
            problems.append(f"page {number} is not A4 ({width:.1f} x {height:.1f} pt)")
        edge = width - MARGIN_RIGHT_MM * 72 / 25.4 + TOLERANCE
        for word in _words(page):
            all_words.add(html.unescape(word.text or ""))
            if float(word.get("xMax")) > edge or float(word.get("xMin")) < -TOLERANCE:
                problems.append(f"page {number}: {word.text!r} runs past the printed area "
                                f"(x {float(word.get('xMax')):.0f} > {edge:.0f} pt)")
        blocks = sorted(page.iter(f"{XHTML}block"), key=lambda b: float(b.get("yMax")))
        if blocks and " ".join(_text(blocks[-1]).split()) in headings:
            problems.append(f"page {number}: ends with the heading {_text(blocks[-1])!r}")
    missing_headers = sorted({h for h in outline.headers if not all(w in all_words for w in h.split())})
    problems += [f"column header {h!r} not in the PDF (cut off?)" for h in missing_headers]
    subprocess.run(["pdftoppm", "-r", str(png_dpi), "-png", str(pdf), str(out / "page")], check=True)
    print(f"PDF: {pdf}\npages: {len(sizes)}")
    print("\n".join(f"  {s}" for s in sizes))
    print(f"checked: {len(headings)} headings, {len(set(outline.headers))} column headers, words against the "
          f"printed area of every page")
    print(f"PNG pages: {out}/page-*.png")
    print(f"problems: {len(problems)}" + "".join(f"\n  {p}" for p in problems))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", nargs="?", type=Path,
                        default=Path(__file__).resolve().parents[1] / "data" / "reports" / "trial_report.html")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--png-dpi", type=int, default=50)
    args = parser.parse_args(argv)
    for tool in ("chromium", "pdftotext", "pdftoppm"):
        if shutil.which(tool) is None:
            print(f"error: {tool} is not installed (apt-get install -y chromium poppler-utils)", file=sys.stderr)
            return 2
    return check(args.report, args.out or Path(tempfile.mkdtemp(prefix="report-print-")), args.png_dpi)


if __name__ == "__main__":
    sys.exit(main())
