"""Server-rendered pages for supervisors, agents, trainers and admins (Jinja2, htmx, wavesurfer.js, uPlot), in the
API's app and on its services, sessions and roles."""

from fastapi import FastAPI

from api.web.pages import mount as mount_pages
from api.web.sections import mount as mount_sections


def mount(app: FastAPI) -> None:
    mount_pages(app)
    mount_sections(app)


__all__ = ["mount"]
