from dataclasses import replace

import pytest
import torch

from engine.bodies.skeleton import MAIN_CHILD, NUM_JOINTS
from engine.problems.ik import ikol
from engine.problems.ik.data import split_poses
from engine.problems.ik.ikol_solver import IKOL_SOLVERS, IKOLParams, IKOLSolver
from engine.problems.ik.kinematics import forward_kinematics, geodesic_angle, rotations_from_x
from engine.problems.ik.problem import POSED_JOINTS
from engine.problems.registry import get_problem
from engine.rotations import axis_angle_to_matrix

SWING = list(ikol.SWING_JOINTS)


def split_x(count, dtype=torch.float32):
    """(count, 72) poses of the test split."""
    return split_poses("test", count).reshape(count, -1).to(dtype)


def with_root(x, seed=0):
    x = x.clone()
    x[:, :3] = torch.randn(len(x), 3, generator=torch.Generator().manual_seed(seed), dtype=x.dtype)
    return x


def targets_of(x, rest):
    return forward_kinematics(rotations_from_x(x), rest.to(x))


def position_error_cm(joints, targets):
    return 100 * (joints - targets).norm(dim=2).mean()


def rotation_error_deg(rotations, x):
    return torch.rad2deg(geodesic_angle(rotations, rotations_from_x(x))[:, list(POSED_JOINTS)]).mean()


def test_swing_and_twist_recompose_the_rotations(rest_joints):
    x = with_root(split_x(8))
    swing, twist = ikol.swing_twist(x, rest_joints)
    assert swing.shape == twist.shape == (8, ikol.NUM_SWING)
    assert swing.min() >= 0 and swing.max() <= torch.pi and twist.abs().max() <= torch.pi
    bones = rest_joints[[MAIN_CHILD[j] for j in SWING]] - rest_joints[SWING]
    t = (bones / bones.norm(dim=1, keepdim=True)).expand(8, -1, -1)
    rotations = rotations_from_x(x)[:, SWING]
    axes = ikol.swing_axis(t, (rotations @ t[..., None]).squeeze(-1))
    recomposed = ikol.axis_rotation(axes, swing.cos(), swing.sin()) @ ikol.axis_rotation(t, twist.cos(), twist.sin())
    torch.testing.assert_close(recomposed, rotations, atol=1e-5, rtol=0)


def test_the_true_swing_reproduces_the_targets_exactly(rest_joints):
    x = with_root(split_x(20))
    targets = targets_of(x, rest_joints)
    swing, twist = ikol.swing_twist(x, rest_joints)
    inputs = ikol.swing_inputs(targets, twist, rest_joints)
    torch.testing.assert_close(ikol.swing_forward(swing, inputs), targets, atol=1e-5, rtol=0)
    rotations = ikol.local_rotations(swing, inputs)
    torch.testing.assert_close(rotations[:, list(POSED_JOINTS)], rotations_from_x(x)[:, list(POSED_JOINTS)],
                               atol=1e-5, rtol=0)
    assert torch.equal(rotations[:, list(ikol.LEAF_JOINTS)], torch.eye(3).expand(20, 5, 3, 3))


def test_the_layer_converges_from_zero_swing_with_the_true_twist(rest_joints):
    """IKOL's settings (u = 0.1, residuals in metres): the short distal bones (feet, hands, head) gain only
    |J_i|^2 / (|J_i|^2 + u) of their step per iteration, so 5 iterations leave about 3 cm on these wide poses."""
    x = split_x(50)
    targets = targets_of(x, rest_joints)
    result = ikol.ikol_layer(targets, ikol.swing_twist(x, rest_joints)[1], rest_joints, iterations=15)
    errors = [float(position_error_cm(result.joints(k), targets)) for k in range(16)]
    print("position error (cm) after each iteration:", " ".join(f"{e:.2f}" for e in errors))
    assert len(result.alphas) == 16 and torch.equal(result.alphas[0], torch.zeros(50, ikol.NUM_SWING))
    assert all(later < earlier for earlier, later in zip(errors, errors[1:]))
    assert errors[0] > 30 and errors[5] < 3.5 and errors[15] < 1.0
    assert rotation_error_deg(result.rotations(15), x) < rotation_error_deg(result.rotations(5), x) < 15


