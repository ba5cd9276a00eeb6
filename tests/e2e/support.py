"""What the browser tests share: logging in and out, axe-core, and checking a
page at every size and colour scheme."""

import json
import re
from pathlib import Path

from playwright.sync_api import expect

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def log_in(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name=username)).to_be_visible()


def settled(locator) -> None:
    """Wait until htmx has set up content it just swapped in (`locator`, the
    swapped element): until then (its settle delay) the new content's own
    hx- attributes do nothing, and a key pressed at once is lost to them."""
    expect(locator).not_to_have_class(re.compile(r"\bhtmx-added\b"))


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def axe_violations(page) -> list[dict]:
    """The WCAG 2 A/AA violations axe-core finds on the current page."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # The site's CSP (script-src 'self') refuses an injected <script>
        # (add_script_tag), but not code evaluated through the DevTools protocol.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}});
            if (!result.passes.length) return [{id: 'axe checked nothing'}];
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
            }));
        }"""
    )


def widest(page) -> list[str]:
    """The elements reaching past the viewport's right edge, to say what overflows."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .slice(0, 8)
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                 + (typeof e.className === 'string' && e.className ? '.' + e.classList.value.replace(/ +/g, '.') : '')
                 + ' right=' + Math.round(e.getBoundingClientRect().right))"""
    )


class Checks:
    """Axe-core, screenshots and overflow of each page, collected so one run
    reports every page's problems at once. Screenshots are named
    `<prefix>-<page>-<size>-<scheme>.png`."""

    def __init__(self, page, artifacts: Path, prefix: str):
        self.page, self.artifacts, self.prefix = page, artifacts, prefix
        self.problems: dict[str, object] = {}

    def axe(self, name: str) -> None:
        violations = axe_violations(self.page)
        if violations:
            self.problems[f"{name}: axe"] = violations

    def overflow(self, name: str, ready) -> None:
        page = self.page
        page.set_viewport_size({"width": 360, "height": 800})
        page.reload()
        ready()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > 360:
            self.problems[f"{name}: overflow at 360 px"] = f"scrollWidth {width}: {widest(page)}"
        page.set_viewport_size({"width": 1280, "height": 900})
        page.reload()
        ready()

    def every_size(self, name: str, ready) -> None:
        """Axe in light and dark, a full-page screenshot per scheme and size, overflow at 360 px."""
        page = self.page
        self.axe(name)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for size, (width, height) in SIZES.items():
                page.set_viewport_size({"width": width, "height": height})
                page.reload()
                ready()
                # The reload keeps the scroll position, and a full-page shot
                # would draw a sticky bar halfway down.
                page.evaluate("() => window.scrollTo(0, 0)")
                shot = self.artifacts / f"{self.prefix}-{name}-{size}-{scheme}.png"
                page.screenshot(path=str(shot), full_page=True)
            if scheme == "dark":
                self.axe(f"{name} (dark)")
        page.emulate_media(color_scheme="light")
        self.overflow(name, ready)

    def assert_none(self) -> None:
        assert not self.problems, json.dumps(self.problems, indent=2)
