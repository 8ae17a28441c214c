"""The portal in a real browser: Playwright driving Debian's Chromium (``/usr/bin/chromium``,
installed by ``make test`` with apt; never a browser Playwright downloads), against uvicorn on a
free loopback port serving the portal's test world (tests/portal_world.py).

Screenshots go to a temporary folder; with ``SOCIALCREDIT_SCREENSHOTS=docs/portal`` they are
written there instead (that is how the ones in docs/portal/ were made).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal_world import EVIL_NAME, PortalWorld, build_portal_world
from socialcredit import ids
from socialcredit.service import create_app

#: Long pages (the file, the persona's explanation) are shot down to here only.
TOP = {"x": 0, "y": 0, "width": 1100, "height": 1800}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make test installs it)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pw(tmp_path_factory: pytest.TempPathFactory, tiny: Any) -> PortalWorld:
    return build_portal_world(tmp_path_factory.mktemp("portal_browser"), tiny)


@pytest.fixture(scope="module")
def base_url(pw: PortalWorld) -> Iterator[str]:
    import uvicorn

    port = _free_port()
    app = create_app(pw.settings(port=port))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("SOCIALCREDIT_SCREENSHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    context.close()


def _no_unmasked(pw: PortalWorld, text: str) -> None:
    w = pw.world
    for sid in (w.listed, w.rep, w.company, w.plain, pw.model, pw.evil):
        assert sid not in text


def test_search_a_name_and_open_its_entity_page(
    page: Any, base_url: str, pw: PortalWorld, shots: Path
) -> None:
    page.goto(base_url + "/")
    page.fill("#q", "Person 4")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/search\?q=Person"))
    assert page.locator("article.hit").count() == 1
    body = page.inner_text("main")
    assert ids.mask_identifier(pw.world.listed) in body
    _no_unmasked(pw, page.content())
    page.fill("#q", "synthetic")
    page.click("button[type=submit]")
    page.screenshot(path=str(shots / "search.png"), full_page=True)
    page.click("text=Person 4 (synthetic)")
    page.wait_for_url(re.compile(r"/entity/[0-9a-f]{16}$"))
    assert page.locator("h1").inner_text() == "Person 4 (synthetic)"
    assert "List of dishonest judgment defaulters" in page.inner_text("main")
    _no_unmasked(pw, page.content())
    page.screenshot(path=str(shots / "entity.png"), full_page=True)


def test_counter_refuses_a_listed_person(page: Any, base_url: str, pw: PortalWorld, shots: Path) -> None:
    page.goto(base_url + "/counter")
    page.fill("#subject", pw.world.listed)
    page.select_option("#action", "travel.flight")
    page.click("form.counter button")
    page.wait_for_selector("#decision")
    assert page.locator(".outcome").inner_text() == "DENIED"
    why = page.inner_text("#decision")
    assert "Persons under a high-spending restriction" in why
    assert "Ground 1: able to perform but refuses" in why
    _no_unmasked(pw, page.content())
    page.screenshot(path=str(shots / "counter.png"), full_page=True)
    page.fill("#subject", pw.world.plain)
    page.click("form.counter button")
    page.wait_for_selector("#decision")
    assert page.locator(".outcome").inner_text() == "ALLOWED"


def test_a_subject_signs_in_and_sees_only_their_file(
    page: Any, base_url: str, pw: PortalWorld, shots: Path
) -> None:
    w = pw.world
    page.goto(base_url + "/my")
    page.fill("#token", w.tokens["subject"])
    page.click("form.signin button")
    page.wait_for_url(base_url + "/my")
    main = page.inner_text("main")
    assert "My credit file: Person 4 (synthetic)" in main and w.listed in main
    assert "w-def-1" in main and "w-red-1" not in main and w.plain not in main
    assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly
    cookies = page.context.cookies()
    assert [c["httpOnly"] for c in cookies if c["name"] == "sc_portal"] == [True]
    page.screenshot(path=str(shots / "my-file.png"), full_page=True, clip=TOP)
    # another subject's file is not reachable: the page shows the signed-in subject only
    assert page.goto(base_url + "/my.json").status == 200
    assert w.plain not in page.content()
    page.goto(base_url + "/my")
    page.click("footer form button")
    page.wait_for_url(base_url + "/")
    page.goto(base_url + "/my")
    assert page.locator("#token").count() == 1
    # the other subject, signing in, gets their own file and not the first one's
    page.fill("#token", w.tokens["other_subject"])
    page.click("form.signin button")
    page.wait_for_url(base_url + "/my")
    main = page.inner_text("main")
    assert w.plain in main and "w-red-1" in main
    assert w.listed not in page.content() and "w-def-1" not in main


def test_markup_in_a_name_is_shown_as_text(page: Any, base_url: str, pw: PortalWorld) -> None:
    page.goto(base_url + "/search?q=Evil")
    page.click("article.hit a")
    page.wait_for_url(re.compile(r"/entity/"))
    assert page.locator("h1").inner_text() == EVIL_NAME
    assert page.locator("main script, main img").count() == 0
    page.goto(base_url + "/lists")
    assert EVIL_NAME in page.inner_text("main")
    assert page.dialogs == []


def test_public_pages_mask_ids_and_screenshots(
    browser: Any, base_url: str, pw: PortalWorld, shots: Path
) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    for name in ("lists", "scoreboard", "stories"):
        pg.goto(f"{base_url}/{name}")
        _no_unmasked(pw, pg.content())
        pg.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    assert pw.vehicle in pg.goto(f"{base_url}/scoreboard").text()
    context.close()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    pg = phone.new_page()
    pg.goto(f"{base_url}/counter?action=travel.high_speed_rail&subject={pw.world.listed}")
    assert pg.locator(".outcome").inner_text() == "DENIED"
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the counter page scrolls sideways at 390 px ({width} px)"
    _no_unmasked(pw, pg.content())
    pg.screenshot(path=str(shots / "counter-390px.png"), full_page=True)
    pg.goto(f"{base_url}/search?q=synthetic")
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.screenshot(path=str(shots / "search-390px.png"), full_page=True)
    phone.close()


def test_try_it_runs_a_short_persona_story(page: Any, base_url: str, shots: Path) -> None:
    page.goto(base_url + "/try")
    page.fill("#name", "Xiao Ming (fictional)")
    page.select_option("#rulebook", "rongcheng")
    page.select_option("#add", "social.volunteering")
    page.click("form.try button")
    page.wait_for_selector("ol.days")
    page.select_option("#add", "judicial.judgment_default")
    page.click("form.try button")
    page.wait_for_function("document.querySelectorAll('ol.days > li').length === 2")
    days = page.locator("ol.days > li")
    assert "person_points: 1000 (A) → 1001 (A)" in days.nth(0).inner_text()
    assert "put on List of dishonest judgment defaulters" in days.nth(1).inner_text()
    assert "travel.flight: denied" in days.nth(1).inner_text()
    page.screenshot(path=str(shots / "try.png"), full_page=True, clip=TOP)
