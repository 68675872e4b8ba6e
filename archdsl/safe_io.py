"""Reading specs and writing outputs without surprises: regular files only, atomic replacement, nothing left behind.

The bottom layer of file I/O; it imports nothing from archdsl. Its policy (README, "Limits and import policy"):

- **Reading a spec** (`read_spec_bytes`): the file is opened without blocking (`O_NONBLOCK`) and refused unless it
  is a regular file, checked on the open descriptor: a FIFO with no writer, a terminal or a device never makes
  archdsl wait, and `/dev/zero` is not read. At most `limit + 1` bytes are read, so the caller can tell a file
  over the limit without reading all of it.
- **Writing an output** (`atomic_write`): only a regular file (or a new one) is written. A directory, FIFO,
  socket or device at the path is refused (`NotARegularFile`, an `OSError`: exit 2), never replaced. A symlink is
  followed and its target written, so the link stays a link (`fmt link.arch` formats the file it points to,
  as an editor would). The bytes go to a temporary file `.NAME.XXXXXXXX.tmp` in the target's folder, reach the
  disk, and are renamed over the target: readers never see half a file, and a failure leaves the old file as it
  was. The temporary file is removed on any exception, Ctrl-C (SIGINT), SIGTERM and SIGHUP; after a signal
  the process then ends as that signal would have ended it. The new file keeps the old one's permissions (and
  owner, where allowed), or gets the usual ones for a new file.
- **Errors name the file asked for**, never the temporary file.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> atomic_write(folder / "out.txt", lambda tmp: tmp.write_text("hello"))
>>> (folder / "out.txt").read_text(), sorted(p.name for p in folder.iterdir())
('hello', ['out.txt'])
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

#: signals that end a process politely; SIGINT is Python's KeyboardInterrupt and is cleaned up as an exception
_TERMINATING = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class NotARegularFile(OSError):
    """The path is a directory, FIFO, socket or device: archdsl reads and writes only regular files."""

    def __init__(self, path: str | os.PathLike, kind: str, doing: str):
        super().__init__(errno.EINVAL, f"is {kind}, not a regular file; archdsl {doing} only regular files",
                         str(path))


def file_kind(mode: int) -> str:
    """What a `stat` mode describes, with its article: "a FIFO", "a character device" ..."""
    for test, kind in ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return kind
    return "a special file"


# --- reading

def read_spec_bytes(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of a regular file, at most `limit + 1` of them; never blocks on a FIFO or device.

    Raises FileNotFoundError, PermissionError ..., IsADirectoryError or NotARegularFile, each naming `path`.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)  # with O_NONBLOCK, opening a FIFO that has no writer returns at once
    try:
        mode = os.fstat(fd).st_mode  # the file actually opened: no race between a check and the open
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory, not an .arch file", str(path))
        if not stat.S_ISREG(mode):
            raise NotARegularFile(path, file_kind(mode), "reads")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file ignores the flag; reads are plain from here on
        with os.fdopen(fd, "rb", closefd=True) as f:
            fd = -1
            return f.read(limit + 1)
    finally:
        if fd >= 0:
            os.close(fd)


def read_spec_text(path: str | os.PathLike, limit: int) -> str:
    """`read_spec_bytes`, decoded as UTF-8 (a leading byte-order mark dropped); UnicodeDecodeError otherwise.

    The spec loader decodes itself, to point at the bad byte; this is for callers that only need the text.
    """
    return read_spec_bytes(path, limit).decode("utf-8").removeprefix("\ufeff")


# --- writing

def output_target(path: str | os.PathLike) -> Path:
    """The file that writing `path` replaces: `path` itself, or the final target of a symlink.

    Raises FileNotFoundError for a missing folder and NotARegularFile for anything but a regular file.
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(target.parent))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    if not stat.S_ISREG(mode):
        raise NotARegularFile(path, file_kind(mode), "writes")
    return target


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Write `path` through a temporary file that `write(tmp)` fills; returns the file written.

    See the module's docstring for the policy: regular files only, symlinks followed, nothing left behind.
    """
    path = Path(path)
    target = output_target(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # a read-only folder, a full disk ...: about the target, not a name nobody asked for
        raise _about(exc, path) from None
    os.close(fd)
    tmp = Path(name)
    try:
        with _removed_on_termination(tmp):
            write(tmp)
            with open(tmp, "rb+") as f:  # the bytes reach the disk before the name does
                os.fsync(f.fileno())
            _copy_metadata(target, tmp)
            output_target(path)  # still not a FIFO or device: something may have appeared meanwhile
            os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.filename is not None and Path(exc.filename) == tmp:
            exc.filename = str(path)
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _about(exc: OSError, path: Path) -> OSError:
    """The same error, naming `path`."""
    return type(exc)(exc.errno, exc.strerror, str(path)) if exc.errno is not None else OSError(str(exc))


def _copy_metadata(target: Path, tmp: Path) -> None:
    """The old file's permissions (and owner, where allowed); for a new file, the usual ones (mkstemp's are private)."""
    try:
        old = os.stat(target)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    os.chmod(tmp, stat.S_IMODE(old.st_mode))
    if hasattr(os, "chown"):
        try:
            os.chown(tmp, old.st_uid, old.st_gid)
        except OSError:  # not ours to give away: the file becomes ours, as with any editor
            pass


# --- temporary files removed when the process is told to stop

_pending: set[Path] = set()
_lock = threading.Lock()
_previous: dict[int, object] = {}


@contextmanager
def _removed_on_termination(tmp: Path) -> Iterator[None]:
    """While the block runs, SIGTERM/SIGHUP first remove `tmp`, then do what they would have done."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    with _lock:
        first = not _pending
        _pending.add(tmp)
        if first:
            for signum in _TERMINATING:
                try:
                    previous = signal.signal(signum, _on_termination)
                    _previous[signum] = signal.SIG_DFL if previous is None else previous  # None: set outside Python
                except (ValueError, OSError):  # an embedding that forbids it: exceptions are still cleaned up
                    pass
    try:
        yield
    finally:
        with _lock:
            _pending.discard(tmp)
            if not _pending:
                for signum, handler in _previous.items():
                    signal.signal(signum, handler)
                _previous.clear()


def _on_termination(signum: int, frame) -> None:
    previous = _previous.get(signum, signal.SIG_DFL)
    if previous == signal.SIG_IGN:
        return
    if callable(previous):  # the program's own handler: it decides; an exception it raises cleans up as usual
        previous(signum, frame)
        return
    for tmp in list(_pending):
        try:
            tmp.unlink()
        except OSError:
            pass
    # end as the signal would have: default action, delivered again
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


__all__ = ["NotARegularFile", "atomic_write", "file_kind", "output_target", "read_spec_bytes", "read_spec_text",
           "write_bytes", "write_text"]
