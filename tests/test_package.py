"""Package-level behaviour: importing does no work; outputs are written atomically."""

import os
import subprocess
import sys

import pytest

from talkingface.errors import InputError, MediaError
from talkingface.files import atomic_output


def test_import_loads_nothing_heavy():
    code = (
        "import sys, talkingface, talkingface.cli, talkingface.errors; "
        "heavy = [m for m in ('torch', 'av', 'numpy', 'mediapipe', 'cv2') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_atomic_output_commits_or_leaves_nothing(tmp_path):
    target = tmp_path / "result.json"
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".json" and tmp != target
        tmp.write_text("{}")
        assert not target.exists()
    assert target.read_text() == "{}"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    with pytest.raises(ValueError), atomic_output(target) as tmp:
        tmp.write_text("partial")
        raise ValueError("boom")
    assert target.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_atomic_output_rejects_bad_targets(tmp_path):
    with pytest.raises(InputError, match="is a folder"), atomic_output(tmp_path):
        pass
    with pytest.raises(InputError, match="does not exist"), atomic_output(tmp_path / "no" / "file.txt"):
        pass


def test_media_error_is_one_line():
    error = MediaError("/a/b.mp4", "bad\nthing   here")
    assert str(error) == "/a/b.mp4: bad thing here"


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_dropped_atomic_file_removes_its_temporary(tmp_path):
    import gc

    from talkingface.files import AtomicFile

    atomic = AtomicFile(tmp_path / "out.bin")
    atomic.tmp.write_bytes(b"half")
    del atomic
    gc.collect()
    assert list(tmp_path.iterdir()) == []


def test_folder_output_waits_for_the_run_and_goes_with_it(tmp_path):
    from talkingface.files import all_or_nothing, atomic_folder

    # A failure after the folder was finished removes it with the run's other outputs.
    with pytest.raises(RuntimeError), all_or_nothing():
        with atomic_folder(tmp_path / "objs") as staging:
            (staging / "frame_00000.obj").write_text("v 0 0 0\n")
        with atomic_output(tmp_path / "curves.json") as tmp:
            tmp.write_text("{}")
        assert not (tmp_path / "objs").exists()  # still under its temporary name
        raise RuntimeError("later output failed")
    assert list(tmp_path.iterdir()) == []
    # A run that succeeds gets both; an empty folder at the target is taken.
    (tmp_path / "objs").mkdir()
    with all_or_nothing():
        with atomic_folder(tmp_path / "objs") as staging:
            (staging / "frame_00000.obj").write_text("v 0 0 0\n")
        with atomic_output(tmp_path / "curves.json") as tmp:
            tmp.write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.json", "objs"]
    assert [p.name for p in (tmp_path / "objs").iterdir()] == ["frame_00000.obj"]
    with pytest.raises(InputError, match="not an empty folder"), atomic_folder(tmp_path / "objs"):
        pass
