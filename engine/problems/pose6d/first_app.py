"""Files of the first app, which held pose6d alone: its sessions (version 1) kept the mesh as two attached
arrays and the image size among the run settings, and its recent-file list named kinds without a problem."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..spec import FirstAppFiles


def _session_parts(settings: dict[str, Any], attachments: dict[str, np.ndarray], meta: dict[str, Any]
                   ) -> tuple[dict[str, Any], dict[str, tuple[str, str, dict[str, np.ndarray]]]]:
    config = {"image_size": settings.pop("image_size")} if "image_size" in settings else {}
    arrays = {"vertices": attachments["mesh_vertices"], "faces": attachments["mesh_faces"]}
    name = meta.get("mesh", "mesh")
    description = f"mesh {name}: {len(arrays['vertices'])} vertices, {len(arrays['faces'])} faces"
    return config, {"mesh": (name, description, arrays)}


FIRST_APP = FirstAppFiles(session_parts=_session_parts, recent_kinds=("mesh", "observation"))
