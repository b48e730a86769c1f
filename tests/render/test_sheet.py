"""The contact sheet frames the face that was animated, not always the largest."""

from __future__ import annotations

import numpy as np

from talkingface.face import detect_faces
from talkingface.media import read_image, resize_image, write_video
from talkingface.render.sheet import write_contact_sheet


def test_the_tiles_frame_the_chosen_face_of_two(tmp_path, photo):
    small = resize_image(photo, 320, 320)
    frame = np.zeros((512, 512 + 320, 3), np.uint8)
    frame[:, :512], frame[96:416, 512:] = photo, small  # the largest face left, another right
    video = write_video(tmp_path / "two.mp4", [frame] * 5, 25)
    faces = detect_faces(frame)
    assert len(faces) == 2 and faces[0].landmarks[:, 0].mean() < 512 < faces[1].landmarks[:, 0].mean()
    tiles = {}
    for index in (0, 1):
        write_contact_sheet(video, [(0.0, "")], tmp_path / f"sheet{index}.png", face_index=index)
        tiles[index] = read_image(tmp_path / f"sheet{index}.png")
    # the same photo at two sizes: each tile is the face, but the background band differs in width
    assert np.abs(tiles[0].astype(int) - tiles[1].astype(int)).mean() > 5
    write_contact_sheet(video, [(0.0, "")], tmp_path / "largest.png")
    assert np.array_equal(read_image(tmp_path / "largest.png"), tiles[0])
    write_contact_sheet(video, [(0.0, "")], tmp_path / "beyond.png", face_index=5)  # fewer faces: the largest
    assert np.array_equal(read_image(tmp_path / "beyond.png"), tiles[0])
