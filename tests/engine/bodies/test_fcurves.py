import numpy as np
import pytest

from engine.bodies.fcurves import Key, evaluate, sample_action


def key(frame, value, left=None, right=None, interpolation="BEZIER"):
    return Key(frame, value, left or (frame - 1.0, value), right or (frame + 1.0, value), interpolation)


def test_passes_through_keys_and_is_constant_outside():
    keys = [key(0, 1.0), key(5, -2.0, (3.3, -2.0), (6.7, -2.0)), key(10, 4.0)]
    np.testing.assert_allclose(evaluate(keys, [-3, 0, 5, 10, 14]), [1.0, 1.0, -2.0, 4.0, 4.0], atol=1e-9)


def test_handles_on_the_line_at_thirds_give_a_straight_line():
    keys = [Key(0.0, 0.0, (-1.0, -0.3), (1.0, 0.3), "BEZIER"), Key(3.0, 0.9, (2.0, 0.6), (4.0, 1.2), "BEZIER")]
    frames = np.linspace(0.0, 3.0, 13)
    np.testing.assert_allclose(evaluate(keys, frames), 0.3 * frames, atol=1e-9)


def test_flat_handles_ease_symmetrically():
    keys = [key(0, 0.0, right=(10 / 3, 0.0)), key(10, 1.0, left=(20 / 3, 1.0))]
    values = evaluate(keys, [2.0, 5.0, 8.0])
    assert values[1] == pytest.approx(0.5)
    assert values[0] == pytest.approx(1.0 - values[2]) and values[0] < 0.2  # eases in: slower than linear


def test_overlong_handles_are_shortened_so_the_curve_stays_a_function_of_time():
    keys = [key(0, 0.0, right=(9.0, 0.0)), key(10, 1.0, left=(1.0, 1.0))]
    values = evaluate(keys, np.linspace(0.0, 10.0, 101))
    assert np.isfinite(values).all() and (np.diff(values) >= -1e-12).all()


def test_linear_and_constant_interpolation():
    assert evaluate([key(0, 0.0, interpolation="LINEAR"), key(4, 2.0)], [1.0])[0] == pytest.approx(0.5)
    assert evaluate([key(0, 0.0, interpolation="CONSTANT"), key(4, 2.0)], [3.9])[0] == 0.0
    with pytest.raises(ValueError, match="unsupported"):
        evaluate([key(0, 0.0, interpolation="ELASTIC"), key(4, 2.0)], [1.0])


def test_sample_action_reads_mpfb2_animation_data():
    def channel(frame, values):
        return {"values": values, "metadata": [{"handle_left": [frame - 1, v], "handle_right": [frame + 1, v],
                                                "interpolation": "LINEAR"} for v in values]}
    data = {"root": {"0": {"location": channel(0, [0.0, 0.0, 0.0])},
                     "10": {"location": channel(10, [1.0, 2.0, 3.0]), "rotation_euler": channel(10, [0.5, 0.0, 0.0])}}}
    sampled = sample_action(data, [0, 5, 10])
    np.testing.assert_allclose(sampled["root"]["location"], [[0, 0, 0], [0.5, 1.0, 1.5], [1, 2, 3]])
    np.testing.assert_allclose(sampled["root"]["rotation_euler"][:, 0], 0.5)  # keyed once: constant
