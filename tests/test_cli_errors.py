"""The CLI facing hostile input and failures: clean diagnostics and exit codes, never a traceback.

Exit codes: 0 clean, 1 errors in specs, 2 usage or I/O errors, 3 internal errors (which must never happen).
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from archdsl.cli import main
from archdsl.cli.app import atomic_write
from archdsl.syntax.parser import MAX_SOURCE_BYTES

from conftest import SPECS, all_specs, run_cli

ANNOTATION = re.compile(r"^::error file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=archdsl E\d{4}::\S")


def assert_clean_failure(result, code: int) -> str:
    out = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == code, out
    assert "Traceback" not in out and "internal error" not in out, out
    return out


HOSTILE: dict[str, tuple[bytes, str]] = {
    # name: (contents, the code of the diagnostic it must get)
    "binary.arch": (bytes(range(256)) * 8, "E0002"),
    "invalid_utf8.arch": (b"network n(input=[3, 8, 8]) {\n  relu # caf\xe9\n}\n", "E0002"),
    "nul.arch": (b"network n(input=[3, 8, 8]) {\x00 relu }\n", "E0002"),
    "deep_braces.arch": (b"network n(input=[3, 8, 8]) {" + b"{" * 20000 + b"}" * 20000 + b"}\n", "E0002"),
    "deep_parens.arch": (b"network n(input=[3, 8, 8]) { let x = " + b"(" * 20000 + b"1" + b")" * 20000 + b" }\n",
                         "E0002"),
    "deep_minus.arch": (b"network n(input=[3, 8, 8]) { let x = " + b"-" * 20000 + b"1\n relu }\n", "E0002"),
    "deep_not.arch": (b"network n(input=[3, 8, 8]) { let x = " + b"not " * 20000 + b"true\n relu }\n", "E0002"),
    "long_sum.arch": (b"network n(input=[3, 8, 8]) { let x = " + b"+".join([b"1"] * 20000) + b"\n relu }\n", "E0002"),
    "deep_else_if.arch": (b"network n(input=[3, 8, 8]) { " + b"if true { relu } else " * 20000 + b"{ relu } }\n",
                          "E0002"),
    "digits_400.arch": (b"network n(input=[3, 8, 8]) { conv(" + b"9" * 400 + b", 3) }\n", "E0115"),
    "digits_5000.arch": (b"network n(input=[3, 8, 8]) { conv(" + b"9" * 5000 + b", 3) }\n", "E0115"),
    "huge_float.arch": (b"network n(input=[3, 8, 8]) { conv(1e400, 3) }\n", "E0107"),
    "huge.arch": (b"# " + b"x" * MAX_SOURCE_BYTES + b"\n", "E0002"),
    "truncated.arch": ((SPECS / "resnet18.arch").read_bytes()[:150], "E0001"),
    "runaway_loops.arch": (b"network n(input=[3, 8, 8]) { repeat 10000 { repeat 10000 { let x = 1 } } }\n",
                           "E0115"),
    "self_recursion.arch": (b"block a(c) { a(c) }\nnetwork n(input=[3, 8, 8]) { a(3) }\n", "E0114"),
    "full_width_comma.arch": ("network n(input=[3, 8, 8]) { conv(16， 3) }\n".encode(), "E0001"),
    "escape_codes.arch": (b'network n(input=[3, 8, 8]) { conv(16, 3, pad="\x1b[2J\x1b[31m") }\n', "E0107"),
}


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    """One `archdsl check --format json` over every hostile file (one subprocess for all of them)."""
    folder = tmp_path_factory.mktemp("hostile")
    for name, (data, _) in HOSTILE.items():
        (folder / name).write_bytes(data)
    (folder / "empty.arch").write_bytes(b"")
    result = run_cli("check", "--format", "json", str(folder))
    assert_clean_failure(result, 1)
    return json.loads(result.stdout), folder


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_gets_a_clean_diagnostic(hostile_report, name):
    report, folder = hostile_report
    mine = [d for d in report["diagnostics"] if d["span"] and Path(d["span"]["file"]).name == name]
    assert mine, f"no diagnostic for {name}"
    assert mine[0]["code"] == HOSTILE[name][1], mine[0]


def test_hostile_files_are_all_checked(hostile_report):
    report, _ = hostile_report
    summary = report["summary"]
    assert summary["files_checked"] == len(HOSTILE) + 1  # and the empty file, which is fine (no network)
    assert summary["files_failed"] == len(HOSTILE) and summary["exit_code"] == 1


def test_escape_codes_never_reach_the_terminal(tmp_path):
    data, _ = HOSTILE["escape_codes.arch"]
    (tmp_path / "escape_codes.arch").write_bytes(data)
    out = assert_clean_failure(run_cli("check", "escape_codes.arch", cwd=tmp_path), 1)
    assert "\x1b" not in out and "?[2J" in out


def test_a_device_is_refused_without_reading_it():
    """Only regular files are read (archdsl/safe_io.py): a device or FIFO could block or never end."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    out = assert_clean_failure(run_cli("check", "/dev/zero"), 2)
    assert "/dev/zero: is a character device, not a regular file" in out


