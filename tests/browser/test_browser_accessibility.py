"""Every main page, checked in Chromium for what assistive technology and low vision need."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from playwright.sync_api import BrowserContext, Page, expect

from tests.support.base import MONDAY_10AM

if TYPE_CHECKING:
    from tests.support.browser import LiveServer, NurseLogin

pytest_plugins = ["tests.support.browser"]
SignIn = Callable[[Page, "NurseLogin"], None]

# Roles a person operates: each needs a name a screen reader can say.
OPERABLE = {"button", "link", "textbox", "searchbox", "combobox", "listbox", "checkbox",
            "radio", "spinbutton", "slider", "switch", "tab", "menuitem"}

# WCAG 2.2 AA contrast for every piece of visible text, against the colour behind it.
CONTRAST_SCRIPT = """() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const problems = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el || seen.has(el)) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility === "hidden" || box.width <= 1 || box.height <= 1) continue;
    if (el.closest("[hidden], [aria-hidden=true], .visually-hidden, option")) continue;
    // WCAG exempts controls that cannot be used.
    if (el.closest("button:disabled, input:disabled, select:disabled, textarea:disabled")) {
      continue;
    }
    const fg = parse(style.color);
    const bg = behind(el);
    const a = lum(fg.slice(0, 3)), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      problems.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 40)}": `
                    + `${ratio.toFixed(2)} (${style.color} on rgb(${bg.join(",")}))`);
    }
  }
  return problems;
}"""


def unnamed_controls(context: BrowserContext, page: Page) -> list[str]:
    """Operable things with no accessible name, from Chromium's own accessibility tree."""
    cdp = context.new_cdp_session(page)
    tree: dict[str, Any] = cdp.send("Accessibility.getFullAXTree")
    cdp.detach()
    bad = []
    for node in tree["nodes"]:
        role = node.get("role", {}).get("value", "")
        name = str(node.get("name", {}).get("value", "")).strip()
        if node.get("ignored") or role not in OPERABLE:
            continue
        if not name:
            bad.append(f"{role} (node {node['nodeId']})")
    return bad


def check(context: BrowserContext, page: Page) -> None:
    """The page has a language, one main heading, named controls and readable contrast."""
    assert page.locator("html").get_attribute("lang") == "en-GB"
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    assert unnamed_controls(context, page) == [], page.url
    assert page.evaluate(CONTRAST_SCRIPT) == [], page.url


def seed(context: BrowserContext, live: LiveServer) -> None:
    """An alert, a voicemail and a text from the simulator, so the queues have items."""
    live.clock.fixed = MONDAY_10AM
    phone = context.new_page()
    phone.goto("/simulator/")
    phone.get_by_label("Message", exact=True).fill("temp 38.5 and shivery")
    phone.get_by_label("Message", exact=True).press("Enter")
    expect(phone.locator(".bubble.reply")).to_be_visible()
    phone.get_by_role("button", name="Call", exact=True).click()
    phone.get_by_role("group", name="Keypad").get_by_role("button", name="6").click()
    phone.get_by_role("button", name="No answer").click()
    phone.get_by_role("button", name="No answer").click()
    phone.get_by_role("button", name="Leave a message and hang up").click()
    expect(phone.locator("#call-status")).to_have_text("Call ended. You hung up.")
    phone.close()


CONSOLE_PAGES = [
    "/console/today", "/console/campaigns", "/console/campaigns/new",
    "/console/patients?number=07700+900123", "/console/content", "/console/numbers",
    "/console/nurses", "/console/audit",
]


def test_console_pages(context: BrowserContext, page: Page, live: LiveServer,
                       nurse: NurseLogin, sign_in: SignIn) -> None:
    seed(context, live)
    sign_in(page, nurse)
    problems = {}
    for path in CONSOLE_PAGES:
        page.goto(path)
        try:
            check(context, page)
        except AssertionError as exc:
            problems[path] = str(exc)
    assert problems == {}


def test_the_login_page(context: BrowserContext, page: Page, live: LiveServer) -> None:
    page.goto("/console/login")
    check(context, page)


def test_the_simulator_on_a_call_and_with_texts(
    context: BrowserContext, page: Page, live: LiveServer
) -> None:
    page.goto("/simulator/")
    check(context, page)
    page.get_by_label("Message", exact=True).fill("hi")
    page.get_by_label("Message", exact=True).press("Enter")
    expect(page.locator(".bubble.reply")).to_be_visible()
    page.get_by_role("button", name="Call", exact=True).click()
    expect(page.locator("#gather")).to_be_visible()
    check(context, page)
