"""The behaviour and action vocabularies cover what the source documents name (issue 3)."""

from __future__ import annotations

import pytest

from socialcredit.vocabulary import (
    AREAS,
    DIRECTIONS,
    SUBJECT_KINDS,
    UNITS,
    vocabulary,
)

#: Everything the source documents name (the issue's list), by the category that records it.
NAMED_BEHAVIOURS = {
    "fare evasion": "rail.fare_evasion",
    "smoking on trains": "rail.smoking",
    "reselling tickets": "rail.ticket_reselling",
    "not visiting parents": "family.not_visiting_parents",
    "exam cheating": "education.exam_cheating",
    "unauthorised births": "family.unauthorised_birth",
    "illegal parking": "traffic.illegal_parking",
    "marriage-registration fraud": "civil.marriage_fraud",
    "red lights": "traffic.red_light",
    "unpaid parking": "traffic.unpaid_parking",
    "quitting without notice": "employment.quit_without_notice",
    "unpaid electricity": "utility.unpaid_bill",
    "honking": "traffic.honking",
    "dog off leash": "pet.dog_off_leash",
    "dog without tag": "pet.dog_no_tag",
    "dog waste not cleaned": "pet.dog_waste_not_cleaned",
    "court-judgment default": "judicial.judgment_default",
    "court-judgment fulfilment": "judicial.judgment_fulfilled",
    "unpaid tax": "tax.arrears",
    "late loan or bill": "finance.late_payment",
    "fake news": "online.fake_news",
    "terror hoaxes": "public_order.terror_hoax",
    "disorderly conduct": "public_order.disorderly_conduct",
    "insincere apology": "social.insincere_apology",
    "illegal petitioning": "public_order.illegal_petitioning",
    "critical posts": "online.critical_post",
    "positive energy posts": "online.positive_energy_post",
    "gaming hours": "online.gaming_hours",
    "responsible purchases": "commerce.responsible_purchase",
    "identity verification": "identity.verified",
    "volunteering": "social.volunteering",
    "donations": "social.donation",
    "blood donation": "social.blood_donation",
    "visiting parents": "family.visiting_parents",
    "bills paid on time": "finance.bill_paid_on_time",
    "honours": "social.honour",
    "exam passed (dog owners)": "pet.owner_exam_passed",
    "reporting someone else's trust-breaking": "social.report_trust_breaking",
    "environmental violations": "org.environmental_violation",
    "food-safety violations": "org.food_safety_violation",
    "unpaid wages": "org.unpaid_wages",
    "tax arrears (organisations)": "tax.arrears",
    "serious dishonesty findings": "org.serious_dishonesty",
}

KEEPING = {
    "judicial.judgment_fulfilled", "online.positive_energy_post", "commerce.responsible_purchase",
    "identity.verified", "social.volunteering", "social.donation", "social.blood_donation",
    "family.visiting_parents", "finance.bill_paid_on_time", "social.honour",
    "pet.owner_exam_passed", "social.report_trust_breaking",
}  # fmt: skip
ORGANISATION = {
    "org.environmental_violation", "org.food_safety_violation", "org.unpaid_wages",
    "tax.arrears", "org.serious_dishonesty",
}  # fmt: skip

ACTIONS = [
    "travel.flight", "travel.high_speed_rail", "travel.soft_sleeper", "travel.exit_country",
    "lodging.star_hotel", "leisure.nightclub", "leisure.restaurant", "leisure.golf",
    "property.purchase", "property.rent", "finance.loan", "finance.credit_card",
    "employment.civil_service", "employment.management", "education.private_school",
    "organisation.register", "government.subsidy", "government.procurement", "internet.speed",
    "utility.price", "social_security.benefits", "pet.keep_dog",
]  # fmt: skip
REWARDS = [
    "rental.deposit_free", "hotel.deposit_free", "hospital.priority", "finance.loan_discount",
    "utility.discount", "visa.fast_track", "airport.vip_checkin", "dating.profile_boost",
    "government.green_channel", "business.startup_support", "education.scholarship",
]  # fmt: skip


@pytest.mark.parametrize(("behaviour", "category"), NAMED_BEHAVIOURS.items())
def test_every_named_behaviour_has_a_category(behaviour: str, category: str) -> None:
    assert category in vocabulary().categories, behaviour


def test_directions_and_subject_kinds_fit_what_they_record() -> None:
    cats = vocabulary().categories
    for ident in NAMED_BEHAVIOURS.values():
        expected = "keeping" if ident in KEEPING else "breaking"
        assert cats[ident].direction == expected, ident
    for ident in ORGANISATION:
        assert "organisation" in cats[ident].subject_kinds, ident
    assert cats["traffic.honking"].subject_kinds == ("vehicle",)
    assert set(cats["pet.dog_off_leash"].subject_kinds) == {"dog"}
    assert cats["online.gaming_hours"].unit == "hours"


def test_every_category_is_complete() -> None:
    voc = vocabulary()
    areas = set()
    for cat in voc.categories.values():
        assert cat.area in AREAS, cat.id
        assert cat.direction in DIRECTIONS, cat.id
        assert cat.unit in UNITS, cat.id
        assert cat.description.strip(), cat.id
        assert cat.subject_kinds and set(cat.subject_kinds) <= set(SUBJECT_KINDS), cat.id
        assert cat.sources and all(s in voc.sources for s in cat.sources), cat.id
        assert cat.cite.strip(), f"{cat.id} does not say where the sources name it"
        areas.add(cat.area)
    assert areas == set(AREAS)


def test_every_source_reports_something() -> None:
    voc = vocabulary()
    for sid in voc.sources:
        assert voc.categories_for(sid), f"source {sid} may report nothing"


@pytest.mark.parametrize("action", ACTIONS)
def test_restriction_actions_exist_with_a_department(action: str) -> None:
    act = vocabulary().action(action)
    assert act.kind == "restriction" and act.department and act.description


@pytest.mark.parametrize("action", REWARDS)
def test_reward_actions_exist_with_a_department(action: str) -> None:
    act = vocabulary().action(action)
    assert act.kind == "reward" and act.department and act.description


def test_disclosure_channels_the_documents_name() -> None:
    channels = vocabulary().channels
    for channel in (
        "credit_website",
        "roadside_scoreboard",
        "caller_ringtone",
        "model_poster",
        "integrity_story",
    ):
        assert f"disclose.{channel}" in channels


def test_unknown_names_suggest_close_ones() -> None:
    from socialcredit.errors import VocabularyError

    with pytest.raises(VocabularyError, match=r"travel\.flight"):
        vocabulary().action("travel.flights")
    with pytest.raises(VocabularyError, match=r"rail\.smoking"):
        vocabulary().category("rail.smokng")