def test_huge_standard_input_is_refused_without_reading_it_all():
    out = assert_clean_failure(run_cli("fmt", "-", input=b"#" * (MAX_SOURCE_BYTES + 10)), 1)
    assert "larger than" in out


def test_missing_files_and_folders_are_io_errors_and_the_rest_is_checked(tmp_path):
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "folder.arch").mkdir()  # a directory named like a spec
    (tmp_path / "good.arch").write_text("network n(input=[3, 8, 8]) { relu }\n")
    out = assert_clean_failure(run_cli("check", "missing.arch", "empty_dir", "folder.arch", "good.arch",
                                       cwd=tmp_path), 2)
    assert "error: no such file: missing.arch" in out
    assert "error: no .arch files under empty_dir" in out and "no .arch files under folder.arch" in out
    assert "good.arch: n 3x8x8 -> 3x8x8" in out
    assert "checked 1 file: no errors; 3 files could not be read" in out


def test_build_on_a_directory_and_a_missing_file(tmp_path):
    (tmp_path / "d.arch").mkdir()
    out = assert_clean_failure(run_cli("build", "d.arch", cwd=tmp_path), 2)
    assert "d.arch is a directory" in out
    out = assert_clean_failure(run_cli("build", "nothing.arch", cwd=tmp_path), 2)
    assert "no such file: nothing.arch" in out


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_is_an_io_error(tmp_path):
    spec = tmp_path / "secret.arch"
    spec.write_text("network n(input=[3, 8, 8]) { relu }\n")
    spec.chmod(0)
    out = assert_clean_failure(run_cli("check", "secret.arch", cwd=tmp_path), 2)
    assert "permission denied: secret.arch" in out


# --- every error in every file, capped, with a summary; the three formats

def test_every_error_in_every_file_is_reported(tmp_path):
    (tmp_path / "two_networks.arch").write_text(
        "network a(input=[3, 8, 8]) { covn(8, 3) }\n"
        "network b(input=[3, 8, 8]) { conv(8, 3) linear(10) }\n"
        "network c(input=[3, 8, 8]) { conv(8, 3) }\n")
    (tmp_path / "two_syntax_errors.arch").write_text(
        "block a(c) {\n    conv(c, 3\n}\nnetwork n(input=[3, 8, 8]) {\n    repeat 2 relu\n}\n")
    out = assert_clean_failure(run_cli("check", ".", cwd=tmp_path), 1)
    assert out.count("error[") == 4, out
    for code in ("E0101", "E0206", "E0001"):
        assert f"error[{code}]" in out
    assert "checked 2 files: 4 errors in 2 files" in out


def test_the_output_is_capped_with_a_count_of_the_rest(tmp_path):
    for i in range(60):
        (tmp_path / f"bad{i:02}.arch").write_text("network n(input=[3, 8, 8]) { covn(8, 3) }\n")
    out = assert_clean_failure(run_cli("check", ".", cwd=tmp_path), 1)
    assert out.count("error[E0101]") == 50
    assert "... and 10 more" in out and out.rstrip().endswith("checked 60 files: 60 errors in 60 files")


def test_github_format_is_workflow_annotations(tmp_path):
    (tmp_path / "bad.arch").write_text("network n(input=[3, 8, 8]) {\n    covn(8, 3)\n}\n")
    result = run_cli("check", "--format", "github", "bad.arch", cwd=tmp_path)
    assert_clean_failure(result, 1)
    (line,) = result.stdout.decode().splitlines()
    assert ANNOTATION.match(line), line
    assert "line=2,col=5,endLine=2,endColumn=8" in line and "did you mean `conv`?" in line


def test_json_format_carries_every_field_and_a_summary(tmp_path):
    (tmp_path / "bad.arch").write_text("network n(input=[3, 8, 8]) {\n    covn(8, 3)\n}\n")
    result = run_cli("check", "--format", "json", "bad.arch", cwd=tmp_path)
    assert_clean_failure(result, 1)
    document = json.loads(result.stdout)
    (d,) = document["diagnostics"]
    assert d["code"] == "E0101" and d["span"] == {"file": "bad.arch", "line": 2, "col": 5, "end_line": 2,
                                                  "end_col": 9}
    assert d["help"] == "did you mean `conv`?" and document["summary"]["errors"] == 1


