"""Spectral side of the tone-colour converter: formant scale, per-class colour, frame matching.

Three steps take the base voice's spectral envelopes (natural-log power, WORLD's 513 bins at
16 kHz) to the sample speaker's:

1. `estimate_warp` / `warp_frequency`: one vocal-tract-length factor, chosen so the base's
   per-phone mean spectra line up with the sample's (a linear frequency scale, like VTLN).
2. `equalise`: per broad phone class, the smooth (cepstrally liftered) difference between the
   sample's and the warped base's mean spectrum is added: recording colour, tilt and
   class-specific formant balance.
3. `match_frames`: the pre-converted frames now look enough like the sample's that a plain
   k-nearest-neighbour search (restricted to the same phone and voicing) finds the sample's own
   frames of the same sound; their envelopes replace (a share of) the base's. This carries the
   speaker's real fine spectral detail, which no global transform can.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from vitaphone.core.speech.clone_phones import CLASS_OF_PHONE, PHONES, VOWELS
from vitaphone.core.speech.clone_world import N_BINS, RATE_HZ

_FREQS_HZ = np.linspace(0.0, RATE_HZ / 2.0, N_BINS)
_IS_VOWEL = np.array([p in VOWELS for p in PHONES])
WARP_GRID = np.round(np.arange(0.80, 1.3001, 0.01), 3)  # formant scale factors tried
WARP_FIT_MAX_HZ = 5000.0  # formants F1-F4 live below this; above it is mostly frication
LIFTER_COEFFS = 30  # keep quefrencies < 1.9 ms: spectral colour, not harmonics or noise
MIN_PHONE_FRAMES = 10  # a phone mean from fewer sample frames is too noisy to fit a warp to
MIN_CANDIDATES = 20  # fewer sample frames of a phone than this and its class is searched
EQ_SMOOTH_FRAMES = 9  # 45 ms: class offsets change at phone boundaries without clicks


def lifter(log_spectra: np.ndarray, n_coeffs: int = LIFTER_COEFFS) -> np.ndarray:
    """Smooth log spectra (..., N_BINS) across frequency by truncating their real cepstrum."""
    cep = np.fft.irfft(log_spectra, axis=-1)
    cep[..., n_coeffs : cep.shape[-1] - n_coeffs + 1] = 0.0
    return np.fft.rfft(cep, axis=-1).real


def group_means(
    log_sp: np.ndarray, groups: np.ndarray, mask: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean log spectrum per group id over masked frames: ((n_groups, N_BINS), counts (n_groups,))."""
    sums = np.zeros((n_groups, log_sp.shape[1]))
    np.add.at(sums, groups[mask], log_sp[mask])
    counts = np.bincount(groups[mask], minlength=n_groups).astype(np.float64)
    return sums / np.maximum(counts, 1.0)[:, None], counts


def warp_frequency(log_sp: np.ndarray, factor: float) -> np.ndarray:
    """Scale the frequency axis: out(f) = in(f / factor); factor > 1 raises formants."""
    if factor == 1.0:
        return log_sp
    src = np.clip(_FREQS_HZ / factor, 0.0, _FREQS_HZ[-1]) * (N_BINS - 1) / _FREQS_HZ[-1]
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, N_BINS - 1)
    frac = src - i0
    return log_sp[..., i0] * (1.0 - frac) + log_sp[..., i1] * frac


def estimate_warp(
    base_means: np.ndarray,
    base_counts: np.ndarray,
    target_means: np.ndarray,
    target_counts: np.ndarray,
) -> float:
    """The WARP_GRID factor that best maps the base's vowel mean spectra onto the sample's.

    Means: (n_phones, N_BINS) log spectra; counts: frames behind each. Only vowels are compared
    (their formants are what vocal-tract length scales), below WARP_FIT_MAX_HZ, liftered, and
    with each difference's straight-line trend over frequency removed: level and tilt belong to
    the microphone and the voice source, and left in they drag the fit to the grid's edge.
    Weighted by the base frames of each vowel (a mean of a linear warp is the warp of the mean,
    so only the means are warped). Returns 1.0 when fewer than three vowels are shared.
    """
    shared = (base_counts > 0) & (target_counts >= MIN_PHONE_FRAMES) & _IS_VOWEL
    if shared.sum() < 3:
        return 1.0
    band = _FREQS_HZ <= WARP_FIT_MAX_HZ
    # Projection that removes a + b*f from a difference spectrum over the band.
    basis = np.stack([np.ones(band.sum()), _FREQS_HZ[band] / WARP_FIT_MAX_HZ], axis=1)
    detrend = np.eye(band.sum()) - basis @ np.linalg.pinv(basis)
    target = lifter(target_means[shared])[:, band]
    weights = base_counts[shared] / base_counts[shared].sum()
    errors = []
    for factor in WARP_GRID:
        warped = lifter(warp_frequency(base_means[shared], float(factor)))[:, band]
        residual = (warped - target) @ detrend.T
        errors.append(float(weights @ np.mean(residual**2, axis=1)))
    return float(WARP_GRID[int(np.argmin(errors))])


