"""LVE / FDD on hand-made sequences with answers worked out by hand, and the shipped vertex groups."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from talkingface.errors import InputError
from talkingface.metrics import face_dynamics_deviation, lip_vertex_error, load_vertex_group, vertex_groups


def _still(frames: int, vertices: int) -> np.ndarray:
    """``(T, V, 3)`` of a face that does not move: vertex v at (v, 0, 0)."""
    grid = np.zeros((vertices, 3))
    grid[:, 0] = np.arange(vertices)
    return np.repeat(grid[None], frames, axis=0)


# -- LVE ------------------------------------------------------------------------------------
def test_lve_one_lip_vertex_off_in_one_of_two_frames():
    gt = _still(2, 4)
    pred = gt.copy()
    pred[1, 2, 1] += 0.1  # lip vertex 2 is 0.1 off in frame 1: squared error 0.01 there, 0 in frame 0
    assert lip_vertex_error(pred, gt, [1, 2]) == pytest.approx(0.005)


def test_lve_takes_the_worst_lip_vertex_per_frame_and_ignores_other_vertices():
    gt = _still(2, 4)
    pred = gt.copy()
    pred[0, 1] += [0.3, 0.0, 0.4]  # distance 0.5 -> 0.25
    pred[0, 2] += [0.1, 0.0, 0.0]  # 0.01, not the frame's maximum
    pred[1, 2] += [0.0, 0.2, 0.0]  # 0.04
    pred[:, 3] += 10.0  # not a lip vertex
    assert lip_vertex_error(pred, gt, np.array([1, 2])) == pytest.approx((0.25 + 0.04) / 2)


def test_lve_flat_layout_and_torch_give_the_same():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(5, 6, 3))
    pred = gt + rng.normal(scale=0.01, size=gt.shape)
    lips = [0, 3, 5]
    expected = lip_vertex_error(pred, gt, lips)
    assert lip_vertex_error(pred.reshape(5, 18), gt.reshape(5, 18), lips) == pytest.approx(expected)
    assert lip_vertex_error(torch.tensor(pred), torch.tensor(gt), torch.tensor(lips)) == pytest.approx(expected)
    assert lip_vertex_error(pred.astype(np.float32), gt, lips) == pytest.approx(expected, rel=1e-5)


def test_lve_of_a_list_pools_all_frames():
    gt_a, gt_b = _still(1, 3), _still(3, 3)
    pred_a, pred_b = gt_a.copy(), gt_b.copy()
    pred_a[0, 0, 0] += 0.2  # 0.04 in the one frame of sequence a; sequence b is exact
    # pooled over 4 frames: 0.04 / 4 (a mean of per-sequence means would say 0.02)
    assert lip_vertex_error([pred_a, pred_b], [gt_a, gt_b], [0]) == pytest.approx(0.01)


# -- FDD ------------------------------------------------------------------------------------
def test_fdd_of_identical_motion_is_zero():
    rng = np.random.default_rng(1)
    template = rng.normal(size=(5, 3))
    gt = template + rng.normal(scale=0.1, size=(8, 5, 3))
    assert face_dynamics_deviation(gt.copy(), gt, template, [0, 1, 2]) == 0.0


def test_fdd_known_std():
    template = np.zeros((3, 3))
    gt = np.zeros((4, 3, 3))
    gt[:, 0, 0] = [0, 1, 0, 1]  # ||x - template||^2 = 0, 1, 0, 1 -> std 0.5
    gt[:, 1, 1] = [2, 2, 2, 2]  # constant displacement 4 -> std 0
    pred = np.zeros((4, 3, 3))
    pred[:, 0, 2] = [0, 0, 0, np.sqrt(2)]  # 0, 0, 0, 2 -> mean 0.5, std sqrt(0.75)
    pred[:, 2] = 5.0  # vertex 2 is not upper face
    # gt: mean(0.5, 0) = 0.25; pred: mean(sqrt(0.75), 0) = 0.4330...; FDD = 0.25 - 0.4330 (signed)
    expected = 0.25 - np.sqrt(0.75) / 2
    assert face_dynamics_deviation(pred, gt, template, [0, 1]) == pytest.approx(expected)
    assert face_dynamics_deviation(pred.reshape(4, 9), gt.reshape(4, 9), template.reshape(9), [0, 1]) == pytest.approx(
        expected
    )
    assert face_dynamics_deviation(gt, pred, template, [0, 1]) == pytest.approx(-expected)


def test_fdd_measures_motion_from_the_template():
    template = np.zeros((1, 3))
    gt = np.zeros((2, 1, 3))
    gt[1, 0, 0] = 1.0  # motion 0, 1 -> std 0.5
    pred = np.full((2, 1, 3), 3.0)  # far from the template but still: std 0
    assert face_dynamics_deviation(pred, gt, template, [0]) == pytest.approx(0.5)
    # the same frames seen from a template at (1, 0, 0): gt motion 1, 0 -> still 0.5
    assert face_dynamics_deviation(pred, gt, np.array([[1.0, 0.0, 0.0]]), [0]) == pytest.approx(0.5)


def test_fdd_of_a_list_averages_per_sequence_values_with_per_sequence_templates():
    t0, t1 = np.zeros((1, 3)), np.ones((1, 3))
    gt0 = np.zeros((2, 1, 3))
    gt0[1, 0, 0] = 1.0  # std 0.5
    gt1 = np.ones((4, 1, 3))  # still at its template: 0
    still0, still1 = np.zeros((2, 1, 3)), np.ones((4, 1, 3))
    assert face_dynamics_deviation([still0, still1], [gt0, gt1], [t0, t1], [0]) == pytest.approx(0.25)


# -- validation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "pred, gt, message",
    [
        (np.zeros((3, 4, 3)), np.zeros((4, 4, 3)), "same frames and vertices"),
        (np.zeros((3, 4, 3)), np.zeros((3, 5, 3)), "same frames and vertices"),
        (np.zeros((3, 10)), np.zeros((3, 10)), r"\(T, V, 3\) or \(T, V\*3\)"),
        (np.zeros((4, 3)), np.zeros(12), r"\(T, V, 3\) or \(T, V\*3\)"),
        (np.zeros((0, 4, 3)), np.zeros((0, 4, 3)), "no frames"),
        (np.array([["a", "b", "c"]]), np.zeros((1, 3)), "numeric"),
    ],
)
def test_lve_shape_errors(pred, gt, message):
    with pytest.raises(InputError, match=message):
        lip_vertex_error(pred, gt, [0])


def test_index_and_value_errors():
    frames = np.zeros((2, 4, 3))
    with pytest.raises(InputError, match=r"vertex 4, outside 0\.\.3"):
        lip_vertex_error(frames, frames, [1, 4])
    with pytest.raises(InputError, match="vertex -1"):
        lip_vertex_error(frames, frames, [-1])
    with pytest.raises(InputError, match="non-empty"):
        lip_vertex_error(frames, frames, [])
    with pytest.raises(InputError, match="integers"):
        lip_vertex_error(frames, frames, [0.5])
    bad = frames.copy()
    bad[0, 1, 0] = np.nan
    with pytest.raises(InputError, match="pred contains NaN"):
        lip_vertex_error(bad, frames, [1])
    assert lip_vertex_error(bad, frames, [2]) == 0.0  # NaN outside the evaluated vertices does not matter
    with pytest.raises(InputError, match=r"template must be \(4, 3\) or \(12,\)"):
        face_dynamics_deviation(frames, frames, np.zeros((5, 3)), [0])
    with pytest.raises(InputError, match="2 templates for 1 sequences"):
        face_dynamics_deviation([frames], [frames], [np.zeros((4, 3))] * 2, [0])
    with pytest.raises(InputError, match="both lists"):
        lip_vertex_error([frames], frames, [0])
    with pytest.raises(InputError, match="same length"):
        lip_vertex_error([frames], [frames, frames], [0])
    with pytest.raises(InputError, match="sequence 1: pred and gt"):
        lip_vertex_error([frames, frames[:1]], [frames, frames], [0])
    with pytest.raises(InputError, match="one mesh topology"):
        lip_vertex_error([frames, np.zeros((2, 5, 3))], [frames, np.zeros((2, 5, 3))], [0])


# -- vertex groups ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, num_vertices", [("template", 478)])
def test_shipped_groups_are_disjoint_in_range_and_unique(name, num_vertices):
    lips, upper = vertex_groups(name)
    for group in (lips, upper):
        assert group.dtype == np.int64 and group.ndim == 1 and len(group) > 0
        assert group.min() >= 0 and group.max() < num_vertices
        assert len(np.unique(group)) == len(group)
        assert not group.flags.writeable
    assert not set(lips.tolist()) & set(upper.tolist())


def test_template_groups_follow_the_face_layout():
    from talkingface.animation.mesh import face_template
    from talkingface.face.topology import face_topology

    topology, vertices = face_topology(), face_template().vertices
    lips, upper = (set(group.tolist()) for group in vertex_groups("template"))
    assert len(lips) == 80  # four rings of 20 points around the mouth
    assert set(topology.group("lips_outer").tolist()) <= lips and set(topology.group("lips_inner").tolist()) <= lips
    for name in ("right_eye", "left_eye", "right_eyebrow", "left_eyebrow", "right_iris", "left_iris"):
        assert set(topology.group(name).tolist()) <= upper
    assert topology.points["forehead"] in upper
    assert topology.points["nose_tip"] not in upper and topology.points["chin"] not in lips
    assert vertices[sorted(upper), 1].min() > vertices[topology.points["nose_tip"], 1]  # all above the nose tip


def test_unknown_group_names():
    with pytest.raises(InputError, match="FLAME regions are not shipped"):
        vertex_groups("flame")
    with pytest.raises(InputError, match="BIWI and FLAME regions are not shipped"):
        vertex_groups("biwi")
    with pytest.raises(InputError, match="known: template"):
        vertex_groups("nope")


def test_load_vertex_group_formats(tmp_path):
    lines = tmp_path / "lips.txt"
    lines.write_text("# my lips\n3\n1\n\n2  # a comment\n1\n")
    assert load_vertex_group(lines).tolist() == [3, 1, 2, 1]  # order and repeats kept
    commas = tmp_path / "lve.txt"
    commas.write_text("2, 6, 21, 23")  # CodeTalker's regions format, no final newline
    assert load_vertex_group(commas).tolist() == [2, 6, 21, 23]
    assert load_vertex_group(commas, num_vertices=24).dtype == np.int64
    assert np.array_equal(load_vertex_group("template_lips"), vertex_groups("template")[0])


def test_load_vertex_group_errors(tmp_path):
    with pytest.raises(InputError, match="missing.txt: vertex group file not found"):
        load_vertex_group(tmp_path / "missing.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("1\n2\nthree\n")
    with pytest.raises(InputError, match=r"bad.txt: line 3: expected vertex indices \(integers\), found 'three'"):
        load_vertex_group(bad)
    bad.write_text("1 2.5\n")
    with pytest.raises(InputError, match="found '2.5'"):
        load_vertex_group(bad)
    bad.write_text("4\n-1\n")
    with pytest.raises(InputError, match="line 2: vertex index -1 is negative"):
        load_vertex_group(bad)
    bad.write_text("# only a comment\n\n")
    with pytest.raises(InputError, match="no vertex indices"):
        load_vertex_group(bad)
    bad.write_text("0 5023\n")
    with pytest.raises(InputError, match="vertex index 5023 is out of range for a mesh of 5023 vertices"):
        load_vertex_group(bad, num_vertices=5023)


def test_vertex_groups_found_on_other_faces():
    from talkingface.animation.mesh import face_template
    from talkingface.animation.refine import flame_size_template
    from talkingface.metrics import vertex_groups_for

    lips, upper = vertex_groups("template")
    # The built-in face in millimetres and moved (as BIWI's are): the same vertices exactly.
    moved = face_template().vertices * 1000 + np.array([5.0, -20.0, 300.0])
    found_lips, found_upper = vertex_groups_for(moved)
    assert set(found_lips) == set(lips.tolist()) and set(found_upper) == set(upper.tolist())
    # A denser face of the same surface (5023 vertices, the 478 first): the lips grow by the new
    # vertices between them, and stay apart from the upper face.
    dense = flame_size_template()
    found_lips, found_upper = vertex_groups_for(dense.vertices)
    assert len(set(found_lips) & set(lips.tolist())) >= 0.9 * len(lips) and len(found_lips) > 2 * len(lips)
    assert len(set(found_upper) & set(upper.tolist())) >= 0.9 * len(upper)
    assert not set(found_lips) & set(found_upper)
