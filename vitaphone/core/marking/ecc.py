"""Error control for the watermark payload: CRC-32 checksum + K=7 rate-1/3 convolutional code.

Why a convolutional code with a soft-decision Viterbi decoder rather than Reed-Solomon or BCH:
the watermark detector does not see bits, it sees soft votes (how sure each embedded slot is,
averaged over all frames). Soft Viterbi uses those confidences directly, worth ~2 dB over
hard-decision block codes at the same rate, in ~60 lines of numpy with no extra dependency.

Codeword layout: payload (64 bits) + CRC-32 of a domain tag + payload (32 bits) + 6 zero tail
bits that return the encoder to state 0, all times 3 output bits = 306 coded bits.
"""

from __future__ import annotations

import zlib

import numpy as np

PAYLOAD_BITS = 64
CRC_BITS = 32
_K = 7  # constraint length: 64 trellis states
_GENERATORS = (0o133, 0o171, 0o165)  # the LTE/3GPP rate-1/3 K=7 code (free distance 15)
_N_STATES = 1 << (_K - 1)
_TAG = b"vitaphone-wm-v1"  # CRC domain tag: another scheme's payload does not pass our check
MESSAGE_BITS = PAYLOAD_BITS + CRC_BITS
CODED_BITS = (MESSAGE_BITS + _K - 1) * len(_GENERATORS)


def _parity(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    for shift in (4, 2, 1):
        x ^= x >> shift
    return x & 1


# Output bits for every 7-bit shift register value (newest bit lowest): (128, 3) uint8.
_REG = np.arange(1 << _K, dtype=np.int64)
_OUTPUTS = np.stack([_parity(_REG & g) for g in _GENERATORS], axis=1).astype(np.uint8)


def payload_to_bits(payload_hex: str) -> np.ndarray:
    """16 hex digits -> (64,) uint8 bits, most significant first. ValueError if malformed."""
    if len(payload_hex) != PAYLOAD_BITS // 4:
        raise ValueError(
            f"watermark payload must be {PAYLOAD_BITS // 4} hex digits, got {payload_hex!r}"
        )
    value = bytes.fromhex(payload_hex)
    return np.unpackbits(np.frombuffer(value, np.uint8))


def bits_to_payload(bits: np.ndarray) -> str:
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def _crc_bits(payload_bits: np.ndarray) -> np.ndarray:
    crc = zlib.crc32(_TAG + np.packbits(payload_bits).tobytes())
    return np.unpackbits(np.frombuffer(crc.to_bytes(4, "big"), np.uint8))


def encode_payload(payload_hex: str) -> np.ndarray:
    """Payload -> (CODED_BITS,) uint8 codeword (payload + CRC-32, convolutionally encoded)."""
    bits = payload_to_bits(payload_hex)
    return conv_encode(np.concatenate([bits, _crc_bits(bits)]))


def conv_encode(message: np.ndarray) -> np.ndarray:
    """(m,) bits -> ((m + 6) * 3,) coded bits, zero-terminated."""
    padded = np.concatenate([message.astype(np.int64), np.zeros(_K - 1, np.int64)])
    registers = np.zeros(len(padded), np.int64)
    reg = 0
    for i, bit in enumerate(padded):
        reg = ((reg << 1) | int(bit)) & ((1 << _K) - 1)
        registers[i] = reg
    return _OUTPUTS[registers].reshape(-1)


def viterbi_decode(soft: np.ndarray) -> np.ndarray:
    """Soft votes (CODED_BITS,) float, > 0 meaning bit 0 -> maximum-likelihood message bits.

    State n holds the last 6 input bits (newest lowest); its two predecessors differ in the
    bit that leaves the register (x), and the full register is then n | x << 6.
    """
    n_out = len(_GENERATORS)
    votes = soft.reshape(-1, n_out).astype(np.float64)
    signs = 1.0 - 2.0 * _OUTPUTS.astype(np.float64)  # (128, 3): +1 for a 0 bit
    states = np.arange(_N_STATES)
    pred = np.stack([(states >> 1), (states >> 1) | (1 << (_K - 2))])  # (2, 64)
    regs = np.stack([states, states | (1 << (_K - 1))])  # (2, 64)
    metric = np.full(_N_STATES, -np.inf)
    metric[0] = 0.0
    choices = np.zeros((len(votes), _N_STATES), np.uint8)
    for t, vote in enumerate(votes):
        branch = signs @ vote  # (128,) correlation of each register's output with the votes
        candidates = metric[pred] + branch[regs]  # (2, 64)
        choices[t] = np.argmax(candidates, axis=0)
        metric = candidates[choices[t], states]
    state = 0  # the tail bits drove the encoder back to state 0
    bits = np.zeros(len(votes), np.uint8)
    for t in range(len(votes) - 1, -1, -1):
        bits[t] = state & 1
        state = int(pred[choices[t, state], state])
    return bits[: len(votes) - (_K - 1)]


def decode_payload(soft: np.ndarray) -> tuple[str, bool, np.ndarray]:
    """Soft votes -> (payload hex, CRC matches, re-encoded codeword (CODED_BITS,) uint8)."""
    message = viterbi_decode(soft)
    payload_bits, crc = message[:PAYLOAD_BITS], message[PAYLOAD_BITS:]
    codeword = conv_encode(message)
    return (
        bits_to_payload(payload_bits),
        bool(np.array_equal(crc, _crc_bits(payload_bits))),
        codeword,
    )
