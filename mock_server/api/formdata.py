"""Multipart uploads parsed as they stream in (python-multipart, as starlette uses).

The ``file`` part goes straight to a file on disk and the size limit is enforced on the
way, so a 100 MB upload never sits in memory and an oversized one stops being read as
soon as it passes the limit (business code 40001, SOURCES.md "Files"). Small text fields
are kept; a second file part is refused (the service takes one file per request).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from mock_server.media.uploads import FileApiError, file_too_large

FIELD_MAX_BYTES = 4096


async def stream_form(
    request: Request, boundary: bytes, staged: Path, limit: int
) -> dict[str, Any]:
    """Parse the multipart body chunk by chunk: the ``file`` part goes to ``staged``, small
    text fields are kept (each at most 4 KiB); more than one file is refused."""
    form: dict[str, Any] = {}
    part: dict[str, Any] = {}
    header: list[bytes] = [b"", b""]
    out = staged.open("wb")

    def on_part_begin() -> None:
        part.clear()
        part.update(headers={}, data=bytearray(), size=0)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header[0] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header[1] += data[start:end]

    def on_header_end() -> None:
        part["headers"][header[0].decode("latin-1").lower()] = header[1].decode("latin-1")
        header[0], header[1] = b"", b""

    def on_headers_finished() -> None:
        _, params = parse_options_header(part["headers"].get("content-disposition", ""))
        part["name"] = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        part["is_file"] = part["name"] == "file" and filename is not None
        if filename is not None and part["is_file"]:
            if "file_name_seen" in form:
                raise FileApiError(400, "Only one file per request")
            form["file_name_seen"] = Path(filename.decode("utf-8", "replace")).name
            form["file_type"] = part["headers"].get("content-type")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part["size"] += end - start
        if part["is_file"]:
            if part["size"] > limit:
                raise file_too_large(limit)
            out.write(data[start:end])
        elif part["size"] <= FIELD_MAX_BYTES:
            part["data"] += data[start:end]
        else:
            raise FileApiError(400, f"Form field {part['name']} is too long")

    def on_part_end() -> None:
        if not part.get("is_file") and part.get("name"):
            form[part["name"]] = part["data"].decode("utf-8", "replace")

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
        "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    }
    parser = MultipartParser(boundary, callbacks)
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except (ValueError, IndexError) as exc:
        raise FileApiError(400, f"Malformed multipart body: {exc}") from None
    finally:
        out.close()
    return form
