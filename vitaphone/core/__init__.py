"""The media pipeline: speech, face analysis, motion, rendering, encoding and marking.

Imports only the standard library, numpy/torch/opencv/media libraries and itself: no settings,
no SQL, no network (see ../shared/STYLE.md).
"""
