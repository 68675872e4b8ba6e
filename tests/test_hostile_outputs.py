"""Issue 14, item 4 (and the FIFO spec of item 11): archdsl writes only the regular file asked for, and reading a
spec never blocks.

`archdsl.safe_io` is tested directly, and through the CLI, which writes (`cli/app.py`'s `atomic_write`) and
reads specs (`passes/resolve.py`) through it. Device nodes are made with mknod inside the test's folder (as
root), never the machine's own /dev entries.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from archdsl import safe_io
from hostile import ROOT, assert_clean, run_capped, write_spec

SPEC = "network n(input=[3, 8, 8]) { conv(4, 3) relu }\n"
UGLY_SPEC = "network n(input=[3, 8, 8]) {   conv(4,3)    relu }\n"


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def make_char_device(path: Path) -> Path:
    """A node like /dev/null (1, 3), made in the test's own folder; skips where mknod is not allowed."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    return path


@pytest.fixture
def unwritable(tmp_path) -> Path:
    """A folder where no file can be created: a private one, or for root (who may write anywhere) /sys."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir(mode=0o500)
        return folder
    try:
        fd, name = tempfile.mkstemp(dir="/sys")
    except OSError:
        return Path("/sys")
    os.close(fd)
    os.unlink(name)
    pytest.skip("no folder here refuses root")


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --- safe_io.atomic_write

def test_writes_a_new_file_with_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        target = safe_io.write_text(tmp_path / "out.txt", "hello")
    finally:
        os.umask(umask)
    assert target == tmp_path / "out.txt" and target.read_text() == "hello"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and temp_files(tmp_path) == []


def test_replacing_keeps_the_permissions(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    path.chmod(0o640)
    safe_io.write_text(path, "new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize("kind", ["fifo", "directory", "char_device", "socket"])
def test_refuses_anything_but_a_regular_file_and_leaves_it_alone(tmp_path, kind):
    path = tmp_path / f"out.{kind}"
    if kind == "fifo":
        make_fifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "char_device":
        make_char_device(path)
    else:
        import socket

        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
    before = path.lstat().st_mode
    with pytest.raises(safe_io.NotARegularFile) as caught:
        safe_io.write_text(path, "x")
    assert caught.value.filename == str(path) and "not a regular file" in caught.value.strerror
    assert path.lstat().st_mode == before and temp_files(tmp_path) == []


def test_a_symlink_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    assert safe_io.write_text(link, "new") == real
    assert link.is_symlink() and real.read_text() == "new"


def test_a_chain_of_symlinks_to_a_fifo_is_refused(tmp_path):
    make_fifo(tmp_path / "fifo")
    (tmp_path / "a").symlink_to("fifo")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(safe_io.NotARegularFile):
        safe_io.write_text(tmp_path / "b", "x")
    assert stat.S_ISFIFO((tmp_path / "fifo").lstat().st_mode)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError) as caught:
        safe_io.write_text(tmp_path / "nowhere" / "out.txt", "x")
    assert caught.value.filename == str(tmp_path / "nowhere")


def test_an_error_names_the_target_not_the_temporary_file(tmp_path):
    def fail(tmp: Path) -> None:
        raise PermissionError(13, "Permission denied", str(tmp))

    with pytest.raises(PermissionError) as caught:
        safe_io.atomic_write(tmp_path / "out.txt", fail)
    assert caught.value.filename == str(tmp_path / "out.txt") and temp_files(tmp_path) == []


def test_an_unwritable_folder_is_reported_for_the_target(unwritable):
    with pytest.raises(OSError) as caught:
        safe_io.write_text(unwritable / "archdsl-test.txt", "x")
    assert caught.value.filename == str(unwritable / "archdsl-test.txt")


def test_a_failing_writer_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        safe_io.atomic_write(path, fail)
    assert path.read_text() == "old" and temp_files(tmp_path) == []


SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from archdsl import safe_io

    def write(tmp):
        tmp.write_text("half")
        print("ready", flush=True)
        time.sleep(30)

    safe_io.atomic_write(Path(sys.argv[1]), write)
""")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_while_writing_removes_the_temporary_file(tmp_path, signum):
    path = tmp_path / "out.txt"
    path.write_text("old")
    process = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout.readline() == b"ready\n"
        assert len(temp_files(tmp_path)) == 1
        process.send_signal(signum)
        process.wait(timeout=10)
    finally:
        process.kill()
    assert process.returncode != 0
    if signum != signal.SIGINT:  # ended by the signal itself, as without archdsl
        assert process.returncode == -signum
    assert temp_files(tmp_path) == [] and path.read_text() == "old"


