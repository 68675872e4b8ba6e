"""Issue 14, items 7 and 9: every message is bounded however large the input, and every output format is safe
for any file name and any string (valid UTF-8 JSON; no terminal control characters in annotations or text).
"""

from __future__ import annotations

import json
import os

import pytest

from hostile import assert_clean, run_capped, write_spec

FORMATS = ["text", "github", "json"]
#: what one diagnostic may print at most: a few source lines, a message, notes and help, each elided
MESSAGE_BYTES = 8_000


LARGE = {
    # a 1 MB identifier, underlined in full
    "long_identifier": "network n(input=[3, 8, 8]) { " + "x" * 1_000_000 + " }\n",
    # a 100,000-number list printed in the message (689 KB)
    "long_list_value": "network n(input=[3, 8, 8]) { conv(range(100000), 3) }\n",
    # a 100 KB string printed in the message
    "long_string_value": 'network n(input=[3, 8, 8]) { conv(16, 3, pad="' + "s" * 100_000 + '") }\n',
    # mutual recursion that doubles its argument: the call-stack notes grew to megabytes
    "recursion_notes": "block a(c) { b(c) }\nblock b(c) { a([c, c]) }\nnetwork n(input=[3, 8, 8]) { a(1) }\n",
    # a long line of source around the error
    "long_source_line": "network n(input=[3, 8, 8]) { " + "relu " * 100_000 + "covn(8, 3) }\n",
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", LARGE)
def test_messages_are_bounded(tmp_path, name, fmt):
    run = run_capped(["check", "--format", fmt, str(write_spec(tmp_path, "large.arch", LARGE[name]))])
    assert_clean(run, (1,), max_stderr=MESSAGE_BYTES)


def test_a_short_message_is_not_elided(tmp_path):
    spec = write_spec(tmp_path, "short.arch", "network n(input=[3, 8, 8]) { conv(range(5), 3) }\n")
    out = assert_clean(run_capped(["check", str(spec)]), (1,))
    assert "(0, 1, 2, 3, 4)" in out


# --- item 9: file names and strings in every format

CONTROL = "\x1b[2J\x1b]0;title\x07\x08\x9b"
ERROR_SPEC = b"network n(input=[3, 8, 8]) { covn(8, 3) }\n"


@pytest.fixture
def hostile_names(tmp_path):
    """Specs with a non-UTF-8 name, control characters in a name, and control characters in a string."""
    folder = tmp_path / "specs"
    folder.mkdir()
    if os.name == "posix":
        with open(os.path.join(os.fsencode(folder), b"latin1-\xe9\xff.arch"), "wb") as f:
            f.write(ERROR_SPEC)
        with open(os.path.join(os.fsencode(folder), b"ctrl-\x1b[31m\x07.arch"), "wb") as f:
            f.write(ERROR_SPEC)
    (folder / "strings.arch").write_bytes(b'network n(input=[3, 8, 8]) { conv(16, 3, pad="\x1b[31m\x07x") }\n')
    return folder


def assert_no_control_characters(data: bytes) -> None:
    text = data.decode("utf-8")  # must be valid UTF-8 whatever the file names
    bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7f <= ord(c) < 0xa0]
    assert not bad, f"control characters {bad!r} in {text[:2000]!r}"


def test_json_output_is_valid_utf8_for_any_file_name(hostile_names):
    run = run_capped(["check", "--format", "json", str(hostile_names)])
    assert_clean(run, (1,))
    document = json.loads(run.stdout.decode("utf-8"))
    assert document["summary"]["files_checked"] == 3 and len(document["diagnostics"]) == 3
    assert_no_control_characters(run.stdout)


def test_github_annotations_carry_no_control_characters(hostile_names):
    run = run_capped(["check", "--format", "github", str(hostile_names)])
    assert_clean(run, (1,))
    assert_no_control_characters(run.stdout)
    assert run.stdout.decode().count("::error ") == 3


def test_text_output_carries_no_control_characters(hostile_names):
    run = run_capped(["check", str(hostile_names)], env={"NO_COLOR": "1"})
    assert_clean(run, (1,))
    assert_no_control_characters(run.stderr + run.stdout)


def test_a_missing_file_with_control_characters_in_its_name(tmp_path):
    run = run_capped(["check", str(tmp_path / "\x1b[2Jmissing\x07.arch")])
    out = assert_clean(run, (2,))
    assert "?[2Jmissing?.arch" in out
    assert_no_control_characters(run.stderr + run.stdout)
    run = run_capped(["build", str(tmp_path / "\x1b[2Jmissing\x07.arch")])
    assert_no_control_characters(run.stderr + run.stdout)
