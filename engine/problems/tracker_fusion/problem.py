"""Tracker fusion (Wibergian learning, Sec. 4): one box from the boxes of 72 simulated trackers on a frame.

x: the box (x1, y1, x2, y2), its top-left and bottom-right corners in pixels of a 640x480 frame, (B, 4),
Euclidean. The observation is, per tracker, its box and the frame's index in its sequence (72, 5): the energy
weighs trackers by time, so the time travels with the boxes (a loaded observation needs nothing else, and the
pictures can draw the energy from the observation alone). Each problem is a frame of the simulation
(engine/problems/tracker_fusion/simulation.py): it holds that frame's tracker draws, so that forward(x) is what
the trackers would have reported had x been the true box, and its ground truth is the simulated box.

The energy (energy.py) is the configured one: untrained, the shipped trained weights of the partition, or a
weights file; it ignores the prediction.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

from ..spec import ArraySpec, Metric, bounded, check_config
from . import energy as fusion_energy
from .boxes import FRAME_HEIGHT, FRAME_WIDTH, corner_error, iou
from .simulation import NUM_TRACKERS, Draws, simulate, tracker_boxes
from .splits import PARTITIONS, SPLITS, best_tracker, shuffled, split_frames

PARAMETER_NAMES = ("x1", "y1", "x2", "y2")
MAX_FRAMES = 1_000_000
OBSERVATION = ArraySpec((NUM_TRACKERS, 5), "each tracker's box x1, y1, x2, y2 (pixels of a 640x480 frame) and "
                        "the frame's index in its sequence", max_items=MAX_FRAMES)
LOST_IOU = 0.5
"""An estimate whose IoU with the truth is below this counts as lost."""
METRICS = (
    Metric("iou", "IoU", "", "{:.3f}", ("mean",), lower_is_better=False),
    Metric("corner_error_px", "Corner err.", "px", "{:.1f}", ("mean", "median")),
    Metric("lost", "Lost", aggregates=("percent",)),
)


@dataclass(frozen=True)
class TrackerFusionConfig:
    """Which energy and which simulated frames."""

    energy: str = "trained"
    """The fusion energy's weights: untrained (equal widths, importance 1, no correction), trained (the shipped
    weights of --partition) or a file made by `feedbacklab train tracker-fusion --out FILE`."""
    partition: str = "sequences"
    """How the simulated frames are split into training and test: sequences (whole sequences to each) or frames
    (frames missing at random, the same sequences on both sides)."""
    split: str = "test"
    """The frames the problems are: train or test of --partition."""
    frame: int = bounded(0, 0, MAX_FRAMES)
    """The first problem's frame: its place among the split's frames in an order fixed by --simulation-seed (a
    batch takes the next ones)."""
    sequences: int = bounded(60, 3, 2000)
    """Simulated sequences of 80-240 frames (the 72 trackers are the same in every simulation)."""
    simulation_seed: int = bounded(0, 0, 2**31 - 1)
    """Seed of the simulated sequences and of the partition (the shipped weights were trained on seed 0's)."""

    def __post_init__(self) -> None:
        check_config(self)
        if self.partition not in PARTITIONS:
            raise ValueError(f"--partition {self.partition!r}: choose {' or '.join(PARTITIONS)}")
        if self.split not in SPLITS:
            raise ValueError(f"--split {self.split!r}: choose {' or '.join(SPLITS)}")
        if not self.energy.strip():
            raise ValueError("--energy: give untrained, trained or a weights file")


@dataclass(frozen=True)
class TrackerFusionProblem:
    """A batch of frames: their true boxes, tracker draws, the energy's weights and the best training tracker."""

    truth: torch.Tensor
    """(B, 4) the simulated boxes, pixels."""
    draws: Draws
    weights: fusion_energy.EnergyWeights
    best_tracker: int
    """The tracker of the best training IoU (the best-tracker solver's)."""
    config: TrackerFusionConfig = TrackerFusionConfig()
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    parameter_names = PARAMETER_NAMES
    observation_spec = OBSERVATION
    tangent_dim = 4

    @property
    def batch_size(self) -> int:
        return len(self.truth)

    def subset(self, index: torch.Tensor) -> "TrackerFusionProblem":
        index = index.to(self.truth.device)
        return replace(self, truth=self.truth[index], draws=self.draws.index(index))

    def with_weights(self, weights: fusion_energy.EnergyWeights) -> "TrackerFusionProblem":
        return replace(self, weights=weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 72, 5) the trackers' boxes had x been the truth, with the frame's time; differentiable."""
        if x.ndim != 2 or x.shape[1] != 4:
            raise ValueError(f"tracker-fusion boxes must have shape (B, 4): x1, y1, x2, y2, got {tuple(x.shape)}")
        boxes = tracker_boxes(x, self.draws)
        time = self.draws.time.to(x)[:, None, None].expand(-1, boxes.shape[1], 1)
        return torch.cat([boxes, time], dim=2)

    def forward_differentiable(self, x: torch.Tensor, **options: float) -> torch.Tensor:
        return self.forward(x)

    def energy(self, prediction: torch.Tensor, observation: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(B,) the fusion energy of boxes x given the observed trackers (the prediction is not used)."""
        return fusion_energy.energy(x, observation[..., :4], observation[:, 0, 4], self.weights)

    def residuals(self, x: torch.Tensor, observation: torch.Tensor) -> torch.Tensor:
        return fusion_energy.residuals(x, observation[..., :4], observation[:, 0, 4], self.weights)

    def metrics(self, x: torch.Tensor, prediction: torch.Tensor, observation: torch.Tensor,
                ground_truth: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Per item (B,), with ground truth: IoU, the corners' mean distance (pixels), lost (IoU < 0.5)."""
        if ground_truth is None:
            return {}
        overlap = iou(x, ground_truth)
        return {"iou": overlap, "corner_error_px": corner_error(x, ground_truth),
                "lost": (overlap < LOST_IOU).to(x.dtype)}

    def initial_estimate(self) -> torch.Tensor:
        """A 100-pixel box in the frame's centre: the problem knows nothing of the target before the observation
        (the paper's start, the lowest-energy RBF centre, is the rbf-centre solver's and the rbf+ chains')."""
        box = torch.tensor([FRAME_WIDTH / 2 - 50, FRAME_HEIGHT / 2 - 50, FRAME_WIDTH / 2 + 50, FRAME_HEIGHT / 2 + 50])
        return box.to(self.device).expand(self.batch_size, 4).clone()

    def sample_ground_truth(self, generator: torch.Generator) -> torch.Tensor:
        """(B, 4) the simulated boxes of the problems' frames (the frames are chosen by the config, not the
        generator: each frame's tracker draws belong to its own box)."""
        return self.truth.clone()

    def retract(self, x: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        return x + dx


def frames_problem(config: TrackerFusionConfig, index: torch.Tensor, device: torch.device | str = "cpu"
                   ) -> TrackerFusionProblem:
    """The problems of these frames (indices into the config's simulation), with the config's energy."""
    dataset = simulate(config.simulation_seed, config.sequences)
    weights = {name: value.to(device) for name, value in fusion_energy.load_weights(config.energy,
                                                                                     config.partition).items()}
    return TrackerFusionProblem(dataset.truth[index].to(device), dataset.draws.index(index).to(device), weights,
                                best_tracker(config.simulation_seed, config.sequences, config.partition), config,
                                torch.device(device))


def make_problem(config: TrackerFusionConfig, device: torch.device | str = "cpu",
                 batch_size: int | None = None) -> TrackerFusionProblem:
    """batch_size (default 1) frames of the config's split, from its --frame on (cycling over the split)."""
    order = shuffled(split_frames(simulate(config.simulation_seed, config.sequences), config.partition, config.split,
                                  config.simulation_seed), config.simulation_seed)
    return frames_problem(config, order[(config.frame + torch.arange(batch_size or 1)) % len(order)], device)