def test_the_analytic_jacobian_matches_autodiff(rest_joints):
    x = with_root(split_x(3, torch.float64), seed=1)
    rest = rest_joints.double()
    targets = targets_of(x, rest)
    inputs = ikol.swing_inputs(targets, ikol.swing_twist(x, rest)[1] + 0.2, rest)
    for alpha in (torch.zeros(3, ikol.NUM_SWING, dtype=torch.float64),
                  torch.randn(3, ikol.NUM_SWING, generator=torch.Generator().manual_seed(2), dtype=torch.float64)):
        expected = torch.func.jacfwd(lambda v: ikol.swing_forward(alpha + v, inputs).flatten(1))(
            torch.zeros(ikol.NUM_SWING, dtype=torch.float64))  # items are independent: a shared tangent suffices
        torch.testing.assert_close(ikol.swing_jacobian(alpha, inputs), expected, atol=1e-12, rtol=0)


def test_parallel_bones_fall_back_to_a_perpendicular_axis_with_finite_gradients(rest_joints):
    targets = targets_of(torch.zeros(2, 3 * NUM_JOINTS), rest_joints)  # the rest pose: every d_i along t_i
    folded = split_x(2)
    folded[:, 3 * 18 + 1] = -torch.pi  # left elbow folded back along the upper arm: d_i opposite t_i
    targets = torch.cat([targets, targets_of(folded, rest_joints)]).requires_grad_()
    t = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.6, 0.8]])
    axes = ikol.swing_axis(torch.cat([t, t]), torch.cat([3 * t, -t]))
    torch.testing.assert_close(axes.norm(dim=1), torch.ones(4))
    torch.testing.assert_close((axes * torch.cat([t, t])).sum(1), torch.zeros(4))
    result = ikol.ikol_layer(targets, torch.zeros(4, ikol.NUM_SWING), rest_joints)
    assert torch.allclose(result.alphas[-1][:2], torch.zeros(2, ikol.NUM_SWING), atol=1e-6)
    result.rotations().sum().backward()
    assert torch.isfinite(targets.grad).all()


def test_the_pelvis_closed_form_recovers_a_random_root_rotation(rest_joints):
    x = with_root(split_x(5), seed=3)
    targets = targets_of(x, rest_joints)
    root = axis_angle_to_matrix(x[:, :3])
    torch.testing.assert_close(ikol.pelvis_rotation(targets, rest_joints), root, atol=1e-5, rtol=0)
    weights = torch.tensor([2.0, 1.0, 0.5])
    torch.testing.assert_close(ikol.pelvis_rotation(targets + 0.4, rest_joints, weights), root, atol=1e-5, rtol=0)
    inputs = ikol.swing_inputs(targets, torch.zeros(5, ikol.NUM_SWING), rest_joints)
    torch.testing.assert_close(ikol.local_rotations(torch.zeros(5, ikol.NUM_SWING), inputs)[:, 0], root,
                               atol=1e-5, rtol=0)
    assert torch.allclose(torch.linalg.det(ikol.pelvis_rotation(-targets, rest_joints)), torch.ones(5))


