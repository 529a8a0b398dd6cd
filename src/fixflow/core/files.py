"""Serving stored files (attachments, thumbnails, signatures) under ASGI as well as WSGI."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import FileResponse


class StoredFileResponse(FileResponse):
    """A ``FileResponse`` that an ASGI server (``fixflow serve``) streams in chunks.

    Django's ``FileResponse`` iterates its file synchronously; under ASGI, Django then reads the whole
    iterator into a list before sending anything (and warns "StreamingHttpResponse must consume
    synchronous iterators"): a 20 MB photo is held in memory whole, per download. Here each chunk is read
    in a worker thread and sent as it comes. Under WSGI (and the test client) nothing changes.
    """

    block_size = 256 * 1024

    async def __aiter__(self):
        chunks = iter(self.streaming_content)
        end = object()
        read = sync_to_async(next, thread_sensitive=False)
        while (chunk := await read(chunks, end)) is not end:
            yield chunk
