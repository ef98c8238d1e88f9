"""Rollout plans: the schema, YAML loading with precise error positions, lint, templates.

    >>> from trustramp.plan import load_plan_document, lint
    >>> document = load_plan_document("examples/plans/portfolio-advice.yaml")
    >>> [f.rule for f in lint(document.plan, positions=document.positions)]
    []
"""

from trustramp.plan.audience import AudienceEstimate, estimate_audience
from trustramp.plan.document import Positions
from trustramp.plan.errors import PlanError, PlanProblem, format_path
from trustramp.plan.lint import RULES, Finding, LintRule, has_errors, lint
from trustramp.plan.loader import (
    PlanDocument,
    load_plan_document,
    load_plan_file,
    parse_plan,
    parse_plan_document,
)
from trustramp.plan.schema import Plan, PlanFieldError
from trustramp.plan.templates import Scenario, template_text, write_template

__all__ = [
    "RULES",
    "AudienceEstimate",
    "Finding",
    "LintRule",
    "Plan",
    "PlanDocument",
    "PlanError",
    "PlanFieldError",
    "PlanProblem",
    "Positions",
    "Scenario",
    "estimate_audience",
    "format_path",
    "has_errors",
    "lint",
    "load_plan_document",
    "load_plan_file",
    "parse_plan",
    "parse_plan_document",
    "template_text",
    "write_template",
]