@pytest.mark.parametrize("batch", [1, 3])
def test_batch_shapes(rest_joints, batch):
    x = split_x(batch)
    targets = targets_of(x, rest_joints)
    twist = ikol.twist_cos_sin(ikol.swing_twist(x, rest_joints)[1])
    assert twist.shape == (batch, ikol.NUM_SWING, 2)
    result = ikol.ikol_layer(targets, 3.0 * twist, rest_joints.expand(batch, -1, -1), iterations=2)
    assert len(result.alphas) == 3 and all(a.shape == (batch, ikol.NUM_SWING) for a in result.alphas)
    assert [r.shape for r in result.residuals] == [(batch, 3 * NUM_JOINTS)] * 2
    assert result.rotations().shape == (batch, NUM_JOINTS, 3, 3)
    assert result.x(1).shape == (batch, 3 * NUM_JOINTS) and result.joints(0).shape == (batch, NUM_JOINTS, 3)
    angles = ikol.ikol_layer(targets, ikol.swing_twist(x, rest_joints)[1], rest_joints, iterations=2)
    torch.testing.assert_close(angles.alphas[-1], result.alphas[-1], atol=1e-5, rtol=0)  # (cos, sin) normalised
    torch.testing.assert_close(targets_of(result.x(), rest_joints), result.joints(), atol=1e-5, rtol=0)


