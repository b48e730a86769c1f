"""Curves written as JSON a frame at a time are the whole document's JSON, and read back."""

import json
from fractions import Fraction

import numpy as np
import pytest

from talkingface.animation import AnimationCurves
from talkingface.errors import MediaError
from talkingface.face import TrackingResult


def test_streamed_json_is_the_whole_documents_json(tmp_path):
    rng = np.random.default_rng(0)
    extra = {"jali": rng.random((9, 2)), "head": rng.normal(size=(9, 3)) * 40}
    curves = AnimationCurves(
        Fraction(30000, 1001), ("jaw", "lips", "é"), rng.random((9, 3)), extra, {"jali": ("ja", "li")}
    )
    path = curves.save_json(tmp_path / "c.json")
    assert path.read_text(encoding="utf-8") == json.dumps(curves.to_dict(), separators=(",", ":"))
    back = AnimationCurves.load_json(path)
    assert back.fps == curves.fps and back.names == curves.names
    np.testing.assert_allclose(back.values, curves.values, atol=1e-5)
    np.testing.assert_allclose(back.extra["head"], extra["head"], atol=1e-5)
    assert back.extra_names["jali"] == ("ja", "li")


@pytest.mark.parametrize("text", ["{", "[]", '{"fps": 30}', '{"fps": 0, "names": [], "frames": []}', "\udcff"])
def test_a_file_that_is_not_curves_is_refused_in_one_line(tmp_path, text):
    path = tmp_path / "x.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(MediaError, match=r"x\.json: not a curves file \("):
        AnimationCurves.load_json(path)
    with pytest.raises(MediaError, match=r"x\.json: not a tracking file \("):
        TrackingResult.load_json(path)
    with pytest.raises(MediaError, match="file not found"):
        AnimationCurves.load_json(tmp_path / "missing.json")
