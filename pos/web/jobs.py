"""Background jobs on screen: a job's page with its progress bar (updated by a small script polling the JSON status,
or by a refresh without JavaScript), its outcome and what it refused; and the list of recent jobs."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, g, jsonify, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from pos import jobs
from pos.db import db
from pos.models import Job
from pos.permissions import has_permission, require

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

# The page and the list are the catalog import's for now (the only kind); each job is also checked against its
# own kind's permission.
PERMISSION = "catalog.manage"
RECENT = 50

STATE_LABELS = {
    jobs.QUEUED: _l("Waiting to start"),
    jobs.RUNNING: _l("Running"),
    jobs.DONE: _l("Finished"),
    jobs.FAILED: _l("Stopped with a problem"),
    jobs.CANCELLED: _l("Cancelled"),
}
PHASE_LABELS = {
    "check": _l("Checking the file"),
    "apply": _l("Importing"),
}
# Where a job's page leads back to, by kind.
BACK = {
    "catalog.import": ("catalog_io.index", _l("Product catalog file")),
}


def _visible_kinds() -> list[str]:
    return [name for name, kind in jobs.KINDS.items() if has_permission(g.user.role, kind.permission)]


def _job_or_404(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.kind not in _visible_kinds():
        abort(404)
    return job


def _status(job: Job) -> dict:
    """What the page shows of the job, as plain values (the JSON status and the template share it)."""
    kind = jobs.KINDS[job.kind]
    result = job.result or {}
    state = jobs.progress(job)
    phase = result.get("phase") if job.state in jobs.ACTIVE_STATES else None
    checking = phase == "check" or (job.state in jobs.ACTIVE_STATES and not job.cursor)
    state.update(
        state_label=str(STATE_LABELS.get(job.state, "")),
        phase=phase or ("check" if checking else None),
        phase_label=str(PHASE_LABELS["check"]) if checking else str(PHASE_LABELS.get(phase, "")) if phase else "",
        # while the file is checked the number of rows is not known yet: an indeterminate bar
        indeterminate=checking or (job.state in jobs.ACTIVE_STATES and not job.total),
        message=gettext(job.error, **result.get("error_params", {})) if job.state == jobs.FAILED and job.error
        else "",
        # what was done: at the end, or up to a failure (earlier chunks stay written)
        summary=[{"key": key, "label": gettext(label), "count": count} for key, label, count in kind.summary(result)]
        if kind.summary is not None and (job.state == jobs.DONE or (job.state == jobs.FAILED and job.done)) else [],
    )
    if checking:
        state["percent"] = 0
    return state


@bp.get("/")
@require(PERMISSION)
def index():
    kinds = _visible_kinds()
    recent = db.session.scalars(sa.select(Job).where(Job.kind.in_(kinds)).order_by(Job.id.desc()).limit(RECENT)).all()
    return render_template("jobs/index.html", jobs=recent, labels={j.id: _status(j) for j in recent},
                           kinds=jobs.KINDS)


@bp.get("/<int:job_id>")
@require(PERMISSION)
def show(job_id: int):
    job = _job_or_404(job_id)
    endpoint, back_label = BACK.get(job.kind, ("jobs.index", _l("Background jobs")))
    result = job.result or {}
    return render_template("jobs/show.html", job=job, kind=jobs.KINDS[job.kind], status=_status(job),
                           errors=result.get("errors", []), error_count=result.get("error_count", 0),
                           back_url=url_for(endpoint), back_label=back_label)


@bp.get("/<int:job_id>/status")
@require(PERMISSION)
def status(job_id: int):
    return jsonify(_status(_job_or_404(job_id)))
