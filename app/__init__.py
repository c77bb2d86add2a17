"""The feedbacklab desktop app (Dear PyGui). It talks to the engine only through engine.worker's protocol."""
