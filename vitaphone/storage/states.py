"""The job state machine: states, legal transitions and the error for an illegal one.

    received -> awaiting_consent -> awaiting_review -> queued -> running(stage, progress)
             -> done | failed | cancelled | rejected

Shortcuts skip steps that do not apply (consent already on record, no review in this chat);
`running -> running` records a new stage; `running -> queued` is a retry after a transient
failure. The four end states are final.
"""

from __future__ import annotations

from enum import StrEnum

from vitaphone.core.errors import VitaphoneError


class JobState(StrEnum):
    RECEIVED = "received"
    AWAITING_CONSENT = "awaiting_consent"
    AWAITING_REVIEW = "awaiting_review"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.REJECTED})

_S = JobState
LEGAL_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    _S.RECEIVED: frozenset(
        {_S.AWAITING_CONSENT, _S.AWAITING_REVIEW, _S.QUEUED, _S.CANCELLED, _S.REJECTED, _S.FAILED}
    ),
    _S.AWAITING_CONSENT: frozenset({_S.AWAITING_REVIEW, _S.QUEUED, _S.CANCELLED, _S.REJECTED}),
    _S.AWAITING_REVIEW: frozenset({_S.QUEUED, _S.CANCELLED, _S.REJECTED}),
    _S.QUEUED: frozenset({_S.RUNNING, _S.CANCELLED, _S.FAILED}),
    _S.RUNNING: frozenset({_S.RUNNING, _S.QUEUED, _S.DONE, _S.FAILED, _S.CANCELLED}),
    _S.DONE: frozenset(),
    _S.FAILED: frozenset(),
    _S.CANCELLED: frozenset(),
    _S.REJECTED: frozenset(),
}

# States whose entry must say why (stored as the job's error_code / error_message).
NEEDS_ERROR = frozenset({JobState.FAILED, JobState.REJECTED})


class IllegalTransition(VitaphoneError):
    """A job was asked to move between two states the state machine does not connect."""

    def __init__(self, job_id: str, from_state: JobState, to_state: JobState) -> None:
        allowed = ", ".join(sorted(LEGAL_TRANSITIONS[from_state])) or "none (final state)"
        super().__init__(
            f"job {job_id}: illegal transition {from_state.value} -> {to_state.value} "
            f"(allowed from {from_state.value}: {allowed})"
        )
        self.job_id = job_id
        self.from_state = from_state
        self.to_state = to_state


class JobNotFound(VitaphoneError):
    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job with id {job_id!r}")
        self.job_id = job_id


def is_legal(from_state: JobState, to_state: JobState) -> bool:
    return to_state in LEGAL_TRANSITIONS[from_state]