def equalise(
    log_sp: np.ndarray,
    phone_ids: np.ndarray,
    speech: np.ndarray,
    target_class_means: np.ndarray,
    target_class_counts: np.ndarray,
    target_global_mean: np.ndarray,
) -> np.ndarray:
    """Add, per frame, the smooth difference between the sample's and this speech's class mean.

    log_sp: (n, N_BINS) warped base envelopes; phone_ids (n,); speech: bool (n,) frames to
    colour per class (others get the global difference). Returns (n, N_BINS).
    """
    classes = CLASS_OF_PHONE[phone_ids]
    n_classes = len(target_class_counts)
    base_means, base_counts = group_means(log_sp, classes, speech, n_classes)
    global_offset = lifter(target_global_mean - log_sp[speech].mean(axis=0))
    usable = (base_counts > 0) & (target_class_counts >= MIN_CANDIDATES)
    class_offsets = np.where(
        usable[:, None], lifter(target_class_means - base_means), global_offset[None, :]
    )
    offsets = np.where(speech[:, None], class_offsets[classes], global_offset[None, :])
    return log_sp + uniform_filter1d(offsets, EQ_SMOOTH_FRAMES, axis=0)


def candidate_sets(
    query_phone: np.ndarray,
    query_voiced: np.ndarray,
    target_phone: np.ndarray,
    target_voiced: np.ndarray,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group query frames by (phone, voicing) with the sample frames they may be matched with.

    Each query group searches the sample's frames of the same phone and voicing; with fewer than
    MIN_CANDIDATES of those, the same broad class and voicing; then the same voicing; then all.
    Returns [(query indices, candidate indices)].
    """
    target_class = CLASS_OF_PHONE[target_phone]
    groups = []
    for phone in np.unique(query_phone):
        for voiced in (False, True):
            queries = np.flatnonzero((query_phone == phone) & (query_voiced == voiced))
            if len(queries) == 0:
                continue
            same_voicing = target_voiced == voiced
            for pool in (
                same_voicing & (target_phone == phone),
                same_voicing & (target_class == CLASS_OF_PHONE[phone]),
                same_voicing,
                np.ones_like(same_voicing),
            ):
                if pool.sum() >= MIN_CANDIDATES or pool.all():
                    break
            groups.append((queries, np.flatnonzero(pool)))
    return groups


def match_frames(
    query_features: np.ndarray,
    query_phone: np.ndarray,
    query_voiced: np.ndarray,
    target_features: np.ndarray,
    target_phone: np.ndarray,
    target_voiced: np.ndarray,
    k: int,
) -> np.ndarray:
    """Indices (n_query, k) of each query frame's k nearest sample frames (Euclidean).

    Features: (n, d) float; phones: ids (n,); voiced: bool (n,). Distances are computed as one
    matrix product per candidate group (|q|^2 + |r|^2 - 2 q.r), no index structure needed for
    the few thousand frames a sample has.
    """
    out = np.zeros((len(query_features), k), dtype=np.int64)
    for queries, candidates in candidate_sets(
        query_phone, query_voiced, target_phone, target_voiced
    ):
        q = query_features[queries]
        r = target_features[candidates]
        dist = (q * q).sum(1)[:, None] + (r * r).sum(1)[None, :] - 2.0 * (q @ r.T)
        kk = min(k, len(candidates))
        nearest = np.argpartition(dist, kk - 1, axis=1)[:, :kk]
        # Fewer candidates than k (tiny samples): repeat the nearest ones to fill the row.
        out[queries] = candidates[nearest[:, np.arange(k) % kk]]
    return out
