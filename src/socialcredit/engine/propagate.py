"""Consequences that travel along dated relations.

``propagate`` on a list: an organisation listed lists its legal representatives, while both the
listing and the relation hold on the evaluation date (``since`` is the later of the two starts,
``until`` the earlier of the two ends). Propagation goes one step, from subjects listed for their
own reasons (records, other lists, scores), never from subjects who are themselves listed through
someone else.

``via`` on a measure: a listed parent's child is refused a private school. The measure falls on
the related subjects, not on the listed one.

``to: subject`` goes from the relation's object to its subject (organisation -> its legal
representative for ``legal_representative_of``), ``to: object`` from subject to object (parent ->
child for ``parent_of``), ``to: both`` both ways.

Example:
    >>> import numpy as np
    >>> src, dst = ends(np.array([7]), np.array([9]), "subject")   # 7 represents 9
    >>> src.tolist(), dst.tolist()                                  # from 9 to 7
    ([9], [7])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from socialcredit.engine.compile import CList
from socialcredit.engine.data import RelationArrays, SubjectArrays
from socialcredit.engine.kernels import ends
from socialcredit.engine.lists import VIA, Membership, Reasons, exempt_mask


@dataclass
class Links:
    """Pairs ``(receiver, source)`` with the interval both the source's standing and the
    relation hold; ``relation`` names the relation kind."""

    receiver: np.ndarray
    source: np.ndarray
    since: np.ndarray
    until: np.ndarray
    relation: str


def follow(
    relations: RelationArrays,
    relation: str,
    to: str,
    day: int,
    holders: np.ndarray,
    since: np.ndarray,
    until: np.ndarray,
) -> Links:
    """The subjects reached on ``day`` from ``holders`` (sorted codes, with their standing's
    ``since``/``until``) along ``relation`` in direction ``to``."""
    rs, ro, rsince, runtil = relations.on(day, relation)
    src, dst = ends(rs, ro, to)
    if to == "both":
        rsince, runtil = np.concatenate([rsince, rsince]), np.concatenate([runtil, runtil])
    if not len(holders) or not len(src):
        z = np.zeros(0, np.int64)
        return Links(z.astype(np.int32), z.astype(np.int32), z, z, relation)
    i = np.minimum(np.searchsorted(holders, src), len(holders) - 1)
    hit = holders[i] == src
    i = i[hit]
    return Links(
        dst[hit].astype(np.int32),
        src[hit].astype(np.int32),
        np.maximum(since[i], rsince[hit]),
        np.minimum(until[i], runtil[hit]),
        relation,
    )


def propagated_reasons(
    lst: CList, direct: Membership, relations: RelationArrays, subjects: SubjectArrays, day: int
) -> list[Reasons]:
    """Reasons for subjects listed through ``lst.propagate`` from its direct members."""
    out = []
    for j, via in enumerate(lst.propagate):
        links = follow(relations, via.relation, via.to, day, direct.subjects, direct.since, direct.until)
        ok = exempt_mask(lst, subjects, links.receiver, day) & (links.receiver != links.source)
        out.append(Reasons.of(links.receiver[ok], links.since[ok], links.until[ok], VIA, links.source[ok], j))
    return out
