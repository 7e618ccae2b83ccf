"""Server-rendered pages for supervisors, agents, trainers and admins (Jinja2, htmx, wavesurfer.js, uPlot), in the
API's app and on its services, sessions and roles."""

from fastapi import FastAPI

from api.web import pages, sections


def mount(app: FastAPI) -> None:
    pages.mount(app)
    sections.mount(app)


__all__ = ["mount"]
