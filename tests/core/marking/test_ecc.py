import numpy as np
import pytest

from vitaphone.core.marking import ecc


def test_round_trip_through_noisy_soft_votes() -> None:
    codeword = ecc.encode_payload("0123456789abcdef")
    assert codeword.shape == (ecc.CODED_BITS,)
    rng = np.random.default_rng(1)
    soft = (1.0 - 2.0 * codeword) + rng.normal(0.0, 0.7, codeword.shape)  # ~8 % raw bit errors
    assert np.mean((soft < 0) != codeword) > 0.03
    payload, crc_ok, reencoded = ecc.decode_payload(soft)
    assert (payload, crc_ok) == ("0123456789abcdef", True)
    assert np.array_equal(reencoded, codeword)


def test_random_votes_fail_the_crc() -> None:
    rng = np.random.default_rng(2)
    passed = [ecc.decode_payload(rng.normal(0.0, 1.0, ecc.CODED_BITS))[1] for _ in range(200)]
    assert not any(passed)


def test_one_flipped_payload_bit_changes_the_crc() -> None:
    bits = ecc.payload_to_bits("0123456789abcdef")
    assert ecc.bits_to_payload(bits) == "0123456789abcdef"
    bits[5] ^= 1
    assert (
        ecc._crc_bits(bits).tolist()
        != ecc._crc_bits(ecc.payload_to_bits("0123456789abcdef")).tolist()
    )


@pytest.mark.parametrize("bad", ["0123", "0123456789abcdeg", ""])
def test_malformed_payload_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        ecc.payload_to_bits(bad)
