"""On a phone (390 x 844), no page of either face scrolls sideways.

Every GET page of the authorization matrix that answers a persona 200 is opened in that
persona's browser context, signed in once; a page whose document is wider than the
window fails, with how many pixels it overflows by and the widest elements to blame.
"""

import pytest

from tests.browser.personas import full_pages, route_ids, signed_in_context, wait_settled
from tests.matrix_base import PERSONAS

# The layout is the same on any database: .ci/run runs these on its SQLite pass only.
pytestmark = [pytest.mark.browser, pytest.mark.layout]

PHONE = {"width": 390, "height": 844}

# How far the document reaches past the window, and which elements stick out furthest
# (the deepest ones, so the message names the culprit rather than its containers; not
# those inside a box that scrolls or clips, which is how a wide table should fit).
MEASURE = """() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  if (root.scrollWidth <= width) return {overflow: 0, culprits: []};
  // Inside a box that scrolls or clips, unless positioned out of it (an absolute box
  // belongs to its nearest positioned ancestor, which may lie outside the scroller).
  const clipped = el => {
    let loose = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (loose && style.position !== 'static') loose = false;
      if (!loose && style.overflowX !== 'visible') return true;
    }
    return false;
  };
  const over = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.right > width + 1 && box.width > 0 && !clipped(el)) {
      over.push({el, right: box.right});
    }
  }
  const leaves = over.filter(o => !over.some(p => p.el !== o.el && o.el.contains(p.el)));
  leaves.sort((a, b) => b.right - a.right);
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + Array.from(el.classList).join('.') : '');
  return {
    overflow: root.scrollWidth - width,
    culprits: leaves.slice(0, 3).map(o => `${name(o.el)} (+${Math.round(o.right - width)})`),
  };
}"""


@pytest.fixture(scope="module")
def ids(app):
    return route_ids(app)


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_page_scrolls_sideways_on_a_phone(browser, app, live_server, ids, persona):
    pages = full_pages(app, persona, ids)
    assert pages, f"the matrix serves {persona} no page"
    context = signed_in_context(
        browser, app, live_server, None if persona == "anonymous" else persona, viewport=PHONE
    )
    wide = []
    try:
        page = context.new_page()
        for endpoint, url in pages:
            response = page.goto(url, wait_until="domcontentloaded")
            assert response.status == 200, (endpoint, url, response.status)
            wait_settled(page)
            measured = page.evaluate(MEASURE)
            if measured["overflow"] > 0:
                culprits = ", ".join(measured["culprits"])
                wide.append(f"{url} ({endpoint}): +{measured['overflow']} px [{culprits}]")
    finally:
        context.close()
    if wide:
        report = "\n".join(wide)
        pytest.fail(f"{persona}: {len(wide)} of {len(pages)} pages scroll sideways:\n{report}")
