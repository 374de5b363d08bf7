"""The narrative fields of the quarterly report: their keys, the labels the seed prints, and order.

Shared by the template (one row per field) and the report (one block per field). Labels are the
seed's headings (Luton, January-March 2008); the line cites where each is printed.
"""

from __future__ import annotations

# (field, label, seed line, group). group "action_plan" fields sit under the heading
# "SUMMARY OF THE ACTION PLAN:" (001:L62, L117).
INDICATOR_FIELDS: list[tuple[str, str, int | None, str | None]] = [
    ("subtitle", "Aim", 176, None),
    ("commentary", "Commentary", 46, None),
    ("commentary_and_planned_action", "Commentary and planned action to improve", 101, None),
    ("planned_action", "Planned Action to improve", 48, None),
    ("action_plan_summary", "Actions For Improvement", 64, "action_plan"),
    ("predicted_scale_of_improvement", "Predicted Scale of Improvement", 66, "action_plan"),
    ("overall_action_plan_rag", "Current overall progress on action plan", 66, "action_plan"),
    ("milestones", "Milestones", 68, "action_plan"),
    (
        "actions_due",
        "Which actions were to have been achieved by the end of this period?",
        70,
        "action_plan",
    ),
    ("achieved", "Were they achieved? (If no, reason for non-achievement)", 72, "action_plan"),
    ("owner", "Owner", None, "action_plan"),
    ("footnote", "Footnote", 172, None),
]
ACTION_PLAN_HEADING = "SUMMARY OF THE ACTION PLAN:"

# Report-level fields (001:L1-32). item > 0 for list fields (headline news, key entries).
REPORT_FIELDS: list[tuple[str, str, int | None]] = [
    ("title", "Report title", 1),
    ("department", "Department", 3),
    ("headline_news_heading", "Headline news heading", 5),
    ("headline_news", "Headline news item", 7),
    ("overall_action_plan_rag", "Overall action plan RAG (green, amber or red)", None),
    ("date_cib", "Date CIB", 11),
    ("provisional_caveat", "Provisional data caveat", 13),
    ("director", "Director", 15),
    ("date_dmt", "Date DMT", 15),
    ("portfolio_holder", "Portfolio Holder", 16),
    ("date_portfolio_holder", "Date Portfolio Holder", 16),
    ("version", "Version", 18),
    ("key_financial_drivers", "Key financial drivers note", 28),
    ("intranet", "Further information", 30),
]
LIST_FIELDS = (
    "headline_news",
    "key",
    "section_heading",
    "section_description",
    "commentary_figure",
)
RAG_FIELDS = ("overall_action_plan_rag",)
RAG_WORDS = ("green", "amber", "red")
