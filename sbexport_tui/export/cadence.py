"""How often a watcher asks the Platform: the poll interval, paced by the API budget.

The rules, once for every front end (``watcher.Watcher`` applies them):
- The base interval is the front end's (``sbexport export --wait --poll-interval``), or, when
  it gives none (the jobs pane), one from the number of open jobs: every 2 s for a bulk call's
  worth, 5 s up to 1,000, 10 s up to 5,000, 20 s beyond (more jobs, more calls per pass).
- Polling never takes more than half of the budget left in the window: a pass's requests
  (the last pass's count, or one per 100 open jobs before the first) spread over the time to
  the window's reset ("paced: N requests a poll"); under a fifth of the window left the budget
  is "low" and said so.
- While the budget says requests must wait (a 429, the budget used up), the next pass waits
  at least that long.
- Never more than ``CAP`` seconds between two passes, unless the front end's own interval is
  longer.
"""

from __future__ import annotations

import math

from ..api.ratelimit import BudgetState

BULK = 100  # jobs per bulk status call (the docs' limit)
CAP = 300.0  # the longest wait between two passes
LOW_BUDGET = 0.2  # the API budget is low under a fifth of the window's requests left
RESERVE = 50  # requests left aside for the user's own actions


def base_interval(open_jobs: int) -> float:
    """The pace without a front end's own interval: slower as a pass needs more calls."""
    if open_jobs <= BULK:
        return 2.0
    if open_jobs <= 1000:
        return 5.0
    if open_jobs <= 5000:
        return 10.0
    return 20.0


def budget_low(state: BudgetState | None) -> bool:
    """Genuinely low: under a fifth of the window's requests left (where the budget itself
    starts to spread what is left until the reset)."""
    return bool(
        state is not None
        and state.remaining is not None
        and state.limit
        and state.remaining < LOW_BUDGET * state.limit
    )


def poll_interval(
    open_jobs: int,
    budget: BudgetState | None,
    now: float,
    *,
    base: float | None = None,
    calls: int | None = None,
) -> tuple[float, str]:
    """Seconds until the next poll, and why it is later than the base (for a status line).
    ``now`` is on the budget's clock (epoch seconds); ``calls``: the requests a pass makes."""
    interval = base_interval(open_jobs) if base is None else base
    why = ""
    if calls is None:
        calls = math.ceil(open_jobs / BULK)
    calls = max(1, calls)
    if budget is not None and budget.remaining is not None and budget.reset_at is not None:
        reset_in = max(0.0, budget.reset_at - now)
        spare = max(1, budget.remaining - RESERVE)
        share = 2.0 * calls * reset_in / spare
        if share > interval:
            interval = share
            if budget_low(budget):
                why = f"API budget low: {budget.remaining} left"
            else:
                why = f"paced: {calls} request{'s' if calls > 1 else ''} a poll"
    if budget is not None and budget.waiting_until is not None and budget.waiting_until > now:
        wait = budget.waiting_until - now
        if wait > interval:
            interval = wait
            why = f"waiting: {budget.reason or 'API budget'}"
    # the cap bounds what the budget adds: an interval the user chose longer is kept
    return min(interval, max(CAP, base or 0.0)), why
