"""The jurisdictions table and the sources catalog, through the library and the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.errors import JurisdictionError
from socialcredit.regions import is_synthetic_region, jurisdiction, jurisdictions, region_of_area
from socialcredit.vocabulary import vocabulary

runner = CliRunner()

NAMED_IN_SOURCES = [
    "Rongcheng", "Jinan", "Shanghai", "Shenzhen", "Beijing", "Jiangsu", "Ningxia", "Yunnan",
    "Suining", "Quanzhou", "Wenzhou", "Zhoushan", "Xiamen",
]  # fmt: skip


def test_every_jurisdiction_the_sources_name_has_a_synthetic_code() -> None:
    for name in NAMED_IN_SOURCES:
        j = jurisdiction(name)
        assert j.code.startswith("0") and len(j.code) == 6 and j.code.endswith("00")
        assert j.real_code and not j.real_code.startswith("0")


def test_codes_are_unique_and_generic_ones_exist() -> None:
    codes = [j.code for j in jurisdictions()]
    assert len(codes) == len(set(codes))
    assert sum(1 for j in jurisdictions() if not j.real_code) >= 2


def test_area_codes_resolve_to_their_jurisdiction() -> None:
    assert region_of_area("000637") == "000600"
    assert jurisdiction("000637").name == "Rongcheng"
    assert is_synthetic_region("000101")
    assert not is_synthetic_region("110105")


def test_unknown_jurisdiction_names_the_choices() -> None:
    with pytest.raises(JurisdictionError, match="Rongcheng"):
        jurisdiction("Atlantis")


def test_regions_list_json_matches_the_table() -> None:
    result = runner.invoke(app, ["regions", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["code"] for r in rows] == [j.code for j in jurisdictions()]
    assert {"code", "name", "real_code"} <= set(rows[0])


def test_sources_list_shows_authority_from_the_vocabulary() -> None:
    result = runner.invoke(app, ["sources", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    voc = vocabulary()
    assert set(rows) == set(voc.sources)
    for sid, row in rows.items():
        assert row["categories"] == voc.categories_for(sid)
        for cat in row["categories"]:
            assert voc.authorised(sid, cat)
    assert "judicial.judgment_default" in rows["court"]["categories"]
    assert "judicial.judgment_default" not in rows["railway"]["categories"]


def test_sources_list_table_renders() -> None:
    result = runner.invoke(app, ["sources", "list"])
    assert result.exit_code == 0
    assert "court" in result.stdout
