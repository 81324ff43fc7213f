"""Prosody analysis on real speech: loudness gate, pitch, vowel band."""

from __future__ import annotations

import numpy as np

from vitaphone.core.motion.prosody import _analysis, analyse_prosody
from vitaphone.core.motion.visemes import Viseme, viseme_of
from vitaphone.core.speech.types import SILENCE


def test_pitch_of_a_male_voice_and_a_pure_tone(einstein):
    _, _, f0 = _analysis(einstein.samples, einstein.sample_rate_hz)
    voiced = f0[f0 > 0]
    assert voiced.size > 0.4 * f0.size  # most of the speech is voiced
    assert 80 < np.median(voiced) < 140  # flite's rms voice is a low male voice
    t = np.arange(16000) / 16000
    _, _, tone = _analysis((0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    assert np.median(tone[tone > 0]) == np.float32(200.0)


def test_speaking_gate_and_vowel_band(einstein):
    n = int(np.ceil(einstein.duration_s * 25))
    p = analyse_prosody(einstein.samples, einstein.sample_rate_hz, n, 25.0)
    assert p.energy_db.shape == p.vowel_db.shape == p.accent.shape == (n,)
    t = (np.arange(n) + 0.5) / 25

    def frames_of(kind):
        return [int(0.5 * (ph.start_s + ph.end_s) * 25) for ph in einstein.phones
                if (ph.phone == SILENCE) == (kind == "sil")
                and (kind != "open" or viseme_of(ph.phone) in (Viseme.OPEN, Viseme.MID))
                and (kind != "fric" or ph.phone in ("S", "Z", "SH", "F", "TH"))]

    assert not p.speaking[0] and p.speaking[frames_of("open")].mean() > 0.95
    # Open vowels are loud in the first-formant band; fricatives are not.
    assert np.median(p.vowel_db[frames_of("open")]) > np.median(p.vowel_db[frames_of("fric")]) + 6
    assert np.all(p.accent[~p.speaking] == 0) and p.accent.max() > 0.3
    assert t[p.speaking][0] > 0.1  # flite's leading pause is not speech
