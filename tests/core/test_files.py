"""Stored files are streamed in chunks under ASGI (``fixflow serve``), not read into memory whole."""

import asyncio
import io
import os
import warnings

from fixflow.core.files import StoredFileResponse


def _collect(response) -> list[bytes]:
    async def run():
        return [chunk async for chunk in response]

    return asyncio.run(run())


def test_an_asgi_server_gets_the_file_chunk_by_chunk_without_a_warning():
    # given a file of 600 KB
    data = os.urandom(600 * 1024)
    response = StoredFileResponse(io.BytesIO(data), content_type="application/octet-stream")
    # when an ASGI server iterates the response
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it must read a synchronous iterator whole
        chunks = _collect(response)
    # then it gets the whole file, in chunks of 256 KB
    assert b"".join(chunks) == data
    assert [len(c) for c in chunks] == [256 * 1024, 256 * 1024, 88 * 1024]
