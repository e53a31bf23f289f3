"""The transparency log (``ledger.infra.transparency``): signed checkpoints (public), inclusion and
consistency proofs (signed callers) and the export bundle (the operator and auditors)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.access import AUDITOR, OPERATOR, Caller
from api.auth import SECURITY, Signed, allow
from api.deps import PagingDep, PublishedDep, ReaderDep
from api.openapi import problems
from api.schemas import ConsistencyProof, InclusionProof, SignedCheckpoint, SignedCheckpointPage
from ledger.infra.transparency.service import SignedCheckpoint as Stored

router = APIRouter(prefix="/log", tags=["log"])
Size = Annotated[int, Query(alias="treeSize", ge=1, le=2**62, description="the tree size the proof is for")]


@router.get("/checkpoint", response_model=SignedCheckpoint, operation_id="getCheckpoint", responses=problems(404),
            summary="The published checkpoint: the newest one the witness policy's quorum cosigned (C2SP signed note)",
            description="With `TRAJECTLEDGER_WITNESS_POLICY` set, the newest stored checkpoint whose witness "
                        "cosignatures make the policy's quorum (its `tree_size` says which; it may lag the log by "
                        "a witnessing round), 404 `checkpoint.not-witnessed` while none does. Without a policy, "
                        "the newest stored checkpoint. The newest one, before witnesses cosign it: "
                        "`/log/checkpoint/newest`.")
def checkpoint(published: PublishedDep) -> Any:
    return _checkpoint(published.newest())


@router.get("/checkpoint/newest", response_model=SignedCheckpoint, operation_id="getNewestCheckpoint",
            summary="A checkpoint of the whole log now, signed by the operator, with the cosignatures it has so far")
def newest_checkpoint(reader: ReaderDep) -> Any:
    return reader.checkpoint()


@router.get("/checkpoints", response_model=SignedCheckpointPage, operation_id="listCheckpoints",
            responses=problems(400), summary="Every stored checkpoint, oldest first")
def checkpoints(paging: PagingDep, reader: ReaderDep) -> Any:
    items, total = reader.checkpoints(paging.offset, paging.limit)
    return {"items": items, "limit": paging.limit, "offset": paging.offset, "total": total}


@router.get("/inclusion-proof", response_model=InclusionProof, operation_id="getInclusionProof",
            openapi_extra=SECURITY, responses=problems(400, 401, 404),
            summary="RFC 9162 inclusion proof of one entry in the tree of a given size")
def inclusion_proof(caller: Signed, reader: ReaderDep, size: Size,
                    log_index: Annotated[int, Query(alias="logIndex", ge=0, le=2**62)]) -> Any:
    return reader.inclusion_proof(log_index, size)


@router.get("/consistency-proof", response_model=ConsistencyProof, operation_id="getConsistencyProof",
            openapi_extra=SECURITY, responses=problems(400, 401, 404),
            summary="RFC 9162 consistency proof between two tree sizes")
def consistency_proof(caller: Signed, reader: ReaderDep, size: Size,
                      old_size: Annotated[int, Query(alias="oldSize", ge=1, le=2**62)]) -> Any:
    return reader.consistency_proof(old_size, size)


@router.get("/export", operation_id="downloadExport", openapi_extra=SECURITY,
            responses={200: {"description": "the export bundle as .tar.gz (verify it with `trajectledger verify`); "
                                            "an auditor's holds the entries of the funders it audits and the "
                                            "registry, every other entry as its leaf hash",
                             "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}}},
                       **problems(400, 401, 403)},
            summary="The signed log as an export bundle: whole for the operator, scoped to the mandate for an auditor")
def export(reader: ReaderDep, caller: Annotated[Caller, Depends(allow(OPERATOR, AUDITOR))]) -> FileResponse:
    archive = reader.export(caller)
    return FileResponse(archive.path, media_type="application/gzip", filename=archive.filename,
                        background=BackgroundTask(archive.remove))


def _checkpoint(signed: Stored) -> dict[str, Any]:
    return {"tree_size": signed.tree_size, "root_hash": signed.root_hash.hex(), "note": signed.note.decode("utf-8"),
            "created_at": signed.created_at}
