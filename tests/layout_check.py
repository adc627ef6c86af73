"""What a report looks like in a browser, read from the page itself in headless Chromium.

A copy of the page gets a script that, once the page has loaded, measures every
block of text and every image (their layout boxes) and writes what it found into
the page; Chromium's ``--dump-dom`` hands the page back with it. Found: the
images and whether each decoded, pairs of boxes that overlap, and text wider than
its box (cut off or spilling over its neighbour).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from dcsim.output.browser import run_chromium

_MEASURE = """
<script>
(function () {
  const blocks = Array.from(document.querySelectorAll('h1,h2,p,pre,img,th,td'));
  const box = (e) => e.getBoundingClientRect();
  const name = (e) => e.tagName.toLowerCase() + ':' + (e.getAttribute('alt')
      || e.textContent.trim().slice(0, 40));
  const overlaps = [];
  for (let i = 0; i < blocks.length; i++) {
    for (let j = i + 1; j < blocks.length; j++) {
      const a = blocks[i], b = blocks[j];
      if (a.contains(b) || b.contains(a)) continue;
      const p = box(a), q = box(b);
      const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (w > 1 && h > 1) overlaps.push([name(a), name(b)]);
    }
  }
  const overflows = blocks.filter((e) => e.tagName !== 'IMG'
      && e.scrollWidth > e.clientWidth + 1).map(name);
  const images = Array.from(document.images).map((e) => ({
    alt: e.getAttribute('alt'), decoded: e.complete && e.naturalWidth > 0,
    width: box(e).width, right: box(e).right}));
  document.body.setAttribute('data-layout', JSON.stringify({
    overlaps: overlaps, overflows: overflows, images: images,
    page_width: document.documentElement.clientWidth}));
})();
</script>
"""


def layout(page: Path, scratch: Path, width: int = 1300) -> dict[str, Any]:
    """The layout of ``page`` at ``width`` CSS pixels: images, overlaps, overflows."""
    copy = scratch / f"measured-{page.name}"
    copy.write_text(page.read_text().replace("</body>", _MEASURE + "</body>"))
    done = run_chromium([f"--window-size={width},900", "--dump-dom", copy.resolve().as_uri()])
    found = re.search(r'data-layout="([^"]*)"', done.stdout)
    assert found, "the page's script did not run"
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result