def test_handlers_are_restored_after_writing(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    safe_io.write_text(tmp_path / "out.txt", "x")
    assert signal.getsignal(signal.SIGTERM) is before


# --- safe_io.read_spec_bytes

def test_reading_a_fifo_does_not_block(tmp_path):
    fifo = make_fifo(tmp_path / "spec.arch")
    caught: list[BaseException] = []

    def read() -> None:
        try:
            safe_io.read_spec_bytes(fifo, 1000)
        except BaseException as exc:  # noqa: BLE001 (handed to the test's thread)
            caught.append(exc)

    reader = threading.Thread(target=read, daemon=True)  # a blocking open would never return: bound the wait
    reader.start()
    reader.join(timeout=60)
    if reader.is_alive():
        with open(fifo, "wb"):  # give the blocked open its writer, so that the thread ends
            pass
        pytest.fail("reading a FIFO blocked")
    assert len(caught) == 1 and isinstance(caught[0], safe_io.NotARegularFile) and "a FIFO" in caught[0].strerror


def test_reading_a_device_is_refused(tmp_path):
    with pytest.raises(safe_io.NotARegularFile):
        safe_io.read_spec_bytes(make_char_device(tmp_path / "zero.arch"), 1000)


def test_reading_stops_one_byte_past_the_limit(tmp_path):
    path = tmp_path / "big.arch"
    path.write_bytes(b"x" * 5000)
    assert len(safe_io.read_spec_bytes(path, 100)) == 101
    assert safe_io.read_spec_text(path, 10_000) == "x" * 5000


def test_reading_a_directory_is_an_is_a_directory_error(tmp_path):
    with pytest.raises(IsADirectoryError):
        safe_io.read_spec_bytes(tmp_path, 100)


# --- the CLI

@pytest.mark.parametrize("command", ["check", "build", "fmt"])
def test_a_fifo_given_as_the_spec_does_not_block(tmp_path, command):
    fifo = make_fifo(tmp_path / "spec.arch")
    out = assert_clean(run_capped([command, str(fifo)]), (2,))
    assert "not a regular file" in out


@pytest.mark.parametrize("kind", ["fifo", "char_device"])
@pytest.mark.parametrize("command", [["draw", "-o"], ["build", "-o"]])
def test_output_to_a_special_file_is_refused_and_it_survives(tmp_path, kind, command):
    spec = write_spec(tmp_path, "n.arch", SPEC)
    suffix = ".dot" if command[0] == "draw" else ".pt"
    path = make_fifo(tmp_path / f"out{suffix}") if kind == "fifo" else make_char_device(tmp_path / f"out{suffix}")
    before = path.lstat().st_mode
    out = assert_clean(run_capped([command[0], str(spec), *command[1:], str(path)]), (2,))
    assert str(path) in out and "not a regular file" in out
    assert "network n:" not in out  # refused before any work: nothing built, torch not even imported
    assert path.lstat().st_mode == before and temp_files(tmp_path) == []


def test_output_to_a_directory_is_refused(tmp_path):
    spec = write_spec(tmp_path, "n.arch", SPEC)
    (tmp_path / "out.dot").mkdir()
    assert_clean(run_capped(["draw", str(spec), "-o", str(tmp_path / "out.dot")]), (2,))
    assert (tmp_path / "out.dot").is_dir()


def test_fmt_formats_the_target_of_a_symlink(tmp_path):
    real = write_spec(tmp_path, "real.arch", UGLY_SPEC)
    link = tmp_path / "link.arch"
    link.symlink_to("real.arch")
    assert_clean(run_capped(["fmt", str(link)]), (0,))
    assert link.is_symlink() and real.read_text() != UGLY_SPEC


def test_draw_writes_the_target_of_a_symlink(tmp_path):
    spec = write_spec(tmp_path, "n.arch", SPEC)
    (tmp_path / "real.dot").write_text("old")
    link = tmp_path / "link.dot"
    link.symlink_to("real.dot")
    assert_clean(run_capped(["draw", str(spec), "-o", str(link)]), (0,))
    assert link.is_symlink() and (tmp_path / "real.dot").read_text().startswith("digraph")


def test_an_unwritable_output_is_named_not_its_temporary_file(tmp_path, unwritable):
    spec = write_spec(tmp_path, "n.arch", SPEC)
    target = str(unwritable / "archdsl-test.dot")
    out = assert_clean(run_capped(["draw", str(spec), "-o", target]), (2,))
    assert target in out and ".tmp" not in out


def test_a_terminated_export_leaves_no_temporary_file(tmp_path):
    pytest.importorskip("onnx")
    spec = write_spec(tmp_path, "n.arch", "network n(input=[3, 32, 32]) {" + " conv(16, 3, pad=1) relu" * 30 + " }\n")
    process = subprocess.Popen([sys.executable, "-m", "archdsl", "export", str(spec), "-o", str(tmp_path / "x.onnx")],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not temp_files(tmp_path) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert temp_files(tmp_path), "the export finished before it could be stopped"
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        process.kill()
    assert temp_files(tmp_path) == [] and not (tmp_path / "x.onnx").exists()
