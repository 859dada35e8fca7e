"""GET /media/{name}: the pictures members uploaded (domain/media.py), as files.

Names are the random ones storage/media_files.py gives (anything else is 404, so no path
leaves the media directory). A file never changes under its name: it is cached for a year.
The type comes from the name, which comes from the bytes; `nosniff` keeps browsers from
guessing otherwise, and the sandboxing CSP keeps a file opened on its own from running anything.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from talentfed.storage.media_files import MediaFiles, media_type_of

HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "cross-origin",  # apps on other origins show them
}


async def media_file(request: Request) -> Response:
    name = request.path_params["name"]
    path = MediaFiles(request.app.state.config.media.directory).path(name)
    media_type = media_type_of(name)
    if path is None or media_type is None:
        return PlainTextResponse("Not found", status_code=404)
    return FileResponse(path, media_type=media_type, headers=HEADERS)


routes = [Route("/media/{name}", media_file, methods=["GET", "HEAD"])]
