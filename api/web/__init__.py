"""Server-rendered pages for supervisors and trainers (Jinja2, htmx, wavesurfer.js), in the API's app and on its
services, sessions and roles."""

from api.web.pages import mount

__all__ = ["mount"]
