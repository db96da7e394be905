"""REST API of file imports: POST /api/imports with an uploaded file or a server-side path."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from touchpath.collect.importers import ImportMapping, ImportReport, import_file, source_name_for
from touchpath.errors import BadRequest, ImportFailed
from touchpath.web.deps import StoreDep

__all__ = ["ImportRequest", "router"]

router = APIRouter(prefix="/api/imports", tags=["imports"])


class ImportRequest(BaseModel):
    """A JSON import request for a file the server can read."""

    path: str
    mapping: ImportMapping = ImportMapping()
    source: str | None = None
    format: str | None = None
    max_bad_rows: int = 1000


def _mapping(text: str | None) -> ImportMapping:
    if not text:
        return ImportMapping()
    try:
        return ImportMapping.model_validate(orjson.loads(text))
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"mapping: not JSON: {exc}") from None
    except ValidationError as exc:
        raise BadRequest(f"mapping: {_first_error(exc)}") from None


def _first_error(exc: ValidationError) -> str:
    e = exc.errors()[0]
    where = ".".join(str(p) for p in e["loc"])
    return f"{where}: {e['msg']}" if where else str(e["msg"])


def _run(store: Any, path: Path, req: ImportRequest) -> ImportReport:
    try:
        return import_file(
            store,
            path,
            req.mapping,
            source=req.source,
            fmt=req.format,
            max_bad_rows=req.max_bad_rows,
        )
    except ImportFailed as exc:
        raise BadRequest(str(exc)) from None


@router.post("", response_model=ImportReport, summary="Import a file of events")
async def create_import(request: Request, store: StoreDep) -> ImportReport:
    """Import a file and return the report.

    Either `multipart/form-data` with `file` (the upload) and optional `mapping` (JSON of
    ImportMapping), `source`, `format` and `max_bad_rows` fields, or a JSON `ImportRequest` body
    naming a `path` on the server. Re-sending the same file imports nothing twice.
    """
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise BadRequest("file: required (a multipart file field named 'file')")
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        try:
            req = ImportRequest(
                path=upload.filename,
                mapping=_mapping(fields.get("mapping")),
                source=fields.get("source") or None,
                format=fields.get("format") or None,
                max_bad_rows=int(fields.get("max_bad_rows") or 1000),
            )
        except ValueError as exc:
            raise BadRequest(f"max_bad_rows: {exc}") from None
        with tempfile.TemporaryDirectory(prefix="touchpath-import-") as tmp:
            path = Path(tmp) / Path(upload.filename).name
            with path.open("wb") as out:
                await run_in_threadpool(shutil.copyfileobj, upload.file, out)
            if req.source is None:
                req = req.model_copy(update={"source": source_name_for(path)})
            report = await run_in_threadpool(_run, store, path, req)
        return report.model_copy(update={"file": upload.filename})
    try:
        req = ImportRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        raise BadRequest(f"body: {_first_error(exc)}") from None
    return await run_in_threadpool(_run, store, Path(req.path), req)
