"""Regenerate src/trustramp/targeting/vectors/bucketing.json from the spec.

Run from the repository root: ``python -m tests.targeting.make_bucketing_vectors``.
Uses only the pure-Python reference hash, never the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.targeting.murmur3_reference import reference_bucket_hash

FEATURES = ["summarize", "portfolio-advice", "code-generation", "f", "Ärger-détecteur"]
UNIT_IDS = ["user-1", "user-2", "42", "a", "ab", "abc", "abcd", "abcde", "usér-ß", "用户-7",
            "👩\u200d💻", "00000000-0000-4000-8000-000000000000", "x" * 64]
SPEC = ("bucket = MurmurHash3_x86_32(utf8(feature_key + '\\x1f' + unit_id), seed=0) / 2**32; "
        "hash is the unsigned 32-bit integer")

OUTPUT = Path(__file__).resolve().parents[2] / "src/trustramp/targeting/vectors/bucketing.json"


def main() -> None:
    vectors = []
    for feature in FEATURES:
        for unit in UNIT_IDS:
            h = reference_bucket_hash(feature, unit)
            vectors.append({"feature_key": feature, "unit_id": unit, "hash": h,
                            "bucket": h / 2**32})
    OUTPUT.write_text(json.dumps({"spec": SPEC, "vectors": vectors}, indent=1,
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors to {OUTPUT}")


if __name__ == "__main__":
    main()
