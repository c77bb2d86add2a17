"""engine.outputs: the up-front output checks, atomic writes and directory locks."""
from __future__ import annotations

import os

import pytest

from engine.outputs import (
    OutputError,
    atomic_path,
    check_output,
    check_output_directory,
    directory_lock,
    unused_name,
    write_json,
    write_text,
)


def test_atomic_path_replaces_the_file_only_when_the_block_ends(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    with atomic_path(path) as temporary:
        assert temporary.endswith(".json") and os.path.dirname(temporary) == str(tmp_path)
        with open(temporary, "w") as file:
            file.write("new")
        assert path.read_text() == "old"
    assert path.read_text() == "new" and sorted(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt(), ValueError("bad")])
def test_a_failed_block_leaves_the_old_file_and_no_temporary(tmp_path, failure):
    path = tmp_path / "out.json"
    path.write_text("old")
    with pytest.raises((OutputError, KeyboardInterrupt, ValueError)) as caught:
        with atomic_path(path) as temporary:
            with open(temporary, "w") as file:
                file.write("half")
            raise failure
    assert path.read_text() == "old" and sorted(tmp_path.iterdir()) == [path]
    if isinstance(failure, OSError):
        message = str(caught.value)
        assert message.startswith(f"{path}: could not be written (No space left on device)")
        assert "unchanged" in message and "\n" not in message


def test_a_new_file_gets_the_permissions_the_umask_allows(tmp_path):
    umask = os.umask(0o027)
    try:
        write_text(tmp_path / "a.txt", "x")
        assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


def test_temporary_names_are_unique(tmp_path):
    with atomic_path(tmp_path / "a.json") as first, atomic_path(tmp_path / "a.json") as second:
        assert first != second and os.path.exists(first) and os.path.exists(second)


def test_write_json(tmp_path):
    write_json(tmp_path / "r.json", {"a": [1, 2]})
    assert (tmp_path / "r.json").read_text() == '{\n  "a": [\n    1,\n    2\n  ]\n}'


def test_missing_directory_cannot_be_written(tmp_path):
    with pytest.raises(OutputError, match="could not be written .*nothing was written"):
        write_text(tmp_path / "missing" / "a.txt", "x")


@pytest.mark.parametrize("name, force, message", [
    ("out.txt", False, "choose a file ending in .json or .csv"),
    ("missing/out.json", False, "directory .*missing does not exist"),
    ("folder.json", False, "is a directory"),
    ("there.json", False, "--out .*there.json: the file exists; pass --force to overwrite it"),
])
def test_check_output_refuses(tmp_path, name, force, message):
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "there.json").write_text("{}")
    with pytest.raises(OutputError, match=message):
        check_output(str(tmp_path / name), (".json", ".csv"), "--out", force)


def test_check_output_accepts(tmp_path):
    (tmp_path / "there.json").write_text("{}")
    check_output(str(tmp_path / "there.json"), (".json",), "--out", force=True)
    check_output(str(tmp_path / "new.json"), (".json",), "--out")
    check_output(None, (".json",), "--out")


def test_check_output_directory(tmp_path):
    check_output_directory(str(tmp_path / "new" / "deeper"), "--out")
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="--out .*file: is a file, not a directory"):
        check_output_directory(str(tmp_path / "file"), "--out")


def test_unused_name(tmp_path):
    path = str(tmp_path / "demo.gif")
    assert unused_name(path) == path
    (tmp_path / "demo.gif").write_text("")
    (tmp_path / "demo-1.gif").write_text("")
    assert unused_name(path) == str(tmp_path / "demo-2.gif")


def test_a_locked_directory_refuses_a_second_holder(tmp_path):
    with directory_lock(tmp_path):
        with pytest.raises(OutputError, match="another feedbacklab process is writing to this directory"):
            with directory_lock(tmp_path):
                pass
    with directory_lock(tmp_path):  # released
        pass
