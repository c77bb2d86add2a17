"""Parts of the contract that are not a problem's: parameter groups, the estimate's dimension, hooks."""
import pytest

from engine.problems.registry import get_problem
from engine.problems.spec import ParameterGroup, loaded_observation


def test_an_image_group_has_no_labels_and_every_other_one_has_some():
    ParameterGroup("image", (), "", kind="image")
    with pytest.raises(ValueError, match="an image group has no labels"):
        ParameterGroup("image", ("a",), "", kind="image")
    with pytest.raises(ValueError, match="an image group has no labels"):
        ParameterGroup("pose", (), "m")


def test_the_estimate_of_an_image_problem_is_the_size_of_an_observation_item():
    assert get_problem("jpeg").x_dimension((3, 20, 30)) == 1800
    assert get_problem("tracker-fusion").x_dimension((72, 5)) == 4


def test_only_problems_holding_an_observation_offer_one():
    jpeg = get_problem("jpeg")
    assert loaded_observation(jpeg.make(jpeg.config(scene_size=16), {}, "cpu", 1)) is None
    fusion = get_problem("tracker-fusion")
    assert loaded_observation(fusion.make(fusion.config(), {}, "cpu", 1)) is None
