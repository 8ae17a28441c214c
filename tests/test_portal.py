"""The public portal through FastAPI's test client: every page and its ``.json`` twin, masked
identifiers on every public page, markup in names shown as text, own file only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal_world import EVIL_NAME, PortalWorld, build_portal_world
from service_world import TestClient
from socialcredit import ids
from socialcredit.service import create_app

TODAY_DATE = dt.date(2019, 6, 1)
PUBLIC_PAGES = ["/", "/search?q=synthetic", "/lists", "/counter", "/scoreboard", "/stories", "/my"]


@pytest.fixture(scope="module")
def pw(tmp_path_factory: pytest.TempPathFactory, tiny) -> PortalWorld:
    return build_portal_world(tmp_path_factory.mktemp("portal"), tiny)


@pytest.fixture(scope="module")
def client(pw: PortalWorld) -> Iterator[TestClient]:
    with TestClient(create_app(pw.settings()), raise_server_exceptions=True) as c:
        yield c


def _secret_ids(pw: PortalWorld) -> list[str]:
    """Identity numbers and credit codes that must never appear unmasked on a public page."""
    w = pw.world
    return [w.listed, w.rep, w.company, w.plain, pw.model, pw.evil]


def _entity_keys(text: str) -> list[str]:
    return re.findall(r"/entity/([0-9a-f]{16})", text)


def _assert_masked(pw: PortalWorld, text: str) -> None:
    for sid in _secret_ids(pw):
        assert sid not in text
    assert "0006**********" in text or "****" in text or "No " in text or "<form" in text


def test_every_public_page_and_its_json_twin(client: TestClient, pw: PortalWorld) -> None:
    for path in PUBLIC_PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src 'none'" in page.headers["content-security-policy"]
        assert "<script" not in page.text.replace("&lt;script", "")
        base, _, query = path.partition("?")
        twin = (base if base != "/" else "/search") + ".json" + (f"?{query}" if query else "")
        data = client.get(twin)
        if base == "/my":
            assert data.status_code == 401 and data.json()["error"]["code"] == "not_signed_in"
        else:
            assert data.status_code == 200, twin
            assert data.headers["content-type"] == "application/json"
        for sid in _secret_ids(pw):
            assert sid not in page.text and sid not in data.text, (path, sid)
    assert client.get("/static/portal.css").headers["content-type"].startswith("text/css")


def test_search_by_name_shows_published_information_masked(client: TestClient, pw: PortalWorld) -> None:
    data = client.get("/search.json", params={"q": "person"}).json()
    names = {r["name"]: r for r in data["results"]}
    # Person 4 (own default), Person 3 (through the company), Person 0 (red list); Person 1 is on no list
    assert set(names) == {"Person 0 (synthetic)", "Person 3 (synthetic)", "Person 4 (synthetic)"}
    listed = names["Person 4 (synthetic)"]
    assert listed["id_masked"] == ids.mask_identifier(pw.world.listed)
    assert [w["list"] for w in listed["warning"]] == ["judgment_defaulters"]
    assert listed["decisions"][0]["category"] == "judicial.judgment_default"
    assert names["Person 0 (synthetic)"]["good"][0]["list_kind"] == "red"
    assert names["Person 3 (synthetic)"]["warning"][0]["via"]["from"] == ids.mask_identifier(pw.world.company)
    page = client.get("/search", params={"q": "person"})
    assert ids.mask_identifier(pw.world.listed) in page.text
    assert "warning information: 1" in page.text and "good information: 1" in page.text


@pytest.mark.parametrize("which", ["listed", "company"])
def test_search_by_identifier_masks_it_everywhere(client: TestClient, pw: PortalWorld, which: str) -> None:
    sid = getattr(pw.world, which)
    data = client.get("/search.json", params={"q": sid.lower()})
    assert sid not in data.text
    assert data.json()["q"] == ids.mask_identifier(sid)
    assert [r["id_masked"] for r in data.json()["results"]] == [ids.mask_identifier(sid)]
    page = client.get("/search", params={"q": sid})
    assert sid not in page.text and sid.lower() not in page.text
    assert f'value="{ids.mask_identifier(sid)}"' in page.text


def test_search_by_plate_finds_the_honking_car(client: TestClient, pw: PortalWorld) -> None:
    data = client.get("/search.json", params={"q": pw.vehicle}).json()
    assert [r["kind"] for r in data["results"]] == ["vehicle"]
    assert data["results"][0]["warning"][0]["channels"] == ["disclose.roadside_scoreboard"]


def test_unpublished_subjects_are_not_found(client: TestClient, pw: PortalWorld) -> None:
    assert client.get("/search.json", params={"q": pw.world.plain}).json()["results"] == []
    assert client.get("/search.json", params={"q": "x"}).json()["results"] == []
    assert client.get("/entity/0123456789abcdef").status_code == 404
    assert client.get("/entity/0123456789abcdef.json").json()["error"]["code"] == "not_found"


def test_entity_page_and_twin(client: TestClient, pw: PortalWorld) -> None:
    page = client.get("/search", params={"q": "Person 4"})
    (key,) = set(_entity_keys(page.text))
    assert pw.world.listed not in key
    html = client.get(f"/entity/{key}")
    assert html.status_code == 200
    assert "Person 4 (synthetic)" in html.text and "Warning information" in html.text
    assert "List of dishonest judgment defaulters" in html.text
    assert ids.mask_identifier(pw.world.listed) in html.text and pw.world.listed not in html.text
    data = client.get(f"/entity/{key}.json").json()
    assert data["name"] == "Person 4 (synthetic)" and data["key"] == key
    assert data["channels"] == ["disclose.credit_website"]


def test_markup_in_a_name_is_text(client: TestClient) -> None:
    for path in ["/search?q=Evil", "/lists"]:
        text = client.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    data = client.get("/search.json", params={"q": "Evil"}).json()
    assert data["results"][0]["name"] == EVIL_NAME  # JSON carries the name as it is


def test_lists_page(client: TestClient, pw: PortalWorld) -> None:
    data = client.get("/lists.json").json()
    by_id = {(entry["rulebook"], entry["id"]): entry for entry in data["lists"]}
    defaulters = by_id["national", "judgment_defaulters"]
    assert defaulters["kind"] == "black" and defaulters["size"] == 4
    assert {m["id_masked"] for m in defaulters["members"]} >= {ids.mask_identifier(pw.world.listed)}
    assert by_id["national", "integrity_models"]["kind"] == "red"
    # a list no disclosure measure publishes has its size shown, but names no member
    restricted = by_id["national", "spending_restricted"]
    assert restricted["size"] == 4 and restricted["published"] == 0 and restricted["members"] == []
    assert by_id["shanghai-honking", "honking_plates"]["published"] == 1
    page = client.get("/lists").text
    assert "Red list of integrity models" in page and "judgment defaulters" in page


def test_counter_refuses_a_listed_person_with_the_reasons(client: TestClient, pw: PortalWorld) -> None:
    data = client.get("/counter.json", params={"subject": pw.world.listed, "action": "travel.flight"}).json()
    r = data["result"]
    assert r["outcome"] == "denied" and r["subject_masked"] == ids.mask_identifier(pw.world.listed)
    assert {x["list"] for x in r["reasons"]} == {"judgment_defaulters", "spending_restricted"}
    assert any(rec["category"] == "judicial.judgment_default" for x in r["reasons"] for rec in x["records"])
    assert "travel.high_speed_rail" in data["actions"]
    page = client.get("/counter", params={"subject": pw.world.listed, "action": "travel.high_speed_rail"})
    assert "DENIED" in page.text and "high-spending restriction" in page.text
    assert pw.world.listed not in page.text
    ok = client.get("/counter.json", params={"subject": pw.world.plain, "action": "travel.flight"}).json()
    assert ok["result"]["outcome"] == "allowed" and ok["result"]["reasons"] == []
    unknown = client.get("/counter.json", params={"subject": pw.world.stranger, "action": "travel.flight"})
    assert unknown.json()["result"]["error"].startswith("No such identity number")
    bad = client.get("/counter", params={"subject": pw.world.plain, "action": "travel.teleport"})
    assert "Unknown action" in bad.text


def test_scoreboard_and_stories(client: TestClient, pw: PortalWorld) -> None:
    board = client.get("/scoreboard.json").json()
    assert board["plates"] == [{"plate": pw.vehicle, "since": "2019-05-20", "until": "2019-06-19"}]
    assert pw.vehicle in client.get("/scoreboard").text
    stories = client.get("/stories.json").json()["stories"]
    assert [s["name"] for s in stories] == ["Person 0 (synthetic)"]
    assert stories[0]["deeds"][0]["category"] == "social.honour"
    assert stories[0]["id_masked"] == ids.mask_identifier(pw.model)
    assert "Person 0 (synthetic)" in client.get("/stories").text


def test_my_file_only_own(pw: PortalWorld) -> None:
    w = pw.world
    with TestClient(create_app(pw.settings())) as c:
        assert c.get("/my.json").status_code == 401
        assert "Sign in" in c.get("/my").text
        bad = c.post("/my/signin", data={"token": "sct_nope"}, follow_redirects=False)
        assert bad.status_code == 401 and "not a valid subject token" in bad.text
        officer = c.post("/my/signin", data={"token": w.tokens["officer"]}, follow_redirects=False)
        assert officer.status_code == 401 and "sc_portal" not in officer.headers.get("set-cookie", "")
        ok = c.post("/my/signin", data={"token": w.tokens["subject"]}, follow_redirects=False)
        assert ok.status_code == 303 and ok.headers["location"] == "/my"
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert w.tokens["subject"] not in ok.headers["set-cookie"]  # the cookie is a session id
        mine = c.get("/my.json").json()
        assert mine["id"] == w.listed and mine["name"] == "Person 4 (synthetic)"
        assert [r["id"] for r in mine["records"]] == ["w-def-1"]
        assert {entry["list"] for entry in mine["lists"]} == {"judgment_defaulters", "spending_restricted"}
        assert "judgment_defaulters" in mine["explanation"]
        page = c.get("/my").text
        assert w.listed in page and "w-def-1" in page and "Every record" in page
        assert w.plain not in page and "w-red-1" not in page
        out = c.post("/my/signout", follow_redirects=False)
        assert out.status_code == 303
        assert c.get("/my.json").status_code == 401
        # the other subject sees their own file, not the first one's
        c.post("/my/signin", data={"token": w.tokens["other_subject"]})
        theirs = c.get("/my.json").json()
        assert theirs["id"] == w.plain and [r["id"] for r in theirs["records"]] == ["w-red-1"]
        assert w.listed not in c.get("/my").text


def test_portal_is_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert all(p.startswith("/v1/") for p in paths)


def test_templates_ship_as_package_data() -> None:
    root = Path(__file__).resolve().parents[1]
    text = (root / "pyproject.toml").read_text()
    assert "service/portal/templates/*.html" in text and "service/portal/static/*" in text


def test_try_it_yourself_runs_a_story_and_stores_nothing(client: TestClient, pw: PortalWorld) -> None:
    before = client.get("/v1/health").json()
    data = client.get(
        "/try.json",
        params={
            "rulebook": "national",
            "name": "Xiao Ming",
            "story": "social.honour,no.such",
            "add": "judicial.judgment_default",
        },
    ).json()
    assert data["story"] == ["social.honour", "judicial.judgment_default"]
    day1, day2 = data["days"]
    assert "put on Red list of integrity models (red)" in day1["changes"]
    assert any(c.startswith("put on List of dishonest judgment defaulters") for c in day2["changes"])
    assert "travel.flight: denied" in day2["changes"]
    assert "judgment_defaulters" in data["explanation"]
    page = client.get(
        "/try", params={"rulebook": "rongcheng", "name": EVIL_NAME, "add": "social.volunteering"}
    )
    assert page.status_code == 200 and "<script>alert" not in page.text
    assert "score person_points: 1000 (A) → 1001 (A)" in page.text
    assert 'name="story" value="social.volunteering"' in page.text
    assert client.get("/v1/health").json() == before
    assert client.get("/search.json", params={"q": "Xiao Ming"}).json()["results"] == []


def test_portal_app_hook_for_the_demo(pw: PortalWorld) -> None:
    from socialcredit.service.portal.serve import portal_app

    app = portal_app(pw.world.db, ["national", "shanghai-honking"], TODAY_DATE)
    with TestClient(app) as c:
        assert c.get("/scoreboard.json").json()["plates"][0]["plate"] == pw.vehicle
        assert c.get("/v1/health").json()["today"] == "2019-06-01"


def test_revoking_the_token_ends_the_portal_session(tmp_path: Path, tiny) -> None:
    pw = build_portal_world(tmp_path, tiny)
    w = pw.world
    with TestClient(create_app(pw.settings())) as c:
        c.post("/my/signin", data={"token": w.tokens["subject"]})
        assert c.get("/my.json").status_code == 200
        gone = c.delete(f"/v1/tokens/{w.token_ids['subject']}", headers=w.auth("admin"))
        assert gone.status_code == 200
        assert c.get("/my.json").status_code == 401
        assert "Sign in" in c.get("/my").text


def test_research_report_link_only_when_one_exists(tmp_path: Path, tiny) -> None:
    pw = build_portal_world(tmp_path, tiny)
    with TestClient(create_app(pw.settings())) as c:
        assert c.get("/report").status_code == 404
        assert 'href="/report"' not in c.get("/lists").text
        (tmp_path / "report.html").write_text("<html><body><h1>The report</h1></body></html>")
        assert 'href="/report"' in c.get("/lists").text
        got = c.get("/report")
        assert got.status_code == 200 and "<h1>The report</h1>" in got.text
        assert got.headers["content-security-policy"].startswith("sandbox")
