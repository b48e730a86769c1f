import numpy as np
import pytest
from tests.face.conftest import place

from talkingface.errors import InputError
from talkingface.face import detect_faces
from talkingface.face.blend import lower_face_polygon, paste_back
from talkingface.face.crops import (
    ALIGNED_TEMPLATE,
    aligned_crop,
    alignment_points,
    crop_box,
    smooth_boxes_mean,
    wav2lip_box,
)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255**2 / mse) if mse else np.inf


@pytest.fixture(scope="module")
def landmarks(photo):
    return detect_faces(photo)[0].landmarks


def test_wav2lip_box_is_square_padded_and_clipped(landmarks):
    plain = wav2lip_box(landmarks, (512, 512), pads=(0, 0, 0, 0))
    assert plain[2] - plain[0] == pytest.approx(plain[3] - plain[1], abs=1)
    assert plain[1] < landmarks[152, 1] <= plain[3] and plain[0] < landmarks[234, 0]
    padded = wav2lip_box(landmarks, (512, 512))
    assert (padded - plain).tolist() == [0, 0, 0, 10]
    # A face at the frame's edge: clipped, never outside.
    shifted = landmarks.copy()
    shifted[:, 0] -= 200
    edge = wav2lip_box(shifted, (512, 512))
    assert edge[0] == 0 and edge[2] < plain[2] - 150


def test_crop_transform_maps_points_both_ways(photo, landmarks):
    box = wav2lip_box(landmarks, (512, 512))
    crop = crop_box(photo, box, 96)
    assert crop.image.shape == (96, 96, 3)
    points = landmarks[:, :2]
    np.testing.assert_allclose(crop.to_frame(crop.to_crop(points)), points, atol=1e-6)
    # Pixels agree: sampling the frame where the inverse transform puts each crop pixel gives the crop.
    import cv2

    big = crop_box(photo, box, 256)
    u, v = np.meshgrid(np.arange(256, dtype=np.float64), np.arange(256, dtype=np.float64))
    xy = big.to_frame(np.stack([u.ravel(), v.ravel()], 1)).astype(np.float32)
    sampled = cv2.remap(photo, xy[:, 0].reshape(256, 256), xy[:, 1].reshape(256, 256), cv2.INTER_LINEAR)
    assert np.abs(sampled[2:-2, 2:-2].astype(int) - big.image[2:-2, 2:-2]).mean() < 1.0


def test_aligned_crop_undoes_head_roll(photo, landmarks):
    import cv2

    crop = aligned_crop(photo, landmarks, size=192)
    assert crop.image.shape == (192, 192, 3)
    mapped = crop.to_crop(alignment_points(landmarks))
    np.testing.assert_allclose(mapped[:2], ALIGNED_TEMPLATE[:2] * 192, atol=6)
    # Roll the whole photo by 25 degrees: the aligned crop of the rolled face looks the same.
    frame = place(photo, (800, 800), 150, 150)
    roll = cv2.getRotationMatrix2D((400.0, 400.0), 25, 1.0)
    rolled = cv2.warpAffine(frame, roll, (800, 800), flags=cv2.INTER_LINEAR)
    moved = np.concatenate([landmarks[:, :2] + 150, np.ones((len(landmarks), 1))], 1) @ roll.T
    rolled_crop = aligned_crop(rolled, np.concatenate([moved, landmarks[:, 2:]], 1), size=192)
    centre = (slice(40, 152), slice(40, 152))
    assert np.abs(rolled_crop.image[centre].astype(int) - crop.image[centre]).mean() < 8


@pytest.mark.parametrize("size", [96, 288])
def test_paste_back_of_an_unchanged_crop_reproduces_the_frame(photo, landmarks, size):
    crop = crop_box(photo, wav2lip_box(landmarks, (512, 512)), size)
    soft = paste_back(photo, crop.image, crop, landmarks=landmarks)
    x1, y1, x2, y2 = crop.box
    assert psnr(soft, photo) > 50
    assert psnr(soft[y1:y2, x1:x2], photo[y1:y2, x1:x2]) > (38 if size == 96 else 45)
    assert psnr(paste_back(photo, crop.image, crop, mode="hard"), photo) > 40


def test_soft_paste_has_no_box_seam_and_hard_paste_is_the_reference(photo, landmarks):
    import cv2

    crop = crop_box(photo, wav2lip_box(landmarks, (512, 512)), 96)
    dark = (crop.image * 0.5).astype(np.uint8)
    x1, y1, x2, y2 = crop.box
    hard = paste_back(photo, dark, crop, mode="hard")
    reference = photo.copy()
    reference[y1:y2, x1:x2] = cv2.resize(dark, (x2 - x1, y2 - y1))
    np.testing.assert_array_equal(hard, reference)
    soft = paste_back(photo, dark, crop, landmarks=landmarks)
    # Along the box outline the soft result is the untouched frame: no edge to see.
    outline = np.concatenate([soft[y1, x1:x2], soft[y2 - 1, x1:x2], soft[y1:y2, x1], soft[y1:y2, x2 - 1]])
    original = np.concatenate([photo[y1, x1:x2], photo[y2 - 1, x1:x2], photo[y1:y2, x1], photo[y1:y2, x2 - 1]])
    assert np.abs(outline.astype(int) - original).max() <= 2
    # The mouth itself is replaced.
    mx, my = np.round(landmarks[13, :2]).astype(int)
    assert soft[my, mx].astype(int).sum() < 0.7 * photo[my, mx].astype(int).sum()
    # Above the nose nothing changes (only the lower face is pasted).
    eye_x, eye_y = np.round(landmarks[468, :2]).astype(int)
    assert (
        soft[eye_y - 3 : eye_y + 3, eye_x - 3 : eye_x + 3] == photo[eye_y - 3 : eye_y + 3, eye_x - 3 : eye_x + 3]
    ).all()


def test_colour_matching_hides_a_colour_shift(photo, landmarks):
    crop = crop_box(photo, wav2lip_box(landmarks, (512, 512)), 96)
    tinted = np.clip(crop.image.astype(int) + np.array([40, -20, 10]), 0, 255).astype(np.uint8)
    plain = paste_back(photo, tinted, crop, landmarks=landmarks)
    matched = paste_back(photo, tinted, crop, landmarks=landmarks, color_match=True)
    polygon = lower_face_polygon(landmarks)
    (px1, py1), (px2, py2) = polygon.min(0).astype(int), polygon.max(0).astype(int)
    region = (slice(py1, py2), slice(px1, px2))

    def error(out):
        return np.abs(out[region].astype(int) - photo[region]).mean()

    assert error(matched) < 0.5 * error(plain)


def test_reference_box_smoothing():
    boxes = np.arange(40, dtype=float).reshape(10, 4)
    out = smooth_boxes_mean(boxes, 5)
    np.testing.assert_allclose(out[0], boxes[0:5].mean(0))
    np.testing.assert_allclose(out[9], boxes[5:10].mean(0))


def test_bad_input(photo, landmarks):
    with pytest.raises(InputError, match="NaN"):
        wav2lip_box(np.full((478, 3), np.nan), (512, 512))
    crop = crop_box(photo, wav2lip_box(landmarks, (512, 512)), 96)
    with pytest.raises(InputError, match="mode"):
        paste_back(photo, crop.image, crop, mode="blend")
    with pytest.raises(InputError, match="not inside"):
        crop_box(photo, np.array([500, 0, 600, 100]), 96)
