"""Credit repair: the options each rulebook offers, and the national procedure (facts 1.4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialcredit.dueprocess import ObjectionError
from socialcredit.dueprocess.repair import (
    apply_repair,
    decide_repair,
    list_repairs,
    repair_feedback,
    repair_options,
)
from socialcredit.engine import Engine
from socialcredit.ids import generate_resident_id, generate_uscc
from socialcredit.ledger import open_ledger, verify
from socialcredit.records import records_table
from socialcredit.registry import Registry

ORG = generate_uscc(13, 1)
P = generate_resident_id(13, 3, region="Rongcheng")


def test_national_repair_procedure_ends_the_listing(tmp_path: Path) -> None:
    engine = Engine(["national"])
    with open_ledger(tmp_path / "l.db") as led:
        led.append_registry([{"id": ORG, "kind": "organisation", "name": "Acme (synthetic)"}])
        finding = {
            "id": "sd-1",
            "subject": ORG,
            "category": "org.serious_dishonesty",
            "source": "credit_center",
        }
        led.append_records([{**finding, "occurred_at": "2025-07-01"}])
        ev = engine.evaluate(led.records_table(), led.registry(), "2025-07-02")
        assert ev.decide(ORG, "government.procurement").outcome == "denied"
        opts = repair_options(ev, ORG)
        repair = [o for o in opts if o["category"] == "judicial.credit_repaired"]
        assert repair and repair[0]["list"] == "serious_dishonesty" and "facts 1.4" in repair[0]["source"]
        rep = apply_repair(led, subject=ORG, statement="we paid and commit", list_id="serious_dishonesty",
                           steps=["fine paid", "training course completed"], on="2025-07-02")  # fmt: skip
        assert (rep.feedback_by, rep.decide_by) == ("2025-07-16", "2025-07-21")
        assert rep.overdue("2025-07-17") and not rep.overdue("2025-07-16")
        rep = repair_feedback(led, rep.id, officer="credit-center:3", note="complete", on="2025-07-10")
        with pytest.raises(ObjectionError, match=r"^repair:"):
            repair_feedback(led, rep.id, officer="credit-center:3", note="again", on="2025-07-10")
        rep = decide_repair(
            led, rep.id, approved=True, officer="credit-center:3", reasons="ok", on="2025-07-14"
        )
        assert rep.state == "approved" and rep.record
        assert [h["kind"] for h in rep.history] == ["repair.applied", "repair.feedback", "repair.approved"]
        ev = engine.evaluate(led.records_table(), led.registry(), "2025-07-15")
        assert ev.decide(ORG, "government.procurement").outcome == "allowed"
        assert [r.state for r in list_repairs(led, ORG)] == ["approved"]
        assert verify(led).ok
        with pytest.raises(ObjectionError, match=r"^subject:"):
            apply_repair(led, subject="nobody", statement="x")
        with pytest.raises(ObjectionError, match=r"^statement:"):
            apply_repair(led, subject=ORG, statement=" ")


def test_repair_options_name_each_rulebooks_ways_back() -> None:
    reg = Registry.from_lines(
        [{"id": P, "kind": "person", "name": "P (synthetic)", "consent": True, "resident": True}]
    )
    recs = records_table(
        [{"id": "d", "subject": P, "category": "judicial.judgment_default", "source": "court",
          "occurred_at": "2019-03-01"}]
    )  # fmt: skip
    ev = Engine(["national", "rongcheng"]).evaluate(recs, reg, "2019-06-01")
    opts = repair_options(ev, P)
    by = {(o["rulebook"], o["kind"], o["category"]) for o in opts}
    assert ("national", "list_exit", "judicial.judgment_fulfilled") in by  # pay the debt
    pay = next(o for o in opts if o["category"] == "judicial.judgment_fulfilled")
    assert "3 working days later" in pay["effect"] and pay["action"].startswith("Obligation performed")
    # Rongcheng's score: volunteering and donations, with the donation cap
    donation = next(o for o in opts if o["rulebook"] == "rongcheng" and o["category"] == "social.donation")
    assert "at most 50 points a year" in donation["effect"] and donation["source"]
    assert all(o["source"] for o in opts)
    # the spending restriction comes through the defaulter list: repaired there, not listed twice
    assert not [o for o in opts if o["list"] == "spending_restricted"]
