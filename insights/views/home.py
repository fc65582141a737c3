"""The logged-in home page (`/`, named `dashboard`): what this role's cost looks like today."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.timezone import localdate

from billing.ingest.views import IngestUploadView
from insights.home import home_for
from insights.scores.pages import league, score_board
from insights.serializers import answer_json
from portal.core.permissions import may_write
from portal.users.roles import Role

# Who sees the league of all teams' scores, and who their own teams' scores.
LEAGUE_ROLES = frozenset({Role.ADMIN, Role.FINANCE})


@login_required
def home_view(request: HttpRequest) -> HttpResponse:
    home = home_for(user=request.user, today=localdate())
    context = {
        "home": home,
        "chart_answer": answer_json(home.chart) if home.has_cost else None,
        "can_ingest": may_write(request.user, IngestUploadView.write_roles),
        **_scores(request.user),
    }
    return render(request, "insights/home.html", context)


def _scores(user: Any) -> dict[str, Any]:
    if user.role == Role.TEAM_LEAD:
        board = score_board(user=user)
        if not board.cards:
            return {}
        return {"scores": board, "score_trends": board.trends_json() or None}
    if user.role in LEAGUE_ROLES:
        board = score_board(user=user, weeks=2)
        return {"scores": board, "score_league": league(board)}
    return {}