def test_colour_only_on_a_terminal_or_when_forced(tmp_path):
    (tmp_path / "bad.arch").write_text("network n(input=[3, 8, 8]) { covn(8, 3) }\n")
    plain = run_cli("check", "bad.arch", cwd=tmp_path)
    assert b"\x1b[" not in plain.stderr
    forced = run_cli("check", "bad.arch", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert b"\x1b[1;31merror[E0101]" in forced.stderr
    off = run_cli("check", "bad.arch", cwd=tmp_path, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert b"\x1b[" not in off.stderr


def test_a_bad_set_value_is_a_usage_error():
    out = assert_clean_failure(run_cli("check", str(SPECS / "resnet18.arch"), "--set", "classes=(1,"), 2)
    assert "Invalid value for --set" in out


def test_a_parameter_set_twice_is_a_usage_error():
    out = assert_clean_failure(run_cli("check", str(SPECS / "resnet18.arch"), "--set", "classes=10",
                                       "--set", "classes=100"), 2)
    assert "`classes` is given twice" in out


def test_an_internal_error_exits_3_with_a_report(monkeypatch, tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("archdsl.cli.check.check_file", broken)
    (tmp_path / "a.arch").write_text("network n(input=[3, 8, 8]) { relu }\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "a.arch")])
    assert result.exit_code == 3
    assert "internal error: archdsl failed unexpectedly" in result.output and "simulated bug" in result.output


# --- --max-params: checked statically, before torch is imported (tests/test_torch_free.py runs `build` on a huge
# network in a fresh interpreter)

def test_max_params_option_on_check():
    spec = str(SPECS / "resnet18.arch")
    out = assert_clean_failure(run_cli("check", spec, "--max-params", "10_000_000"), 1)
    assert "more than 10,000,000 parameters, the limit" in out
    assert run_cli("check", spec, "--max-params", "1.2e7").returncode == 0
    out = assert_clean_failure(run_cli("check", spec, "--max-params", "lots"), 2)
    assert "not a positive whole number" in out


# --- atomic writes

def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.pt"
    target.write_bytes(b"previous")

    def failing(tmp: Path) -> None:
        tmp.write_bytes(b"half a")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(target, failing)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_an_interrupted_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.pt"
    target.write_bytes(b"previous")

    def interrupted(tmp: Path) -> None:
        tmp.write_bytes(b"half a")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_a_write_replaces_the_file_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "model.pt"
    target.write_bytes(b"previous")
    target.chmod(0o640)
    atomic_write(target, lambda tmp: tmp.write_bytes(b"new"))
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_a_new_file_gets_the_usual_permissions(tmp_path):
    target = tmp_path / "new.pt"
    atomic_write(target, lambda tmp: tmp.write_bytes(b"new"))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_build_output_into_a_missing_folder_is_an_io_error(tmp_path):
    spec = tmp_path / "tiny.arch"
    spec.write_text("network tiny(input=[3, 8, 8]) { conv(4, 3) gap flatten linear(2) }\n")
    out = assert_clean_failure(run_cli("build", "tiny.arch", "-o", "no/such/folder/model.pt", cwd=tmp_path), 2)
    assert "error:" in out and "no/such/folder" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.arch"]


def test_build_output_is_written_whole_and_a_failed_build_keeps_the_old_file(tmp_path):
    spec = tmp_path / "tiny.arch"
    spec.write_text("network tiny(input=[3, 8, 8]) { conv(4, 3) gap flatten linear(2) }\n")
    result = run_cli("build", "tiny.arch", "-o", "model.pt", cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    saved = (tmp_path / "model.pt").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "tiny.arch"]
    spec.write_text("network tiny(input=[3, 8, 8]) { conv(4, 3) linear(2) }\n")  # now wrong: linear on a map
    assert_clean_failure(run_cli("build", "tiny.arch", "-o", "model.pt", cwd=tmp_path), 1)
    assert (tmp_path / "model.pt").read_bytes() == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "tiny.arch"]


@pytest.mark.parametrize("spec", all_specs()[:3], ids=lambda p: p.name)
def test_truncated_bundled_specs_fail_cleanly(tmp_path, spec):
    data = spec.read_bytes()
    for i, cut in enumerate(range(7, len(data), max(len(data) // 9, 1))):
        (tmp_path / f"cut{i}.arch").write_bytes(data[:cut])
    result = run_cli("check", "--format", "json", ".", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    assert json.loads(result.stdout)["summary"]["files_failed"] >= 1


def test_output_into_a_missing_folder_names_the_folder(tmp_path):
    result = run_cli("draw", "specs/resnet18.arch", "-o", str(tmp_path / "missing" / "x.dot"))
    assert result.returncode == 2
    assert result.stderr.decode().strip() == f"error: no such folder: {tmp_path / 'missing'}"


@pytest.mark.parametrize("command", [["summary"], ["draw", "-o", "x.dot"], ["export", "-o", "x.onnx"], ["build"]])
def test_every_single_spec_command_honours_max_params(command, tmp_path):
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in command]
    result = run_cli(args[0], "specs/resnet18.arch", *args[1:], "--max-params", "1000000")
    assert result.returncode == 1 and b"E0115" in result.stderr
    assert not any(tmp_path.iterdir())
