"""The panels: the first camera's view, the 3D skeleton and the energy over the yaw before and after training."""
import numpy as np

from engine.problems.spec import config_to_dict

from engine.problems.pose_from_2d import SPEC
from engine.problems.pose_from_2d.pictures import on_smpl_tree

from .conftest import instances


def test_panels_draw_estimate_and_truth():
    problem, truth, observation = instances(4, 1)
    x0 = problem.initial_estimate()
    config = config_to_dict(problem.config)
    for panel in SPEC.panels:
        for known in (truth[0].numpy(), None):
            image = panel.picture(observation[0].numpy(), observation[0].numpy(), x0[0].numpy(), known, config)
            assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, panel.key
            assert image.std() > 5, panel.key
    detections = SPEC.draw_observation(observation[0].numpy())
    assert detections.shape == (240, 240, 3)


def test_the_17_joints_stand_on_the_smpl_tree():
    joints = np.arange(51, dtype=np.float64).reshape(17, 3)
    tree = on_smpl_tree(joints)
    assert tree.shape == (24, 3)
    np.testing.assert_array_equal(tree[15], joints[10])  # SMPL's head: the head top
    np.testing.assert_array_equal(tree[6], (joints[7] + joints[8]) / 2)


def test_the_energy_panel_compares_the_untrained_and_the_configured_energy():
    problem, truth, observation = instances(4, 1)
    panel = next(panel for panel in SPEC.panels if panel.key == "energy")
    item = (observation[0].numpy(), observation[0].numpy(), truth[0].numpy(), truth[0].numpy())
    both = panel.picture(*item, dict(config_to_dict(problem.config), energy="trained"))
    alone = panel.picture(*item, dict(config_to_dict(problem.config), energy="untrained"))
    blue = (40, 110, 200)
    assert (both == blue).all(-1).sum() > (alone == blue).all(-1).sum() + 50, "the learned curve is drawn in blue"
