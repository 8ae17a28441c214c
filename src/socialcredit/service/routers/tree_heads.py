"""``GET /v1/tree-heads``: the public key and every signed Merkle tree head, for anyone.

The heads are what makes the ledger checkable from outside (docs/proof.md): keep copies, and a
later head that does not extend an earlier one (``/v1/tree-heads/consistency``) shows that history
was rewritten. No token is needed and nothing personal is in them: roots, sizes, times and
signatures only. Inclusion proofs carry a record's text, so they are in each subject's own file
(``/v1/subjects/{id}/proofs``), not here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from socialcredit.errors import LedgerError
from socialcredit.ledger import Ledger
from socialcredit.ledger.proofs import CACHE, TREES, consistency_bundle, stored_heads
from socialcredit.service.auth import Anyone
from socialcredit.service.errors import ApiError, error_responses

router = APIRouter(prefix="/v1/tree-heads", tags=["transparency"])

TreeName = Annotated[
    str, Query(pattern="^(" + "|".join(TREES) + ")$", description="records, registry or actions")
]


def published_heads(
    ledger: Ledger, tree: str | None = None, after: int = 0, limit: int | None = None
) -> dict[str, Any]:
    """The public key (of the newest head), every key that signed, and the stored heads."""
    heads = [h.to_dict() for h in stored_heads(ledger, tree=tree, after=after, limit=limit)]
    keys = list(dict.fromkeys(h["public_key"] for h in heads))
    return {
        "public_key": heads[-1]["public_key"] if heads else None,
        "public_keys": keys,
        "trees": list(TREES),
        "heads": heads,
    }


@router.get("", responses=error_responses(422), summary="The public key and every signed tree head")
async def list_heads(
    ctx: Anyone,
    tree: Annotated[
        str | None, Query(pattern="^(" + "|".join(TREES) + ")$", description="Only this tree's heads.")
    ] = None,
    after: Annotated[int, Query(ge=0, le=2**62, description="Only heads with a larger `hid` (paging).")] = 0,
    limit: Annotated[int | None, Query(ge=1, le=100_000, description="At most this many heads.")] = None,
) -> dict[str, Any]:
    """Every stored signed head, oldest first: `tree`, `size`, `root`, `timestamp` (ms since
    1970 UTC), `signature` (Ed25519 over docs/proof.md's message) and the `public_key` that
    signed it. No token needed."""
    return await run_in_threadpool(published_heads, ctx.state.ledger, tree, after, limit)


@router.get(
    "/consistency",
    responses=error_responses(422),
    summary="A consistency proof between two sizes of a tree",
)
async def consistency(
    ctx: Anyone,
    old: Annotated[int, Query(ge=0, le=2**62, description="The older tree size.")],
    new: Annotated[int, Query(ge=0, le=2**62, description="The newer tree size.")],
    tree: TreeName = "records",
) -> dict[str, Any]:
    """The RFC 6962 proof that the tree of `old` leaves is a prefix of the tree of `new`, with
    the signed heads of those sizes when there are. Check it offline with
    `socialcredit proof --check FILE --public-key KEY`. No token needed."""
    ledger = ctx.state.ledger

    def make() -> dict[str, Any]:
        return consistency_bundle(ledger, tree, old, new, merkle=CACHE.tree(ledger, tree))

    try:
        return await run_in_threadpool(make)
    except LedgerError as exc:
        raise ApiError(422, str(exc), code="bad_sizes") from None
