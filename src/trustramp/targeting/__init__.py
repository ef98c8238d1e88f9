"""Targeting conditions and sticky bucketing.

Conditions are MongoDB-style query documents over a user's (or an input's)
attributes with the semantics of GrowthBook's SDK condition spec, as
implemented by the ``growthbook`` Python SDK 4.x (``evalCondition``), which the
tests check this code against on generated conditions::

    segment = compile_condition({"tier": {"$in": ["pro", "team"]}, "age": {"$gte": 18}})
    segment({"tier": "pro", "age": 30})            # True; compile once, call per request
    matches({"country": "DE"}, {"country": "DE"})   # one-off convenience, cached compile
    in_rollout("portfolio-advice", "user-42", 5.0)  # bucket(...) < 5 / 100

Semantics in brief (the README's targeting section has the full table):

- keys are dotted paths (``"father.age"``); lists expose canonical indices
  (``"tags.0"``) and ``length``; a missing path reads as ``None`` (null);
- a literal value means equality by JSON type and value (``1 == 1.0`` but
  ``1 != "1"`` and ``1 != True``); a literal list or object is compared deeply,
  objects including their key order (GrowthBook compares ``JSON.stringify``);
- a list attribute is not matched element-wise by a literal
  (``{"tags": "x"}`` does not match ``["x", "y"]``, as in GrowthBook): use
  ``$in`` (intersection), ``$all``, ``$elemMatch`` or ``$size``;
- ``$gt $gte $lt $lte`` order two numbers, or two strings (by UTF-16 code units,
  so ``"10" < "9"``), or a number and a decimal numeric string by value;
  anything else, including a missing attribute, fails every ordering;
- ``$veq ... $vlte`` compare GrowthBook's padded version strings
  (``1.2.3-rc.1 < 1.2.3 < 1.10.0``, leading ``v`` and ``+build`` ignored);
- ``$eq``/``$ne`` are JavaScript ``===`` on scalars; ``$ne``, ``$nin`` and
  ``$notRegex`` pass when the attribute is missing;
- an empty ``$or`` or ``$and`` passes, an empty ``$nor`` fails, ``{}`` passes.

Deviations from GrowthBook, all deliberate:

- invalid conditions raise :class:`ConditionError` (naming the JSON path) at
  compile time, where GrowthBook silently evaluates them to False: unknown
  operators, top-level keys starting with ``$`` other than ``$or $nor $and $not``
  (GrowthBook reads them as attribute names), operator arguments of the wrong
  type, ``$eq``/``$ne`` against a list or object (never/always true there),
  objects mixing operators with plain keys, saved groups;
- a number compared with a decimal numeric string by ``$gt $gte $lt $lte``
  compares numerically, as GrowthBook's spec cases and JavaScript SDK do
  (``{"n": {"$gt": 5}}`` matches ``{"n": "8"}``); the Python SDK 4.x answers False;
- attribute mappings that are not ``dict`` (any ``Mapping``) are read like dicts.
"""

from trustramp.targeting.bucketing import bucket, bucket_hash, in_rollout
from trustramp.targeting.conditions import Condition, compile_condition, matches
from trustramp.targeting.operators import ConditionError

__all__ = [
    "Condition",
    "ConditionError",
    "bucket",
    "bucket_hash",
    "compile_condition",
    "in_rollout",
    "matches",
]
