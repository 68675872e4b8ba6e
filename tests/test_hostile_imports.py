"""Issue 14, item 6: imports are confined, and never quote a file that is not a readable `.arch` source.

The policy (README, "Limits and import policy"): an import names a `.arch` file under the importing spec's
project root (the nearest folder above it holding `.git`, `pyproject.toml` or `archdsl.toml`, else the spec's
own folder) or a configured search path; absolute paths and `..` escapes (symlinks included) are refused unless
an option allows them. In CI, where a pull request supplies the specs, an import of `/proc/self/environ` must
not print the environment into the log.
"""

from __future__ import annotations

import os

import pytest

from hostile import assert_clean, run_capped, write_spec

SECRET = "hunter2-do-not-print"
BODY = "network n(input=[3, 8, 8]) { relu }\n"


@pytest.fixture
def project(tmp_path):
    """tmp/project (a git checkout) with specs/, and a file outside it."""
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    (root / "specs").mkdir()
    write_spec(root, "common.arch", "block stem(c) { conv(c, 3, pad=1) relu }\n")
    write_spec(tmp_path, "outside.arch", "block stem(c) { relu }\n# secret: " + SECRET + "\n")
    (tmp_path / "outside.txt").write_text(SECRET + "\n")
    return root


def check_importing(project, target: str, **options):
    spec = write_spec(project / "specs", "net.arch", f'import "{target}"\n' + BODY)
    return run_capped(["check", str(spec)], cwd=project, **options)


def test_an_import_inside_the_project_works(project):
    assert_clean(check_importing(project, "../common.arch"), (0,))


@pytest.mark.parametrize("target", ["/etc/passwd", "/etc/hostname", "../../outside.arch", "../../outside.txt"])
def test_an_import_outside_the_project_is_refused_unread(project, target):
    out = assert_clean(check_importing(project, target), (1,))
    assert "root:" not in out and SECRET not in out
    assert "outside the project" in out or "absolute paths are refused" in out or "only `.arch` files" in out


def test_a_symlink_that_leaves_the_project_is_refused(project):
    (project / "specs" / "link.arch").symlink_to(project.parent / "outside.arch")
    out = assert_clean(check_importing(project, "link.arch"), (1,))
    assert SECRET not in out


def test_only_arch_files_are_imported_and_never_quoted(project):
    (project / "specs" / "notes.txt").write_text(SECRET + " is not a spec\n")
    out = assert_clean(check_importing(project, "notes.txt"), (1,))
    assert SECRET not in out and ".arch" in out


def test_the_environment_never_reaches_the_log(project):
    """The secret goes first in the environment, so the first line of /proc/self/environ holds it."""
    if not os.path.exists("/proc/self/environ"):
        pytest.skip("no /proc")
    env = {"ARCHDSL_TEST_SECRET": SECRET, "PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/")}
    out = assert_clean(check_importing(project, "/proc/self/environ", env=env, clean_env=True), (1,))
    assert SECRET not in out and "ARCHDSL_TEST_SECRET" not in out and "PATH=" not in out


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_an_import_of_a_special_file_neither_blocks_nor_crashes(project, kind):
    target = project / "specs" / "special.arch"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    out = assert_clean(check_importing(project, "special.arch"), (1, 2))
    assert "special.arch" in out


def test_an_import_of_a_device_is_refused(project):
    assert_clean(check_importing(project, "/dev/zero"), (1, 2))


def test_a_link_named_like_a_spec_to_something_else_is_refused(project):
    (project / "specs" / "env.arch").symlink_to("/proc/self/environ")
    out = assert_clean(check_importing(project, "env.arch"), (1,))
    assert "outside the project" in out and "PATH=" not in out
    (project / "specs" / "notes.txt").write_text(SECRET + "\n")
    (project / "specs" / "notes.arch").symlink_to("notes.txt")
    out = assert_clean(check_importing(project, "notes.arch"), (1,))
    assert "links to a file that is not an `.arch` file" in out and SECRET not in out


def test_an_absolute_path_is_refused_even_inside_the_project(project):
    out = assert_clean(check_importing(project, str(project / "common.arch")), (1,))
    assert "absolute paths are refused" in out and "ARCHDSL_ALLOW_IMPORTS_ANYWHERE" in out


def test_imports_anywhere_when_allowed(project):
    env = {"ARCHDSL_ALLOW_IMPORTS_ANYWHERE": "1"}
    assert_clean(check_importing(project, "../../outside.arch", env=env), (0,))
    assert_clean(check_importing(project, str(project / "common.arch"), env=env), (0,))


def test_search_paths_are_searched_and_allowed(project, tmp_path):
    library = tmp_path / "library"
    write_spec(library, "extra.arch", "block extra(c) { conv(c, 1) }\n")
    spec = write_spec(project / "specs", "net.arch", 'import "extra.arch"\nnetwork n(input=[3, 8, 8]) { extra(4) }\n')
    assert_clean(run_capped(["check", str(spec)], env={"ARCHDSL_PATH": str(library)}), (0,))
    assert_clean(run_capped(["check", str(spec)]), (1,))


def test_a_spec_outside_any_project_imports_relative_paths(tmp_path):
    """No marker above it: relative imports are not confined (still only regular `.arch` files)."""
    write_spec(tmp_path / "lib", "blocks.arch", "block twice(c) { conv(c, 1) conv(c, 1) }\n")
    spec = write_spec(tmp_path / "nets", "n.arch", 'import "../lib/blocks.arch"\nnetwork n(input=[3, 4, 4]) { twice(5) }\n')
    assert_clean(run_capped(["check", str(spec)]), (0,))
