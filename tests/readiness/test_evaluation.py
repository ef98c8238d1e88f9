"""Loading held-out files: what is read, and every problem as ``file:line: field: message``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tests.readiness.heldout import heldout_rows, write_csv, write_jsonl
from trustramp.readiness import EvalFileError, EvalSet, load_eval_file
from trustramp.readiness import evaluation as evaluation_module


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(EvalFileError) as caught:
        load_eval_file(path)
    assert isinstance(caught.value, ValueError)
    return str(caught.value).splitlines()


# -- what a good file gives ---------------------------------------------------------------


def test_csv_rows_columns_and_numeric_attributes(tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", (
        "id,confidence,correct,pattern,task,length,region\n"
        "a1,0.91,true,p1,table,12,eu\n"
        "a2, 0.5 ,No,p2,text,,us\n"
        "\n"
        'a3,1,YES,,"multi\nline",5.5,7\n'
    ))
    s = load_eval_file(path)
    assert s.n == 3
    assert s.confidence.tolist() == [0.91, 0.5, 1.0]
    assert s.correct.tolist() == [True, False, True]
    assert s.ids == ("a1", "a2", "a3")
    assert s.patterns == ("p1", "p2", None)
    # length is numeric in every non-empty cell; region is not (eu, us, 7)
    assert [dict(a) for a in s.attributes] == [
        {"task": "table", "length": 12, "region": "eu"},
        {"task": "text", "length": None, "region": "us"},
        {"task": "multi\nline", "length": 5.5, "region": "7"},
    ]
    assert s.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert s.path == str(path)


def test_jsonl_top_level_attributes_or_an_input_object(tmp_path: Path) -> None:
    path = write(tmp_path / "h.jsonl", (
        '{"confidence": 0.9, "correct": true, "task": "a", "id": 7, "size": 3}\n'
        "\n"
        '{"confidence": 1, "correct": 0, "input": {"tags": [1, 2], "n": NaN}, '
        '"output": {"text": "x"}, "pattern": "p"}\n'
    ))
    s = load_eval_file(path)
    assert s.correct.tolist() == [True, False]
    assert s.ids == ("7", None)
    assert s.patterns == (None, "p")
    assert s.outputs == (None, '{"text": "x"}')
    assert [dict(a) for a in s.attributes] == [{"task": "a", "size": 3},
                                               {"tags": "[1,2]", "n": None}]


def test_the_set_is_immutable(tmp_path: Path) -> None:
    s = load_eval_file(write_jsonl(tmp_path / "h.ndjson", heldout_rows(50, seed=1)))
    with pytest.raises(ValueError, match="read-only"):
        s.confidence[0] = 0.5
    with pytest.raises(TypeError):
        s.attributes[0]["task"] = "other"  # type: ignore[index]


def test_csv_and_jsonl_of_the_same_rows_agree(tmp_path: Path) -> None:
    rows = heldout_rows(300, seed=4)
    a = load_eval_file(write_csv(tmp_path / "h.csv", rows))
    b = load_eval_file(write_jsonl(tmp_path / "h.jsonl", rows))
    assert np.array_equal(a.confidence, b.confidence)
    assert np.array_equal(a.correct, b.correct)
    assert a.patterns == b.patterns
    assert [dict(x) for x in a.attributes] == [dict(x) for x in b.attributes]
    assert a.sha256 != b.sha256


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes("\ufeffconfidence,correct\n0.7,1\n".encode())
    assert load_eval_file(path).confidence.tolist() == [0.7]


def test_from_rows_checks_lengths() -> None:
    with pytest.raises(ValueError, match="one per confidence"):
        EvalSet.from_rows([0.5, 0.6], [True])


# -- CSV problems -------------------------------------------------------------------------


def test_csv_value_problems_name_the_line_and_the_field(tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", (
        "confidence,correct,task\n"      # 1
        "0.9,true,a\n"                   # 2
        "high,true,a\n"                  # 3
        "0.8,maybe,b\n"                  # 4
        "\n"                             # 5
        "95,yes,c\n"                     # 6
        "nan,no,c\n"                     # 7
        ",,c\n"                          # 8
        "0.5,1\n"                        # 9
        '0.4,"0\n'                       # 10
        'x",c\n'                         # 11
    ))
    assert problems(path) == [
        f"{path}:3: confidence: 'high' is not a number; expected a confidence in [0, 1]",
        f"{path}:4: correct: 'maybe' is not a correct flag; expected true/false, 1/0 or yes/no",
        f"{path}:6: confidence: 95 is outside [0, 1]; expected a confidence in [0, 1] "
        "(write 95% as 0.95)",
        f"{path}:7: confidence: NaN is not a number; expected a confidence in [0, 1]",
        f"{path}:8: confidence: missing value; expected a confidence in [0, 1]",
        f"{path}:8: correct: missing value; expected true/false, 1/0 or yes/no",
        f"{path}:9: (row): has 2 fields; expected 3, one per column of the header",
        f"{path}:10: correct: '0\\nx' is not a correct flag; expected true/false, 1/0 or yes/no",
    ]


def test_csv_header_problems(tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", "conf,correct,task,task,\n0.9,1,a,a,\n")
    assert problems(path) == [
        f"{path}:1: task: column named twice; expected each column once",
        f"{path}:1: (column 5): empty column name; expected a header row naming every column",
        f"{path}:1: confidence: no such column (columns: conf, correct, task, task); "
        "expected a header row naming at least confidence and correct",
    ]


def test_csv_that_the_csv_module_cannot_read(tmp_path: Path) -> None:
    # a cell longer than the csv module's field limit (131,072 characters)
    path = write(tmp_path / "h.csv", f"confidence,correct,text\n0.9,1,a\n0.8,1,{'x' * 200_000}\n")
    [line] = problems(path)
    assert line.startswith(f"{path}:3: (row): not readable as CSV (field larger than field "
                           "limit")


# -- JSONL problems -----------------------------------------------------------------------


def test_jsonl_problems_name_the_line_and_the_field(tmp_path: Path) -> None:
    path = write(tmp_path / "h.jsonl", "\n".join([
        '{"confidence": 0.9, "correct": true}',                       # 1
        '{"confidence": NaN, "correct": 2}',                          # 2
        "[1, 2]",                                                     # 3
        "{bad",                                                       # 4
        "",                                                           # 5
        '{"correct": true}',                                          # 6
        '{"confidence": "0.9", "correct": "yes"}',                    # 7
        '{"confidence": 0.5, "correct": false, "input": [1]}',        # 8
        '{"confidence": 0.5, "correct": false, "input": {}, "x": 1}',  # 9
        '{"confidence": 0.5, "correct": true, "id": true}',           # 10
        '{"confidence": 1.5, "correct": 1.0}',                        # 11
    ]) + "\n")
    assert problems(path) == [
        f"{path}:2: confidence: NaN is not a number; expected a confidence in [0, 1]",
        f"{path}:2: correct: 2 is not a correct flag; expected true or false (or 0 or 1)",
        f"{path}:3: (line): a JSON list, not an object; expected one JSON object per line",
        f"{path}:4: (line): not valid JSON (Expecting property name enclosed in double quotes "
        "at column 2); expected one JSON object per line",
        f"{path}:6: confidence: missing; expected a confidence in [0, 1]",
        f'{path}:7: confidence: "0.9" is not a number; expected a confidence in [0, 1]',
        f'{path}:7: correct: "yes" is not a correct flag; expected true or false (or 0 or 1)',
        f"{path}:8: input: a JSON list; expected an object of input attributes",
        f"{path}:9: x: an attribute beside 'input'; expected every input attribute inside "
        "'input', or every one at the top level",
        f"{path}:10: id: true is not a name; expected text or an integer",
        f"{path}:11: confidence: 1.5 is outside [0, 1]; expected a confidence in [0, 1]",
        f"{path}:11: correct: 1.0 is not a correct flag; expected true or false (or 0 or 1)",
    ]


def test_only_the_first_twenty_problems_are_listed(tmp_path: Path) -> None:
    path = write(tmp_path / "h.jsonl", '{"confidence": 2, "correct": true}\n' * 45)
    lines = problems(path)
    assert len(lines) == 21
    assert lines[19].startswith(f"{path}:20: confidence: 2 is outside [0, 1]")
    assert lines[20] == "... and 25 more"


# -- the file itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "(file): no such file; expected the path of the labelled "
                              "held-out file (CSV or JSONL)"),
        ("h.txt", "confidence,correct\n", "(file): unsupported file type '.txt'; expected a "
                                          "held-out file ending in .csv, .jsonl, .ndjson"),
        ("h", "", "(file): unsupported file type '(no extension)'"),
        ("empty.csv", "", "(file): no labelled answers; expected a header row and one row per "
                          "held-out answer"),
        ("header.csv", "confidence,correct\n\n", "(file): no labelled answers"),
        ("blank.jsonl", "\n\n", "(file): no labelled answers; expected one JSON object per "
                                "line for each held-out answer"),
    ],
)
def test_file_level_problems(tmp_path: Path, name: str, content: str | None,
                             message: str) -> None:
    path = tmp_path / name
    if content is not None:
        write(path, content)
    [line] = problems(path)
    assert line.startswith(f"{path}:1: {message}")


def test_a_directory_or_non_utf8_file(tmp_path: Path) -> None:
    folder = tmp_path / "d.csv"
    folder.mkdir()
    [line] = problems(folder)
    assert line.startswith(f"{folder}:1: (file): cannot read the file: ")
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"confidence,correct\n0.5,1\n\xff\xfe,1\n")
    assert problems(binary) == [f"{binary}:3: (file): the file is not UTF-8 text; expected a "
                                "CSV or JSONL file saved as UTF-8"]


def test_rows_beyond_the_bound_are_refused(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluation_module, "MAX_ROWS", 3)
    path = write(tmp_path / "h.csv", "confidence,correct\n" + "0.5,1\n" * 4)
    assert problems(path) == [f"{path}:5: (file): more than 3 rows; expected at most 3 "
                              "(evaluate a random sample of the held-out set)"]
    write(path, "confidence,correct\n" + "0.5,1\n" * 3)
    assert load_eval_file(path).n == 3


def test_bytes_beyond_the_bound_are_refused(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluation_module, "MAX_BYTES", 2**20)
    path = write(tmp_path / "h.csv", "confidence,correct\n" + "0.5,1\n" * 200_000)
    [line] = problems(path)
    assert line == (f"{path}:1: (file): the file is larger than 1 MB; expected a held-out set "
                    "of at most that size (evaluate a random sample of it)")