def test_bad_input_is_refused_with_one_line(rest_joints):
    x = split_x(2)
    targets = targets_of(x, rest_joints)
    twist = torch.zeros(2, ikol.NUM_SWING)
    nan = targets.clone()
    nan[0, 4, 1] = float("nan")
    cases = [
        (lambda: ikol.ikol_layer(targets[:, :17], twist, rest_joints), "target joints must have shape"),
        (lambda: ikol.ikol_layer(nan, twist, rest_joints), "target joints contain NaN"),
        (lambda: ikol.ikol_layer(targets, twist[:, :17], rest_joints), "twist must be angles"),
        (lambda: ikol.ikol_layer(targets, twist.expand(3, -1, -1), rest_joints), "twist must be angles"),
        (lambda: ikol.ikol_layer(targets, torch.full_like(twist, float("nan")), rest_joints), "twist angles contain"),
        (lambda: ikol.ikol_layer(targets, torch.zeros(2, ikol.NUM_SWING, 2), rest_joints), "not zero"),
        (lambda: ikol.ikol_layer(targets, twist, rest_joints[:17]), "24-joint skeleton.*got \\(17, 3\\)"),
        (lambda: ikol.ikol_layer(targets, twist, rest_joints, damping=0.0), "damping u must be a positive"),
        (lambda: ikol.ikol_layer(targets, twist, rest_joints, iterations=-1), "whole number"),
        (lambda: ikol.swing_twist(x[:, :69], rest_joints), "shape \\(B, 72\\)"),
        (lambda: ikol.pelvis_rotation(targets, rest_joints, torch.ones(2)), "pelvis weights"),
        (lambda: ikol.gauss_newton_step(torch.zeros(2, 17), ikol.swing_inputs(targets, twist, rest_joints)),
         "swing angles must have shape"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as error:
            call()
        assert "\n" not in str(error.value)


def gradcheck_inputs(rest_joints):
    x = split_x(2, torch.float64)
    rest = rest_joints.double()
    return x, rest, targets_of(x, rest), ikol.swing_twist(x, rest)[1]


def test_gradcheck_the_layer_against_the_twist_and_the_targets(rest_joints):
    x, rest, targets, twist = gradcheck_inputs(rest_joints)
    cos_sin = ikol.twist_cos_sin(twist + 0.1).requires_grad_()
    assert torch.autograd.gradcheck(lambda c: ikol.ikol_layer(targets, c, rest).rotations(), (cos_sin,),
                                    fast_mode=True)
    noisy = (targets + 0.01 * torch.randn(targets.shape, generator=torch.Generator().manual_seed(0),
                                          dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(lambda p: ikol.ikol_layer(p, twist, rest).rotations(), (noisy,), fast_mode=True)


def test_a_constant_jacobian_changes_gradients_not_values(rest_joints):
    x, rest, targets, twist = gradcheck_inputs(rest_joints)
    gradients, values = [], []
    for constant in (False, True):
        p = targets.clone().requires_grad_()
        cos_sin = ikol.twist_cos_sin(twist).requires_grad_()
        result = ikol.ikol_layer(p, cos_sin, rest, constant_jacobian=constant)
        rotations = result.rotations()
        (rotations - rotations_from_x(x)).square().sum().backward()
        values.append((rotations.detach(), torch.stack(result.alphas).detach()))
        gradients.append((p.grad, cos_sin.grad))
    assert all(torch.equal(a, b) for a, b in zip(*values))
    for grad in gradients[1]:
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    assert not torch.allclose(gradients[0][0], gradients[1][0])


def solve(solver, problem, observation, truth):
    return list(solver.iterate(problem, observation, problem.initial_estimate(), truth))


def test_the_solver_records_each_iteration(device):
    spec = get_problem("ik")
    problem = spec.make(spec.config(), {}, device, 20)
    truth = split_x(20).to(device)
    observation = problem.forward(truth)
    runs = {}
    for entry in IKOL_SOLVERS:
        records = solve(entry.factory(learning_rate=0.5), problem, observation, truth)
        assert len(records) == 6 and [r.index for r in records] == list(range(6))
        assert records[0].x.device.type == device.type and records[-1].prediction.shape == (20, NUM_JOINTS, 3)
        energy = torch.stack([r.energy for r in records])
        assert (energy[1:] <= energy[:-1]).all(0).float().mean() >= 0.8
        assert set(records[1].info) == {"step_norm", "damping", "swing_residual_cm"}
        assert torch.allclose(records[1].info["damping"].cpu(), torch.full((20,), 0.1))
        elsewhere = entry.factory(max_iterations=1).iterate(problem, observation, 0.3 * truth, truth)
        assert torch.equal(next(iter(elsewhere)).x, records[0].x)  # x0 is ignored: record 0 is alpha = 0
        runs[entry.name] = records[-1].metrics
    print({name: {key: round(float(value.mean()), 2) for key, value in metrics.items()}
           for name, metrics in runs.items()})
    assert runs["ikol"]["position_error_cm"].mean() < 3.5 and runs["ikol-zero"]["position_error_cm"].mean() < 3.5
    assert runs["ikol-zero"]["rotation_error_deg"].mean() > runs["ikol"]["rotation_error_deg"].mean() + 10


def test_the_solver_needs_ground_truth_for_the_true_twist():
    spec = get_problem("ik")
    problem = spec.make(spec.config(), {}, "cpu", 2)
    observation = problem.forward(split_x(2))
    with pytest.raises(ValueError, match="^solver ikol takes each joint's twist from the ground truth.*ikol-net"):
        solve(entry_solver("ikol"), problem, observation, None)
    assert len(solve(entry_solver("ikol-zero", max_iterations=2), problem, observation, None)) == 6  # not a limit of IKOL
    with pytest.raises(ValueError, match="IKOL needs SMPL's 24-joint skeleton"):
        solve(entry_solver("ikol-zero"), replace(problem, rest_joints=torch.zeros(17, 3)), observation, None)


def entry_solver(name, **options):
    return next(entry for entry in IKOL_SOLVERS if entry.name == name).factory(**options)


def test_solver_entries_and_settings():
    assert [entry.name for entry in IKOL_SOLVERS] == ["ikol", "ikol-zero", "ikol-net"]
    for entry in IKOL_SOLVERS:
        assert entry.kind == ("learned" if entry.name == "ikol-net" else "optimizer")
        assert "u = 0.1" in entry.update_rule and "n = t x d" in entry.update_rule
        solver = entry.factory(max_iterations=300, damping=0.2, learning_rate=0.5)
        assert isinstance(solver, IKOLSolver) and solver.name == entry.name
        assert solver.params.max_iterations == 5 and solver.params.damping == 0.2 and solver.params.patience == 0
    with pytest.raises(ValueError, match="unknown IKOL twist 'net'"):
        IKOLParams(twist="net")
    with pytest.raises(ValueError, match="damping must be positive"):
        IKOLParams(damping=0.0)
