"""Issue 13 item 8: `check` pluralizes, `check --set` refuses a parameter no network has, and a file with
CR-only line ends is read as lines (line ends are normalized where every file's text is read)."""

from __future__ import annotations

import pytest

import archdsl
from archdsl.diagnostics import ArchError
from archdsl.syntax.parser import decode

from conftest import SPECS, run_cli


@pytest.mark.parametrize("text, expected", [
    ("block a(c) { conv(c, 1) }\n", "1 block, no network"),
    ("block a(c) { conv(c, 1) }\nblock b(c) { a(c) }\n", "2 blocks, no network"),
])
def test_a_file_of_blocks_is_counted_in_words(write, text, expected):
    result = run_cli("check", str(write("blocks.arch", text)))
    assert result.returncode == 0 and result.stdout.decode().startswith(f"{write('blocks.arch', text)}: {expected}")


def test_check_refuses_a_misspelt_parameter_of_a_single_file_as_build_does():
    spec = str(SPECS / "resnet18.arch")
    checked, built = run_cli("check", spec, "--set", "clases=5"), run_cli("build", spec, "--set", "clases=5")
    assert checked.returncode == built.returncode == 1
    for result in (checked, built):
        err = result.stderr.decode()
        assert "error[E0104]: network `resnet18` has no parameter `clases`" in err and "did you mean `classes`?" in err


def test_check_over_several_files_applies_set_where_it_can_but_refuses_a_name_none_has():
    specs = [str(SPECS / "resnet18.arch"), str(SPECS / "efficientnet_b0.arch")]
    assert run_cli("check", *specs, "--set", "width=0.5", "-q").returncode == 0  # only efficientnet has it
    typo = run_cli("check", *specs, "--set", "widht=0.5", "-q")
    assert typo.returncode == 2
    assert "--set widht: no network of the files checked has this parameter; did you mean `width`?" in typo.stderr.decode()


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n"])
def test_line_ends_of_every_kind_are_lines(write, ending):
    text = ending.join(["# a comment", "network n(input=[3, 8, 8]) {", "    conv(4, 1) relu", "    bogus", "}", ""])
    path = write("ends.arch", "")
    path.write_bytes(text.encode())
    with pytest.raises(ArchError) as caught:
        archdsl.check(path)
    (problem,) = caught.value.diagnostics
    assert problem.code == "E0101" and (problem.span.line, problem.span.col) == (4, 5)


def test_decoding_normalizes_line_ends():
    assert decode("x.arch", b"a\rb\r\nc\n").text == "a\nb\nc\n"
