"""The simulated trackers: deterministic, the trackers' boxes a function of the true box, a population fixed across
simulations, failures piling up with time; and the box helpers and partitions built on them."""
from __future__ import annotations

import torch

from engine.problems.tracker_fusion.boxes import corner_error, iou
from engine.problems.tracker_fusion.simulation import NUM_TRACKERS, TIERS, population, simulate, tracker_boxes
from engine.problems.tracker_fusion.splits import best_tracker, split_frames, tracker_ious


def test_simulation_is_deterministic_and_shaped():
    a, b = simulate(0, 4), simulate.__wrapped__(0, 4)
    n = len(a.truth)
    assert a.truth.shape == (n, 4) and a.draws.offset.shape == (n, NUM_TRACKERS, 4)
    assert a.draws.scale.shape == (n, NUM_TRACKERS, 2) and a.draws.failed.dtype == torch.bool
    torch.testing.assert_close(a.truth, b.truth)
    torch.testing.assert_close(a.draws.fixed, b.draws.fixed)
    assert a.draws.time.min() == 1 and set(a.sequence.tolist()) == {0, 1, 2, 3}
    assert (a.truth[:, 2:] > a.truth[:, :2]).all()


def test_sequences_do_not_depend_on_how_many_there_are_and_trackers_on_the_seed():
    few, more = simulate(3, 3), simulate(3, 5)
    torch.testing.assert_close(few.truth, more.truth[:len(few.truth)])
    assert population() is simulate(1, 3).population
    assert [population().tier.count(name) for name, _ in TIERS] == [count for _, count in TIERS]


def test_tracker_boxes_follow_the_truth_unless_failed():
    data = simulate(0, 3)
    boxes = tracker_boxes(data.truth, data.draws)
    moved = tracker_boxes(data.truth + 10.0, data.draws)
    shift = (moved - boxes)[..., 0]
    torch.testing.assert_close(shift[~data.draws.failed], torch.full_like(shift[~data.draws.failed], 10.0), atol=1e-3,
                               rtol=0)
    torch.testing.assert_close(shift[data.draws.failed], torch.zeros_like(shift[data.draws.failed]))


def test_failures_pile_up_and_quality_tiers_differ():
    data = simulate(0, 60)
    early, late = data.draws.time < 40, data.draws.time > 120
    assert data.draws.failed[late].float().mean() > 2 * data.draws.failed[early].float().mean()
    ious = tracker_ious(data, torch.arange(len(data.truth)))
    tier = population().tier
    by_tier = {name: ious[[k for k in range(NUM_TRACKERS) if tier[k] == name]].mean() for name, _ in TIERS}
    assert by_tier["good"] > by_tier["mediocre"] > by_tier["poor"]


def test_partitions_split_sequences_or_frames():
    data = simulate(0, 6)
    for partition in ("sequences", "frames"):
        train, test = (split_frames(data, partition, split, 0) for split in ("train", "test"))
        assert len(train) + len(test) == len(data.truth) and not set(train.tolist()) & set(test.tolist())
        shared = set(data.sequence[train].tolist()) & set(data.sequence[test].tolist())
        assert (not shared) if partition == "sequences" else shared
    assert 0 <= best_tracker(0, 6, "sequences") < NUM_TRACKERS


def test_iou_and_corner_error():
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    assert float(iou(a, a)) == 1.0 and float(iou(a, a + 20)) == 0.0
    assert abs(float(iou(a, torch.tensor([[5.0, 0.0, 15.0, 10.0]]))) - 1 / 3) < 1e-6
    assert float(iou(a, torch.tensor([[10.0, 10.0, 0.0, 0.0]]))) == 0.0  # corners swapped: no area
    assert float(corner_error(a, a + torch.tensor([3.0, 4.0, 0.0, 0.0]))) == 2.5
