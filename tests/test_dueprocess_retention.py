"""Expiry and retention: expired records, and purging content after 5 years with verify intact."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from socialcredit.dueprocess.retention import (
    check_purges,
    public_records,
    purge_candidates,
    purge_records,
    record_status,
)
from socialcredit.engine import Engine
from socialcredit.ids import generate_resident_id
from socialcredit.ledger import open_ledger, verify
from socialcredit.ledger.proofs import ledger_tree

P = generate_resident_id(13, 4, region="Rongcheng")
Q = generate_resident_id(13, 5, region="Rongcheng")


def ledger_with_old_records(path: Path):
    led = open_ledger(path)
    led.append_registry(
        [
            {"id": P, "kind": "person", "name": "P (synthetic)", "consent": True, "resident": True},
            {"id": Q, "kind": "person", "name": "Q (synthetic)"},
        ]
    )
    led.append_records(
        [
            {"id": "t-2012", "subject": P, "category": "traffic.ticket", "source": "traffic_police",
             "occurred_at": "2012-05-01", "evidence": "camera 3"},
            {"id": "v-2012", "subject": P, "category": "social.volunteering", "source": "civil_affairs",
             "occurred_at": "2012-05-02", "value": 4},
            {"id": "t-2019", "subject": P, "category": "traffic.ticket", "source": "traffic_police",
             "occurred_at": "2019-05-01"},
            {"id": "d-2012", "subject": Q, "category": "judicial.judgment_default", "source": "court",
             "occurred_at": "2012-06-01"},
        ]
    )  # fmt: skip
    return led


def test_expired_records_are_shown_as_expired_in_the_own_file_only(tmp_path: Path) -> None:
    with ledger_with_old_records(tmp_path / "l.db") as led:
        ev = Engine(["rongcheng"]).evaluate(led.records_table(), led.registry(), "2019-06-01")
        st = {s["id"]: s for s in record_status(ev, P, led.records_of(P))}
        assert st["t-2012"]["status"] == "expired" and st["t-2012"]["expires"]["rongcheng"] == "2017-05-01"
        assert st["t-2019"]["status"] == "in_effect"
        public = [s["id"] for s in public_records(st.values())]
        assert "t-2019" in public and "t-2012" not in public


def test_purge_keeps_the_chain_and_the_tree(tmp_path: Path) -> None:
    with ledger_with_old_records(tmp_path / "l.db") as led:
        root = ledger_tree(led, "records").root()
        head = led.heads()["records"]["head"]
        ev = Engine(["national"]).evaluate(led.records_table(), led.registry(), "2019-06-01")
        # the 2012 default still lists Q: its conduct has not ended, it is kept
        ids = [c["record"]["id"] for c in purge_candidates(led, "2019-06-01", ev=ev)]
        assert ids == ["t-2012"]  # negative and older than 5 years; volunteering is not negative
        assert purge_records(led, "2019-06-01", actor="archivist:1", ev=ev) == ["t-2012"]
        assert purge_candidates(led, "2019-06-01", ev=ev) == []  # done once
        with led.engine.connect() as conn:
            text, subject = conn.exec_driver_sql(
                "SELECT canonical, subject FROM records WHERE id = 't-2012'"
            ).one()
        stone = json.loads(text)
        assert subject == "" and "camera 3" not in text and P not in text
        assert stone["category"] == "traffic.ticket" and stone["purged"]["link_hash"]
        report = verify(led)
        assert report.ok, report.message
        assert led.heads()["records"]["head"] == head and ledger_tree(led, "records").root() == root
        assert check_purges(led) == []
        assert [r["id"] for r in led.records_of(P)] == ["v-2012", "t-2019"]
        # the engine no longer sees the purged record (its subject is gone)
        ev2 = Engine(["national"]).evaluate(led.records_table(), led.registry(), "2019-06-01")
        assert "t-2012" not in ev2.records.ids.to_pylist() and "t-2019" in ev2.records.ids.to_pylist()
        # an edit dressed up as a purge is caught: no action accounts for it
        with led.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE records SET canonical = :c, subject = '' WHERE id = 't-2019'"),
                {"c": text.replace("t-2012", "t-2019")},
            )
        assert check_purges(led) and not verify(led).ok
