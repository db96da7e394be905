"""REST API of file imports: an uploaded file (`POST /api/imports`, multipart) or a file inside the
configured import folder (`POST /api/imports/path`, JSON). No other path on the server is read.

Uploads are streamed to a temporary file and capped at `TOUCHPATH_MAX_UPLOAD_BYTES` (413 over it,
enforced while reading by `touchpath.web.limits.BodyLimit`); path imports are off unless
`TOUCHPATH_IMPORT_DIR` is set, and a path that resolves outside it (`..`, a symlink, an absolute
path elsewhere) is refused with 403.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import orjson
from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from touchpath.collect.importers import ImportMapping, ImportReport, import_file, source_name_for
from touchpath.errors import BadRequest, Forbidden, ImportFailed
from touchpath.web.deps import StoreDep

__all__ = ["ImportPath", "inside_import_dir", "router"]

router = APIRouter(prefix="/api/imports", tags=["imports"])

_ERRORS: dict[int | str, dict[str, str]] = {
    400: {"description": "The file or its mapping is not valid; the message says what and where."},
    413: {"description": "The upload is over TOUCHPATH_MAX_UPLOAD_BYTES."},
}


class ImportPath(BaseModel):
    """Import a file from the server's import folder (TOUCHPATH_IMPORT_DIR)."""

    path: str = Field(min_length=1, description="Relative to the import folder (or inside it).")
    mapping: ImportMapping = ImportMapping()
    source: str | None = Field(default=None, max_length=200)
    format: str | None = Field(default=None, max_length=20)
    max_bad_rows: int = Field(default=1000, ge=0, le=1_000_000)


def _mapping(text: str | None) -> ImportMapping:
    if not text:
        return ImportMapping()
    try:
        return ImportMapping.model_validate(orjson.loads(text))
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"mapping: not JSON: {exc}") from None
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(p) for p in e["loc"])
        raise BadRequest(
            f"mapping.{where}: {e['msg']}" if where else f"mapping: {e['msg']}"
        ) from None


def inside_import_dir(folder: Path | None, path: str) -> Path:
    """The file `path` names inside `folder`, or Forbidden. Symlinks and `..` are resolved first,
    so nothing outside the folder can be named.

    >>> inside_import_dir(Path("/srv/imports"), "../../etc/passwd")
    Traceback (most recent call last):
    ...
    touchpath.errors.Forbidden: path: '../../etc/passwd' is outside the import folder /srv/imports
    """
    if folder is None:
        raise Forbidden(
            "path: imports from a server path are off; set TOUCHPATH_IMPORT_DIR to a folder, or "
            "upload the file (POST /api/imports, multipart)"
        )
    root = folder.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        raise Forbidden(f"path: {path!r} is outside the import folder {folder}")
    return target


def _run(store: StoreDep, path: Path, req: ImportPath) -> ImportReport:
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


@router.post("", response_model=ImportReport, responses=_ERRORS, summary="Import an uploaded file")
async def upload(
    store: StoreDep,
    file: Annotated[UploadFile, File(description="CSV, JSONL, Parquet or XES (optionally .gz).")],
    mapping: Annotated[str | None, Form(description="JSON of ImportMapping.")] = None,
    source: Annotated[str | None, Form(max_length=200)] = None,
    format: Annotated[str | None, Form(max_length=20)] = None,
    max_bad_rows: Annotated[int, Form(ge=0, le=1_000_000)] = 1000,
) -> ImportReport:
    """Import an uploaded file and return the report; re-sending it imports nothing twice."""
    name = Path(file.filename or "upload").name or "upload"
    req = ImportPath(
        path=name, mapping=_mapping(mapping), source=source or None, format=format or None,
        max_bad_rows=max_bad_rows,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="touchpath-import-") as tmp:
        path = Path(tmp) / name
        with path.open("wb") as out:
            await run_in_threadpool(shutil.copyfileobj, file.file, out)
        if req.source is None:
            req = req.model_copy(update={"source": source_name_for(path)})
        report = await run_in_threadpool(_run, store, path, req)
    return report.model_copy(update={"file": name})


@router.post(
    "/path",
    response_model=ImportReport,
    responses={**_ERRORS, 403: {"description": "Path imports are off, or the path is outside."}},
    summary="Import a file from the import folder",
)
async def from_path(body: ImportPath, request: Request, store: StoreDep) -> ImportReport:
    """Import a file inside TOUCHPATH_IMPORT_DIR (off when unset) and return the report."""
    path = inside_import_dir(request.app.state.settings.import_dir, body.path)
    if not path.is_file():
        raise BadRequest(f"path: {body.path!r} is not a file in the import folder")
    return await run_in_threadpool(_run, store, path, body)
