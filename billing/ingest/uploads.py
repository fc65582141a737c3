"""Upload size limits, checked while the request streams in (never read whole into memory).

Bill files may be large (`PORTAL_MAX_BILL_UPLOAD_BYTES`, 2 GiB by default); a file sent
anywhere else is small (`PORTAL_MAX_UPLOAD_BYTES`, 10 MiB by default).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http.multipartparser import MultiPartParserError

from portal.core.sizes import size_text

# The addresses that take bill files: the upload page and POST /api/v1/ingests/.
BILL_UPLOAD_URL_NAMES = frozenset({"ingest-upload", "ingest-api-list"})


def bill_upload_limit() -> int:
    return int(settings.PORTAL_MAX_BILL_UPLOAD_BYTES)


def too_large_message(name: str, limit: int, what: str = "a bill file") -> str:
    return f"{name} is larger than the {size_text(limit)} allowed for {what}."


class OversizedUpload(UploadedFile):
    """Stands in for a bill file that passed the limit: its size, none of its bytes.

    The ingest service refuses it by name, so the page shows a form error and the API a 400.
    """

    def __init__(self, name: str, size: int, content_type: str | None) -> None:
        super().__init__(io.BytesIO(b""), name=name, content_type=content_type, size=size)


class UploadTooLarge(MultiPartParserError):
    """A file other than a bill passed its (small) limit; the request is refused."""


class SizeLimitUploadHandler(FileUploadHandler):
    """Counts each file's bytes as they arrive and stops passing them on past the limit.

    Must come first in FILE_UPLOAD_HANDLERS, so that the handlers after it never receive
    more than the limit.
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        match = getattr(request, "resolver_match", None)
        self.for_bills = getattr(match, "url_name", None) in BILL_UPLOAD_URL_NAMES
        self.limit = (
            bill_upload_limit() if self.for_bills else int(settings.PORTAL_MAX_UPLOAD_BYTES)
        )
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received <= self.limit:
            return raw_data
        if not self.for_bills:
            name = self.file_name or "upload"
            raise UploadTooLarge(too_large_message(name, self.limit, "an upload"))
        return None  # the rest is read and dropped; the file is refused when complete

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received <= self.limit:
            return None  # the next handler keeps the file
        return OversizedUpload(self.file_name or "upload", self.received, self.content_type)
