"""Marks that make every video recognisable as synthetic and traceable to its record.

- `label`: the visible "AI-generated" badge (and the bots' caption text);
- `watermark` + `ecc`: the invisible 64-bit payload in the luma of every frame;
- `c2pa_credentials`: the signing chain, C2PA signing and reading back;
- `marks`: `finish_video` (watermark, label, encode, sign: nothing can be skipped) and
  `inspect_video` (what a file carries).
"""
